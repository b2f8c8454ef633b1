#!/usr/bin/env python3
"""Compatibility suite: drives an idpool server with the real boto3 client.

Run against a server that is already up (scripts/test starts one):

    IDPOOL_ENDPOINT=http://127.0.0.1:4591 python3 compat/boto3_test.py [-v] [TestClass[.test_name] ...]

Only the standard library's unittest and boto3 are needed. The token tests
verify RS512 signatures against the server's JWKS with the first of PyJWT
(with cryptography), python-jose, authlib or jwcrypto that is importable, else
with the cryptography package's RSA primitives (boto3's Python usually has
it); with none of them test_signature_verifier is SKIPPED, and fails under
CI=true. The suite creates its own pools (names start with a per-run prefix)
and deletes them when it is done, so it can also run against a long-lived
server.

Layout: one TestCase class per group of operations, in the order of the
API reference: pools first, then, below the marker "Identity operations",
the identity flows (GetId, linking and merging, DescribeIdentity /
ListIdentities / UnlinkIdentity / DeleteIdentities, developer identities,
OpenID tokens, credentials and STS), built on IdentityCase's helpers; the AWS
CLI suite (compat/awscli_test.sh) has the main flows under the same names.
"""

import base64
import json
import os
import re
import sys
import time
import unittest
import urllib.request
import uuid

import boto3
import botocore
import botocore.config
import botocore.exceptions

ENDPOINT = os.environ.get("IDPOOL_ENDPOINT", "").rstrip("/")
# Under CI=true nothing may be skipped: a check that cannot run fails.
CI = os.environ.get("CI") == "true"
REGION = "us-east-1"
# The account a non-numeric access key id such as AKIDEXAMPLE acts in: the
# server's --default-account.
ACCOUNT = os.environ.get("IDPOOL_ACCOUNT", "000000000000")

# A prefix that tells this run's pools apart from any others on the server.
RUN = "compat-boto3-" + uuid.uuid4().hex[:8]

POOL_ID = re.compile(r"^us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
REQUEST_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Configuration shared by the flows: one user pool app client, and the
# role-mapping key AWS derives from it ("<ProviderName>:<ClientId>").
USER_POOL = "cognito-idp.us-east-1.amazonaws.com/us-east-1_Compat1"
CLIENT_ID = "compatclient1"
USER_POOL_KEY = USER_POOL + ":" + CLIENT_ID
OIDC_ARN = "arn:aws:iam::%s:oidc-provider/oidc.compat.example.com" % ACCOUNT
SAML_ARN = "arn:aws:iam::%s:saml-provider/compat-saml" % ACCOUNT
AUTH_ROLE = "arn:aws:iam::%s:role/Compat_Auth_Role" % ACCOUNT
UNAUTH_ROLE = "arn:aws:iam::%s:role/Compat_Unauth_Role" % ACCOUNT
ADMIN_ROLE = "arn:aws:iam::%s:role/Compat_Admin_Role" % ACCOUNT
# A well-formed pool id that no server ever allocates (not a v4 UUID).
MISSING_POOL = "us-east-1:00000000-0000-0000-0000-000000000000"


def make_client():
    """make_client returns a boto3 client configured as a user would."""
    return boto3.client(
        "cognito-identity",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
    )


def pool_arn(pool_id):
    return "arn:aws:cognito-identity:%s:%s:identitypool/%s" % (REGION, ACCOUNT, pool_id)


def body(resp):
    """body is a response without boto3's ResponseMetadata."""
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


class CompatCase(unittest.TestCase):
    """CompatCase holds the client and the helpers every flow uses."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.client = make_client()
        cls.retried = []
        # boto3 retries throttling and 5xx answers by itself; a call that
        # needed a retry hides a server failure, so every test checks that
        # none did.
        cls.client.meta.events.register("after-call.cognito-identity", cls._note_retries)

    @classmethod
    def _note_retries(cls, parsed, model, **_):
        attempts = parsed.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        if attempts:
            cls.retried.append("%s (%d retries)" % (model.name, attempts))

    def tearDown(self):
        retried, self.retried[:] = list(self.retried), []
        self.assertEqual(retried, [], "calls that boto3 had to retry")

    def create_pool(self, suffix, **fields):
        """create_pool creates a pool that is deleted when the test ends."""
        fields.setdefault("AllowUnauthenticatedIdentities", False)
        resp = self.client.create_identity_pool(IdentityPoolName="%s-%s" % (RUN, suffix), **fields)
        self.addCleanup(self.delete_quietly, resp["IdentityPoolId"])
        return resp

    def delete_quietly(self, pool_id):
        try:
            self.client.delete_identity_pool(IdentityPoolId=pool_id)
        except self.client.exceptions.ResourceNotFoundException:
            pass

    def assertError(self, cm, code, message=None):
        """assertError checks a ClientError caught by assertRaises: its code,
        its exact message, a 400 status, a request id and no retries."""
        err = cm.exception
        self.assertIsInstance(err, botocore.exceptions.ClientError)
        self.assertEqual(err.response["Error"]["Code"], code)
        if message is not None:
            self.assertEqual(err.response["Error"]["Message"], message)
        meta = err.response["ResponseMetadata"]
        self.assertEqual(meta["HTTPStatusCode"], 400)
        self.assertRegex(meta.get("RequestId", ""), REQUEST_ID)
        self.assertEqual(meta["RetryAttempts"], 0, "a client error must not be retried")

    def assertPoolNotFound(self, cm, pool_id):
        self.assertIsInstance(cm.exception, self.client.exceptions.ResourceNotFoundException)
        self.assertError(cm, "ResourceNotFoundException", "IdentityPool '%s' not found." % pool_id)


class PoolTest(CompatCase):
    """CreateIdentityPool, DescribeIdentityPool, UpdateIdentityPool,
    DeleteIdentityPool."""

    def test_create_describe_update_delete(self):
        c = self.client
        created = self.create_pool(
            "full",
            AllowUnauthenticatedIdentities=True,
            AllowClassicFlow=True,
            SupportedLoginProviders={
                "graph.facebook.com": "7346241598935552",
                "accounts.google.com": "123456789012-compat.apps.googleusercontent.com",
            },
            DeveloperProviderName="login.compat.example",
            OpenIdConnectProviderARNs=[OIDC_ARN],
            CognitoIdentityProviders=[
                {"ProviderName": USER_POOL, "ClientId": CLIENT_ID, "ServerSideTokenCheck": True},
            ],
            SamlProviderARNs=[SAML_ARN],
            IdentityPoolTags={"team": "compat", "env": "test"},
        )
        pool_id = created["IdentityPoolId"]
        self.assertRegex(pool_id, POOL_ID)
        self.assertRegex(created["ResponseMetadata"]["RequestId"], REQUEST_ID)
        want = {
            "IdentityPoolId": pool_id,
            "IdentityPoolName": RUN + "-full",
            "AllowUnauthenticatedIdentities": True,
            "AllowClassicFlow": True,
            "SupportedLoginProviders": {
                "graph.facebook.com": "7346241598935552",
                "accounts.google.com": "123456789012-compat.apps.googleusercontent.com",
            },
            "DeveloperProviderName": "login.compat.example",
            "OpenIdConnectProviderARNs": [OIDC_ARN],
            "CognitoIdentityProviders": [
                {"ProviderName": USER_POOL, "ClientId": CLIENT_ID, "ServerSideTokenCheck": True},
            ],
            "SamlProviderARNs": [SAML_ARN],
            "IdentityPoolTags": {"team": "compat", "env": "test"},
        }
        self.assertEqual(body(created), want)
        self.assertEqual(body(c.describe_identity_pool(IdentityPoolId=pool_id)), want)

        # UpdateIdentityPool replaces the configuration: what it leaves out
        # (OIDC and SAML providers here) is removed. Project choices: an
        # omitted DeveloperProviderName keeps the stored one (it cannot be
        # unset) and omitted IdentityPoolTags leave the tags alone.
        updated = c.update_identity_pool(
            IdentityPoolId=pool_id,
            IdentityPoolName=RUN + "-renamed",
            AllowUnauthenticatedIdentities=False,
            AllowClassicFlow=False,
            SupportedLoginProviders={"www.amazon.com": "amzn1.application.compat"},
            CognitoIdentityProviders=[{"ProviderName": USER_POOL, "ClientId": CLIENT_ID, "ServerSideTokenCheck": False}],
        )
        want = {
            "IdentityPoolId": pool_id,
            "IdentityPoolName": RUN + "-renamed",
            "AllowUnauthenticatedIdentities": False,
            "AllowClassicFlow": False,
            "SupportedLoginProviders": {"www.amazon.com": "amzn1.application.compat"},
            "DeveloperProviderName": "login.compat.example",
            "CognitoIdentityProviders": [
                {"ProviderName": USER_POOL, "ClientId": CLIENT_ID, "ServerSideTokenCheck": False},
            ],
            "IdentityPoolTags": {"team": "compat", "env": "test"},
        }
        self.assertEqual(body(updated), want)
        self.assertEqual(body(c.describe_identity_pool(IdentityPoolId=pool_id)), want)

        deleted = c.delete_identity_pool(IdentityPoolId=pool_id)
        self.assertEqual(body(deleted), {})
        with self.assertRaises(c.exceptions.ResourceNotFoundException) as cm:
            c.describe_identity_pool(IdentityPoolId=pool_id)
        self.assertPoolNotFound(cm, pool_id)
        with self.assertRaises(c.exceptions.ResourceNotFoundException) as cm:
            c.delete_identity_pool(IdentityPoolId=pool_id)
        self.assertPoolNotFound(cm, pool_id)

    def test_minimal_pool_omits_unset_members(self):
        created = self.create_pool("minimal")
        # Unset lists and maps are left out; tags are always there.
        self.assertEqual(body(created), {
            "IdentityPoolId": created["IdentityPoolId"],
            "IdentityPoolName": RUN + "-minimal",
            "AllowUnauthenticatedIdentities": False,
            "IdentityPoolTags": {},
        })

    def test_update_unknown_pool(self):
        c = self.client
        with self.assertRaises(c.exceptions.ResourceNotFoundException) as cm:
            c.update_identity_pool(IdentityPoolId=MISSING_POOL, IdentityPoolName="x", AllowUnauthenticatedIdentities=False)
        self.assertPoolNotFound(cm, MISSING_POOL)


class ListPoolsTest(CompatCase):
    """ListIdentityPools through boto3's paginator."""

    def test_paginator_page_size(self):
        ids = [self.create_pool("list-%d" % i)["IdentityPoolId"] for i in range(5)]
        pages = list(self.client.get_paginator("list_identity_pools").paginate(PaginationConfig={"PageSize": 2}))
        self.assertGreaterEqual(len(pages), 3)
        for i, page in enumerate(pages):
            self.assertLessEqual(len(page["IdentityPools"]), 2)
            self.assertRegex(page["ResponseMetadata"]["RequestId"], REQUEST_ID)
            if i < len(pages) - 1:
                self.assertTrue(page.get("NextToken"), "page %d of %d has no NextToken" % (i + 1, len(pages)))
        self.assertNotIn("NextToken", pages[-1])
        listed = [p for page in pages for p in page["IdentityPools"]]
        ours = [p for p in listed if p["IdentityPoolName"].startswith(RUN + "-list-")]
        # Pools come back once each, in creation order, as {Id, Name}.
        self.assertEqual(ours, [{"IdentityPoolId": pid, "IdentityPoolName": "%s-list-%d" % (RUN, i)} for i, pid in enumerate(ids)])
        self.assertEqual(len({p["IdentityPoolId"] for p in listed}), len(listed), "a pool was listed twice")

    def test_paginator_resumes_from_starting_token(self):
        # Five pools at least, so that pages of 2 hold more than 3 items.
        for i in range(5):
            self.create_pool("resume-%d" % i)
        paginator = self.client.get_paginator("list_identity_pools")
        everything = paginator.paginate(PaginationConfig={"PageSize": 2}).build_full_result()["IdentityPools"]
        # MaxItems 3 with pages of 2 cuts the second page in the middle, so
        # boto3 must resume inside a server page from its NextToken.
        first = paginator.paginate(PaginationConfig={"PageSize": 2, "MaxItems": 3}).build_full_result()
        self.assertEqual(first["IdentityPools"], everything[:3])
        self.assertIn("NextToken", first)
        rest = paginator.paginate(PaginationConfig={"PageSize": 2, "StartingToken": first["NextToken"]}).build_full_result()
        self.assertEqual(first["IdentityPools"] + rest["IdentityPools"], everything)

    def test_max_results_call(self):
        self.create_pool("single")
        resp = self.client.list_identity_pools(MaxResults=60)
        self.assertIsInstance(resp["IdentityPools"], list)
        self.assertIn(RUN + "-single", [p["IdentityPoolName"] for p in resp["IdentityPools"]])


class RolesTest(CompatCase):
    """SetIdentityPoolRoles and GetIdentityPoolRoles."""

    RULES_MAPPING = {
        "Type": "Rules",
        "AmbiguousRoleResolution": "AuthenticatedRole",
        "RulesConfiguration": {
            "Rules": [
                {"Claim": "cognito:groups", "MatchType": "Contains", "Value": "admin", "RoleARN": ADMIN_ROLE},
                {"Claim": "custom:tier", "MatchType": "Equals", "Value": "gold", "RoleARN": AUTH_ROLE},
            ],
        },
    }

    def setUp(self):
        self.pool_id = self.create_pool(
            "roles",
            CognitoIdentityProviders=[{"ProviderName": USER_POOL, "ClientId": CLIENT_ID}],
        )["IdentityPoolId"]

    def test_rules_role_mapping(self):
        c = self.client
        fresh = body(c.get_identity_pool_roles(IdentityPoolId=self.pool_id))
        self.assertEqual(fresh["IdentityPoolId"], self.pool_id)
        self.assertEqual(fresh.get("Roles", {}), {})
        self.assertNotIn("RoleMappings", fresh)

        roles = {"authenticated": AUTH_ROLE, "unauthenticated": UNAUTH_ROLE}
        resp = c.set_identity_pool_roles(IdentityPoolId=self.pool_id, Roles=roles, RoleMappings={USER_POOL_KEY: self.RULES_MAPPING})
        self.assertEqual(body(resp), {})
        self.assertEqual(body(c.get_identity_pool_roles(IdentityPoolId=self.pool_id)), {
            "IdentityPoolId": self.pool_id,
            "Roles": roles,
            "RoleMappings": {USER_POOL_KEY: self.RULES_MAPPING},
        })

        # The call replaces roles and mappings as a whole.
        token = {"Type": "Token", "AmbiguousRoleResolution": "Deny"}
        c.set_identity_pool_roles(IdentityPoolId=self.pool_id, Roles={"authenticated": AUTH_ROLE}, RoleMappings={USER_POOL_KEY: token})
        self.assertEqual(body(c.get_identity_pool_roles(IdentityPoolId=self.pool_id)), {
            "IdentityPoolId": self.pool_id,
            "Roles": {"authenticated": AUTH_ROLE},
            "RoleMappings": {USER_POOL_KEY: token},
        })
        c.set_identity_pool_roles(IdentityPoolId=self.pool_id, Roles={"authenticated": AUTH_ROLE})
        self.assertNotIn("RoleMappings", c.get_identity_pool_roles(IdentityPoolId=self.pool_id))

    def test_bad_role_mapping_key(self):
        c = self.client
        # The provider name alone, without ":<ClientId>", names no provider.
        for key in [USER_POOL, "cognito-idp.us-east-1.amazonaws.com/us-east-1_Other:otherclient"]:
            with self.subTest(key=key):
                with self.assertRaises(c.exceptions.InvalidParameterException) as cm:
                    c.set_identity_pool_roles(
                        IdentityPoolId=self.pool_id,
                        Roles={"authenticated": AUTH_ROLE},
                        RoleMappings={key: {"Type": "Token", "AmbiguousRoleResolution": "Deny"}},
                    )
                self.assertError(cm, "InvalidParameterException",
                                 "%s is not a valid RoleMapping ProviderName or is not a configured provider." % key)
        # A refused call changes nothing.
        self.assertEqual(c.get_identity_pool_roles(IdentityPoolId=self.pool_id).get("Roles", {}), {})

    def test_unknown_pool(self):
        c = self.client
        with self.assertRaises(c.exceptions.ResourceNotFoundException) as cm:
            c.get_identity_pool_roles(IdentityPoolId=MISSING_POOL)
        self.assertPoolNotFound(cm, MISSING_POOL)
        with self.assertRaises(c.exceptions.ResourceNotFoundException) as cm:
            c.set_identity_pool_roles(IdentityPoolId=MISSING_POOL, Roles={"authenticated": AUTH_ROLE})
        self.assertPoolNotFound(cm, MISSING_POOL)


class PrincipalTagTest(CompatCase):
    """SetPrincipalTagAttributeMap and GetPrincipalTagAttributeMap."""

    def test_principal_tag_map(self):
        c = self.client
        pool_id = self.create_pool(
            "ptags",
            CognitoIdentityProviders=[{"ProviderName": USER_POOL, "ClientId": CLIENT_ID}],
        )["IdentityPoolId"]
        tags = {"username": "sub", "client": "aud"}
        resp = c.set_principal_tag_attribute_map(
            IdentityPoolId=pool_id, IdentityProviderName=USER_POOL, UseDefaults=False, PrincipalTags=tags)
        want = {"IdentityPoolId": pool_id, "IdentityProviderName": USER_POOL, "UseDefaults": False, "PrincipalTags": tags}
        self.assertEqual(body(resp), want)
        self.assertEqual(body(c.get_principal_tag_attribute_map(IdentityPoolId=pool_id, IdentityProviderName=USER_POOL)), want)

        # Setting again replaces the previous map.
        c.set_principal_tag_attribute_map(IdentityPoolId=pool_id, IdentityProviderName=USER_POOL, UseDefaults=True)
        got = body(c.get_principal_tag_attribute_map(IdentityPoolId=pool_id, IdentityProviderName=USER_POOL))
        self.assertEqual(got["UseDefaults"], True)
        self.assertEqual(got.get("PrincipalTags", {}), {})

    def test_unknown_pool(self):
        c = self.client
        with self.assertRaises(c.exceptions.ResourceNotFoundException) as cm:
            c.get_principal_tag_attribute_map(IdentityPoolId=MISSING_POOL, IdentityProviderName=USER_POOL)
        self.assertPoolNotFound(cm, MISSING_POOL)


class TagsTest(CompatCase):
    """TagResource, UntagResource, ListTagsForResource."""

    def test_tag_untag_list(self):
        c = self.client
        pool_id = self.create_pool("tags", IdentityPoolTags={"team": "compat"})["IdentityPoolId"]
        arn = pool_arn(pool_id)
        self.assertEqual(body(c.list_tags_for_resource(ResourceArn=arn)), {"Tags": {"team": "compat"}})

        self.assertEqual(body(c.tag_resource(ResourceArn=arn, Tags={"env": "test", "team": "identity"})), {})
        self.assertEqual(c.list_tags_for_resource(ResourceArn=arn)["Tags"], {"env": "test", "team": "identity"})
        # DescribeIdentityPool shows the same tags.
        self.assertEqual(c.describe_identity_pool(IdentityPoolId=pool_id)["IdentityPoolTags"], {"env": "test", "team": "identity"})

        # Keys that are not there are ignored.
        self.assertEqual(body(c.untag_resource(ResourceArn=arn, TagKeys=["team", "absent"])), {})
        self.assertEqual(c.list_tags_for_resource(ResourceArn=arn)["Tags"], {"env": "test"})
        c.untag_resource(ResourceArn=arn, TagKeys=["env"])
        self.assertEqual(c.list_tags_for_resource(ResourceArn=arn)["Tags"], {})

    def test_unknown_pool(self):
        c = self.client
        arn = pool_arn(MISSING_POOL)
        for name, call in [
            ("ListTagsForResource", lambda: c.list_tags_for_resource(ResourceArn=arn)),
            ("TagResource", lambda: c.tag_resource(ResourceArn=arn, Tags={"k": "v"})),
            ("UntagResource", lambda: c.untag_resource(ResourceArn=arn, TagKeys=["k"])),
        ]:
            with self.subTest(op=name):
                with self.assertRaises(c.exceptions.ResourceNotFoundException) as cm:
                    call()
                self.assertPoolNotFound(cm, MISSING_POOL)


class ErrorMappingTest(CompatCase):
    """How errors reach boto3: modeled exception classes, framework codes,
    exact messages, request ids."""

    def test_resource_not_found_is_modeled_exception(self):
        c = self.client
        with self.assertRaises(c.exceptions.ResourceNotFoundException) as cm:
            c.describe_identity_pool(IdentityPoolId=MISSING_POOL)
        self.assertPoolNotFound(cm, MISSING_POOL)
        self.assertEqual(str(cm.exception),
                         "An error occurred (ResourceNotFoundException) when calling the DescribeIdentityPool "
                         "operation: IdentityPool '%s' not found." % MISSING_POOL)

    def test_validation_exception_for_bad_pool_id(self):
        c = self.client
        # "bad" passes botocore's client-side checks (it validates minimum
        # lengths, not patterns), so the server must refuse it.
        for name, call in [
            ("DescribeIdentityPool", lambda: c.describe_identity_pool(IdentityPoolId="bad")),
            ("DeleteIdentityPool", lambda: c.delete_identity_pool(IdentityPoolId="bad")),
            ("GetIdentityPoolRoles", lambda: c.get_identity_pool_roles(IdentityPoolId="bad")),
        ]:
            with self.subTest(op=name):
                with self.assertRaises(botocore.exceptions.ClientError) as cm:
                    call()
                self.assertError(cm, "ValidationException",
                                 "1 validation error detected: Value 'bad' at 'identityPoolId' failed to satisfy "
                                 "constraint: Member must satisfy regular expression pattern: [\\w-]+:[0-9a-f-]+")

    def test_request_ids(self):
        c = self.client
        ids = set()
        for _ in range(3):
            meta = c.list_identity_pools(MaxResults=1)["ResponseMetadata"]
            self.assertRegex(meta.get("RequestId", ""), REQUEST_ID)
            self.assertEqual(meta["HTTPHeaders"].get("x-amzn-requestid"), meta["RequestId"])
            ids.add(meta["RequestId"])
        self.assertEqual(len(ids), 3, "request ids repeat: %s" % ids)


# ---------------------------------------------------------------------------
# Identity operations (GetId, GetCredentialsForIdentity, GetOpenIdToken, ...),
# one IdentityCase class per group; compat/awscli_test.sh has the main flows
# too (identities, developer, credentials).
# ---------------------------------------------------------------------------

# Providers of the identity flows. In idpool's default trust mode a
# Facebook access token is opaque and stands for the user itself, and a
# user pool ID token is read without checking its signature, so the flows
# make their own.
FACEBOOK = "graph.facebook.com"
FACEBOOK_APP = "app"
DEVELOPER = "login.compat.example"
COGNITO = "cognito-identity.amazonaws.com"
USER_POOL_ISSUER = "https://" + USER_POOL
# Identity ids are UUIDv7 (time-ordered), pool ids UUIDv4.
IDENTITY_ID = re.compile(r"^us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

# AWS's refusal texts (docs/behaviour.md §11) and idpool's where AWS's are
# not known (docs/decisions.md).
MSG_UNAUTHENTICATED = "Unauthenticated access is not supported for this identity pool."
MSG_LOGINS_MISMATCH = "Logins don't match. Please include at least one valid login for this identity or identity pool."
MSG_CLASSIC_FLOW = "Basic (classic) flow is not enabled, please use enhanced flow."
MSG_DEVELOPER_PROVIDER = "This identity pool does not support the specified developer provider"


def forbidden(identity_id):
    return "Access to Identity '%s' is forbidden." % identity_id


def identity_not_found(identity_id):
    return "Identity '%s' not found." % identity_id


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def user_pool_token(sub, **claims):
    """user_pool_token is an unsigned-looking user pool ID token for sub:
    idpool's trust mode checks iss, aud, sub and exp but not the signature."""
    now = int(time.time())
    payload = {"sub": sub, "iss": USER_POOL_ISSUER, "aud": CLIENT_ID, "token_use": "id",
               "cognito:username": sub, "iat": now, "exp": now + 3600}
    payload.update(claims)
    header = {"alg": "RS256", "kid": "compat-fake", "typ": "JWT"}
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(payload).encode()), b64url(b"not a signature")])


def facebook_token(name):
    """facebook_token is an opaque Facebook access token of one user of this
    run."""
    return "EAAB-%s-%s" % (RUN, name)


def get_json(path):
    """get_json fetches a document the server publishes over plain GET."""
    with urllib.request.urlopen(ENDPOINT + path, timeout=10) as resp:
        if resp.status != 200:
            raise AssertionError("GET %s: status %d" % (path, resp.status))
        return resp.headers.get("Content-Type", ""), json.loads(resp.read())


# JWS verification with the first JOSE library this Python has; without one,
# RS512 is checked with the cryptography package's RSA primitives. Each
# verifier takes (token, jwk, jwks) and returns the verified claims, or
# raises on a bad signature. Claims (aud, exp, ...) are checked by the tests
# themselves, so the verifiers are told not to check them.


def _verify_pyjwt(token, jwk, jwks):
    import jwt
    key = jwt.PyJWK.from_dict(jwk)
    return jwt.decode(token, key.key, algorithms=["RS512"],
                      options={"verify_aud": False, "verify_exp": False, "verify_iat": False, "verify_nbf": False})


def _verify_python_jose(token, jwk, jwks):
    from jose import jwt as jose_jwt
    return jose_jwt.decode(token, jwks, algorithms=["RS512"],
                           options={"verify_aud": False, "verify_exp": False, "verify_iat": False, "verify_at_hash": False})


def _verify_authlib(token, jwk, jwks):
    from authlib.jose import JsonWebKey, JsonWebToken
    return dict(JsonWebToken(["RS512"]).decode(token, JsonWebKey.import_key_set(jwks)))


def _verify_jwcrypto(token, jwk, jwks):
    from jwcrypto import jwk as jwc_jwk
    from jwcrypto import jws as jwc_jws
    sig = jwc_jws.JWS()
    sig.deserialize(token)
    sig.verify(jwc_jwk.JWK(**jwk), alg="RS512")
    return json.loads(sig.payload)


def _verify_cryptography(token, jwk, jwks):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    n = int.from_bytes(b64url_decode(jwk["n"]), "big")
    e = int.from_bytes(b64url_decode(jwk["e"]), "big")
    head, payload, signature = token.split(".")
    # RS512 is RSASSA-PKCS1-v1_5 with SHA-512 (RFC 7518 §3.3).
    rsa.RSAPublicNumbers(e, n).public_key().verify(
        b64url_decode(signature), (head + "." + payload).encode("ascii"), padding.PKCS1v15(), hashes.SHA512())
    return json.loads(b64url_decode(payload))


def find_verifier():
    """find_verifier returns (name, verify) for the first usable library, or
    (None, reason)."""
    candidates = [
        ("PyJWT", ("jwt", "cryptography"), _verify_pyjwt),
        ("python-jose", ("jose",), _verify_python_jose),
        ("authlib", ("authlib.jose",), _verify_authlib),
        ("jwcrypto", ("jwcrypto.jws",), _verify_jwcrypto),
        ("cryptography (RSA PKCS#1 v1.5 + SHA-512 by hand)", ("cryptography.hazmat.primitives.asymmetric.rsa",), _verify_cryptography),
    ]
    for name, modules, verify in candidates:
        try:
            for m in modules:
                __import__(m)
        except ImportError:
            continue
        if name == "PyJWT":
            import jwt
            # Another package also installs a module named jwt; PyJWT 2 has PyJWK.
            if not hasattr(jwt, "PyJWK"):
                continue
        return name, verify
    return None, ("no JOSE library (PyJWT with cryptography, python-jose, authlib, jwcrypto) "
                  "nor the cryptography package is importable by " + sys.executable)


VERIFIER_NAME, VERIFY = find_verifier()


class IdentityCase(CompatCase):
    """IdentityCase adds an app's client (unsigned, as a browser or phone
    app calls the public operations) and helpers for identities."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.app = boto3.client(
            "cognito-identity", endpoint_url=ENDPOINT, region_name=REGION,
            config=botocore.config.Config(signature_version=botocore.UNSIGNED))
        cls.app.meta.events.register("after-call.cognito-identity", cls._note_retries)

    def sts(self, creds=None, unsigned=False):
        """sts is a boto3 STS client on the server: with minted credentials
        (a GetCredentialsForIdentity Credentials or an STS Credentials
        member), unsigned, or with the suite's long-term key."""
        kwargs = {"endpoint_url": ENDPOINT, "region_name": REGION}
        if unsigned:
            kwargs["config"] = botocore.config.Config(signature_version=botocore.UNSIGNED)
        elif creds is not None:
            kwargs.update(aws_access_key_id=creds["AccessKeyId"],
                          aws_secret_access_key=creds.get("SecretKey") or creds["SecretAccessKey"],
                          aws_session_token=creds["SessionToken"])
        else:
            kwargs.update(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
        client = boto3.client("sts", **kwargs)
        client.meta.events.register("after-call.sts", self._note_retries)
        return client

    def identity_pool(self, suffix, **fields):
        """identity_pool creates a pool with guests, a Facebook app, the user
        pool client and the developer provider; fields override."""
        config = {
            "AllowUnauthenticatedIdentities": True,
            "SupportedLoginProviders": {FACEBOOK: FACEBOOK_APP},
            "CognitoIdentityProviders": [{"ProviderName": USER_POOL, "ClientId": CLIENT_ID}],
            "DeveloperProviderName": DEVELOPER,
        }
        config.update(fields)
        return self.create_pool(suffix, **config)["IdentityPoolId"]

    def get_id(self, pool_id, logins=None):
        kwargs = {"IdentityPoolId": pool_id}
        if logins is not None:
            kwargs["Logins"] = logins
        resp = self.app.get_id(**kwargs)
        self.assertEqual(set(body(resp)), {"IdentityId"})
        self.assertRegex(resp["IdentityId"], IDENTITY_ID)
        return resp["IdentityId"]

    def linked(self, identity_id):
        """linked lists the provider names DescribeIdentity shows."""
        return sorted(self.client.describe_identity(IdentityId=identity_id).get("Logins", []))

    def list_identities(self, pool_id, page_size, hide_disabled=False):
        """list_identities pages by hand through ListIdentities and returns
        the pages."""
        pages, token = [], None
        while True:
            kwargs = {"IdentityPoolId": pool_id, "MaxResults": page_size, "HideDisabled": hide_disabled}
            if token:
                kwargs["NextToken"] = token
            page = self.client.list_identities(**kwargs)
            self.assertEqual(page["IdentityPoolId"], pool_id)
            self.assertLessEqual(len(page["Identities"]), page_size)
            pages.append(page)
            token = page.get("NextToken")
            if not token:
                return pages
            self.assertLess(len(pages), 100, "ListIdentities does not stop paging")


class GetIdTest(IdentityCase):
    """GetId: guests, public-provider logins, user pool logins."""

    def test_guest_gets_a_new_identity_per_call(self):
        pool_id = self.identity_pool("getid-guest")
        ids = [self.get_id(pool_id) for _ in range(3)]
        self.assertEqual(len(set(ids)), 3, "GetId without logins must create a new guest each time: %s" % ids)
        # The signed client gets guests too.
        self.assertRegex(self.client.get_id(IdentityPoolId=pool_id, AccountId=ACCOUNT)["IdentityId"], IDENTITY_ID)
        d = self.client.describe_identity(IdentityId=ids[0])
        self.assertEqual(d["IdentityId"], ids[0])
        self.assertNotIn("Logins", d, "a guest has no logins")

    def test_guest_refused_without_unauthenticated_access(self):
        pool_id = self.identity_pool("getid-noguest", AllowUnauthenticatedIdentities=False)
        with self.assertRaises(self.app.exceptions.NotAuthorizedException) as cm:
            self.app.get_id(IdentityPoolId=pool_id)
        self.assertError(cm, "NotAuthorizedException", MSG_UNAUTHENTICATED)
        # Logins are still welcome.
        self.get_id(pool_id, {FACEBOOK: facebook_token("noguest")})

    def test_facebook_login_same_user_same_identity(self):
        pool_id = self.identity_pool("getid-facebook")
        first = self.get_id(pool_id, {FACEBOOK: facebook_token("alice")})
        self.assertEqual(self.get_id(pool_id, {FACEBOOK: facebook_token("alice")}), first)
        self.assertNotEqual(self.get_id(pool_id, {FACEBOOK: facebook_token("bob")}), first)
        self.assertEqual(self.linked(first), [FACEBOOK])

    def test_user_pool_login(self):
        pool_id = self.identity_pool("getid-userpool")
        sub = str(uuid.uuid4())
        first = self.get_id(pool_id, {USER_POOL: user_pool_token(sub)})
        # A fresh token of the same user (another iat) is the same identity.
        self.assertEqual(self.get_id(pool_id, {USER_POOL: user_pool_token(sub, iat=int(time.time()) - 5)}), first)
        self.assertEqual(self.linked(first), [USER_POOL])
        # A token for another app client of the user pool is not accepted.
        with self.assertRaises(self.app.exceptions.NotAuthorizedException) as cm:
            self.app.get_id(IdentityPoolId=pool_id, Logins={USER_POOL: user_pool_token(sub, aud="otherclient")})
        self.assertError(cm, "NotAuthorizedException", "Token is not from a supported provider of this identity pool.")

    def test_unknown_pool(self):
        with self.assertRaises(self.app.exceptions.ResourceNotFoundException) as cm:
            self.app.get_id(IdentityPoolId=MISSING_POOL)
        self.assertError(cm, "ResourceNotFoundException", "IdentityPool '%s' not found." % MISSING_POOL)


class LinkMergeTest(IdentityCase):
    """Linking logins to one identity and merging identities (GetId,
    GetOpenIdToken)."""

    def test_link_two_logins(self):
        pool_id = self.identity_pool("link")
        fb, up = facebook_token("linker"), user_pool_token(str(uuid.uuid4()))
        identity = self.get_id(pool_id, {FACEBOOK: fb})
        # GetOpenIdToken naming the identity with its login and a new one
        # links the new one.
        resp = self.app.get_open_id_token(IdentityId=identity, Logins={FACEBOOK: fb, USER_POOL: up})
        self.assertEqual(resp["IdentityId"], identity)
        self.assertEqual(self.linked(identity), sorted([FACEBOOK, USER_POOL]))
        # Either login now finds the identity.
        self.assertEqual(self.get_id(pool_id, {USER_POOL: up}), identity)
        self.assertEqual(self.get_id(pool_id, {FACEBOOK: fb}), identity)
        # Both at once on a fresh pair: one new identity with both.
        fb2, up2 = facebook_token("pair"), user_pool_token(str(uuid.uuid4()))
        pair = self.get_id(pool_id, {FACEBOOK: fb2, USER_POOL: up2})
        self.assertNotEqual(pair, identity)
        self.assertEqual(self.linked(pair), sorted([FACEBOOK, USER_POOL]))
        # An authenticated identity must be proven by one of its logins.
        with self.assertRaises(self.app.exceptions.NotAuthorizedException) as cm:
            self.app.get_open_id_token(IdentityId=identity)
        self.assertError(cm, "NotAuthorizedException", MSG_LOGINS_MISMATCH)

    def test_guest_signing_in_with_a_known_login_is_merged(self):
        pool_id = self.identity_pool("merge")
        fb = facebook_token("known")
        known = self.get_id(pool_id, {FACEBOOK: fb})
        guest = self.get_id(pool_id)
        self.assertNotEqual(guest, known)
        # The guest signs in: the identity that already has the login wins
        # and its id comes back.
        resp = self.app.get_open_id_token(IdentityId=guest, Logins={FACEBOOK: fb})
        self.assertEqual(resp["IdentityId"], known)
        # The guest is disabled: an app that keeps the old id is refused...
        for name, call in [
            ("GetOpenIdToken", lambda: self.app.get_open_id_token(IdentityId=guest)),
            ("GetCredentialsForIdentity", lambda: self.app.get_credentials_for_identity(IdentityId=guest)),
        ]:
            with self.subTest(op=name):
                with self.assertRaises(self.app.exceptions.NotAuthorizedException) as cm:
                    call()
                self.assertError(cm, "NotAuthorizedException", forbidden(guest))
        # ...and the pool lists it as disabled (HideDisabled leaves it out).
        everything = [i["IdentityId"] for p in self.list_identities(pool_id, 60) for i in p["Identities"]]
        enabled = [i["IdentityId"] for p in self.list_identities(pool_id, 60, hide_disabled=True) for i in p["Identities"]]
        self.assertEqual(sorted(everything), sorted([known, guest]))
        self.assertEqual(enabled, [known])

    def test_guest_signing_in_with_a_new_login_keeps_its_id(self):
        pool_id = self.identity_pool("upgrade")
        guest = self.get_id(pool_id)
        up = user_pool_token(str(uuid.uuid4()))
        self.assertEqual(self.app.get_open_id_token(IdentityId=guest, Logins={USER_POOL: up})["IdentityId"], guest)
        self.assertEqual(self.linked(guest), [USER_POOL])
        self.assertEqual(self.get_id(pool_id, {USER_POOL: up}), guest)


class IdentityAdminTest(IdentityCase):
    """DescribeIdentity, ListIdentities, UnlinkIdentity, DeleteIdentities."""

    def test_describe_identity(self):
        pool_id = self.identity_pool("describe")
        before = time.time()
        identity = self.get_id(pool_id, {FACEBOOK: facebook_token("described")})
        d = body(self.client.describe_identity(IdentityId=identity))
        self.assertEqual(set(d), {"IdentityId", "Logins", "CreationDate", "LastModifiedDate"})
        self.assertEqual(d["IdentityId"], identity)
        self.assertEqual(d["Logins"], [FACEBOOK])
        # boto3 parses the epoch-seconds timestamps into datetimes.
        created = d["CreationDate"].timestamp()
        self.assertLessEqual(abs(created - before), 60, "CreationDate %s is not now" % d["CreationDate"])
        self.assertGreaterEqual(d["LastModifiedDate"], d["CreationDate"])
        with self.assertRaises(self.client.exceptions.ResourceNotFoundException) as cm:
            self.client.describe_identity(IdentityId="us-east-1:00000000-0000-0000-0000-000000000000")
        self.assertError(cm, "ResourceNotFoundException", identity_not_found("us-east-1:00000000-0000-0000-0000-000000000000"))

    def test_list_identities_paging_and_hide_disabled(self):
        pool_id = self.identity_pool("listids")
        guests = [self.get_id(pool_id) for _ in range(4)]
        users = [self.get_id(pool_id, {FACEBOOK: facebook_token("list-%d" % i)}) for i in range(2)]
        # Disable one guest by merging it into a user's identity.
        self.app.get_open_id_token(IdentityId=guests[0], Logins={FACEBOOK: facebook_token("list-0")})

        pages = self.list_identities(pool_id, 2)
        self.assertEqual([len(p["Identities"]) for p in pages], [2, 2, 2])
        self.assertNotIn("NextToken", pages[-1])
        listed = [i for p in pages for i in p["Identities"]]
        # Creation order, each once, every one described.
        self.assertEqual([i["IdentityId"] for i in listed], guests + users)
        for item in listed:
            self.assertEqual(set(item) - {"Logins"}, {"IdentityId", "CreationDate", "LastModifiedDate"})
        self.assertEqual(listed[4].get("Logins"), [FACEBOOK])
        self.assertNotIn("Logins", listed[1])

        hidden = [i["IdentityId"] for p in self.list_identities(pool_id, 2, hide_disabled=True) for i in p["Identities"]]
        self.assertEqual(hidden, guests[1:] + users)

        # boto3 has no paginator for ListIdentities; a bad token is refused.
        with self.assertRaises(self.client.exceptions.InvalidParameterException) as cm:
            self.client.list_identities(IdentityPoolId=pool_id, MaxResults=2, NextToken="not-a-token")
        self.assertError(cm, "InvalidParameterException")
        with self.assertRaises(self.client.exceptions.ResourceNotFoundException) as cm:
            self.client.list_identities(IdentityPoolId=MISSING_POOL, MaxResults=2)
        self.assertPoolNotFound(cm, MISSING_POOL)

    def test_unlink_identity(self):
        pool_id = self.identity_pool("unlink")
        fb, up = facebook_token("unlinker"), user_pool_token(str(uuid.uuid4()))
        identity = self.get_id(pool_id, {FACEBOOK: fb, USER_POOL: up})
        # The caller proves the identity with a login and names what to drop.
        resp = self.app.unlink_identity(IdentityId=identity, Logins={USER_POOL: up}, LoginsToRemove=[FACEBOOK])
        self.assertEqual(body(resp), {})
        self.assertEqual(self.linked(identity), [USER_POOL])
        # The unlinked user is unknown again: a new identity next time.
        self.assertNotEqual(self.get_id(pool_id, {FACEBOOK: fb}), identity)
        # Without a login of the identity the call is refused.
        with self.assertRaises(self.app.exceptions.NotAuthorizedException) as cm:
            self.app.unlink_identity(IdentityId=identity, Logins={FACEBOOK: facebook_token("stranger")}, LoginsToRemove=[USER_POOL])
        self.assertError(cm, "NotAuthorizedException", MSG_LOGINS_MISMATCH)
        # Unlinking the last login leaves the identity inaccessible.
        self.app.unlink_identity(IdentityId=identity, Logins={USER_POOL: up}, LoginsToRemove=[USER_POOL])
        with self.assertRaises(self.app.exceptions.NotAuthorizedException) as cm:
            self.app.get_open_id_token(IdentityId=identity)
        self.assertError(cm, "NotAuthorizedException", forbidden(identity))
        self.assertNotIn(identity, [i["IdentityId"] for p in self.list_identities(pool_id, 60, hide_disabled=True) for i in p["Identities"]])

    def test_delete_identities(self):
        pool_id = self.identity_pool("deleteids")
        doomed = [self.get_id(pool_id) for _ in range(2)]
        kept = self.get_id(pool_id)
        resp = self.client.delete_identities(IdentityIdsToDelete=doomed)
        self.assertEqual(body(resp), {"UnprocessedIdentityIds": []})
        for identity in doomed:
            with self.subTest(identity=identity):
                with self.assertRaises(self.client.exceptions.ResourceNotFoundException) as cm:
                    self.client.describe_identity(IdentityId=identity)
                self.assertError(cm, "ResourceNotFoundException", identity_not_found(identity))
                with self.assertRaises(self.app.exceptions.ResourceNotFoundException) as cm:
                    self.app.get_credentials_for_identity(IdentityId=identity)
                self.assertError(cm, "ResourceNotFoundException", identity_not_found(identity))
        self.assertEqual([i["IdentityId"] for p in self.list_identities(pool_id, 60) for i in p["Identities"]], [kept])
        # Deleting again: already gone, nothing unprocessed.
        self.assertEqual(self.client.delete_identities(IdentityIdsToDelete=doomed)["UnprocessedIdentityIds"], [])


class DeveloperIdentityTest(IdentityCase):
    """GetOpenIdTokenForDeveloperIdentity, LookupDeveloperIdentity,
    MergeDeveloperIdentities, UnlinkDeveloperIdentity."""

    def developer_token(self, pool_id, user, **kwargs):
        resp = self.client.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, Logins={DEVELOPER: user}, **kwargs)
        self.assertEqual(set(body(resp)), {"IdentityId", "Token"})
        self.assertRegex(resp["IdentityId"], IDENTITY_ID)
        return resp

    def test_developer_users(self):
        c = self.client
        pool_id = self.identity_pool("developer")
        alice = self.developer_token(pool_id, "alice")["IdentityId"]
        self.assertEqual(self.developer_token(pool_id, "alice")["IdentityId"], alice)
        bob = self.developer_token(pool_id, "bob")["IdentityId"]
        self.assertNotEqual(bob, alice)
        self.assertEqual(self.linked(alice), [DEVELOPER])

        # Lookup by user, by identity, and by both.
        found = body(c.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier="alice", MaxResults=10))
        self.assertEqual(found, {"IdentityId": alice, "DeveloperUserIdentifierList": ["alice"]})
        found = body(c.lookup_developer_identity(IdentityPoolId=pool_id, IdentityId=bob, MaxResults=10))
        self.assertEqual(found, {"IdentityId": bob, "DeveloperUserIdentifierList": ["bob"]})
        found = body(c.lookup_developer_identity(IdentityPoolId=pool_id, IdentityId=alice, DeveloperUserIdentifier="alice", MaxResults=10))
        self.assertEqual(found["IdentityId"], alice)
        with self.assertRaises(c.exceptions.ResourceNotFoundException) as cm:
            c.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier="nobody", MaxResults=10)
        self.assertError(cm, "ResourceNotFoundException", "Developer user identifier 'nobody' not found.")

        # A developer token can name an existing identity: a new developer
        # user is linked to it.
        resp = self.developer_token(pool_id, "carol", IdentityId=bob)
        self.assertEqual(resp["IdentityId"], bob)

        # Merge alice into bob: bob's identity holds all three users, and
        # Lookup pages through them.
        merged = c.merge_developer_identities(SourceUserIdentifier="alice", DestinationUserIdentifier="bob",
                                              DeveloperProviderName=DEVELOPER, IdentityPoolId=pool_id)
        self.assertEqual(body(merged), {"IdentityId": bob})
        users, token, pages = [], None, 0
        while True:
            kwargs = {"IdentityPoolId": pool_id, "IdentityId": bob, "MaxResults": 1}
            if token:
                kwargs["NextToken"] = token
            page = c.lookup_developer_identity(**kwargs)
            pages += 1
            self.assertEqual(page["IdentityId"], bob)
            self.assertLessEqual(len(page["DeveloperUserIdentifierList"]), 1)
            users += page["DeveloperUserIdentifierList"]
            token = page.get("NextToken")
            if not token or pages > 10:
                break
        self.assertEqual(sorted(users), ["alice", "bob", "carol"])
        self.assertEqual(len(users), 3, "a user was listed twice: %s" % users)
        self.assertEqual(self.developer_token(pool_id, "alice")["IdentityId"], bob)
        # The source identity is disabled.
        with self.assertRaises(self.app.exceptions.NotAuthorizedException) as cm:
            self.app.get_credentials_for_identity(IdentityId=alice)
        self.assertError(cm, "NotAuthorizedException", forbidden(alice))

        # Unlink carol: she is new the next time she is seen.
        resp = c.unlink_developer_identity(IdentityId=bob, IdentityPoolId=pool_id, DeveloperProviderName=DEVELOPER,
                                           DeveloperUserIdentifier="carol")
        self.assertEqual(body(resp), {})
        self.assertEqual(sorted(c.lookup_developer_identity(IdentityPoolId=pool_id, IdentityId=bob, MaxResults=10)["DeveloperUserIdentifierList"]),
                         ["alice", "bob"])
        with self.assertRaises(c.exceptions.ResourceNotFoundException) as cm:
            c.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier="carol", MaxResults=10)
        self.assertError(cm, "ResourceNotFoundException", "Developer user identifier 'carol' not found.")
        self.assertNotEqual(self.developer_token(pool_id, "carol")["IdentityId"], bob)

    def test_wrong_developer_provider(self):
        c = self.client
        pool_id = self.identity_pool("developer-wrong")
        calls = [
            ("GetOpenIdTokenForDeveloperIdentity",
             lambda: c.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, Logins={"login.other.example": "alice"})),
            ("MergeDeveloperIdentities",
             lambda: c.merge_developer_identities(SourceUserIdentifier="a", DestinationUserIdentifier="b",
                                                  DeveloperProviderName="login.other.example", IdentityPoolId=pool_id)),
            ("UnlinkDeveloperIdentity",
             lambda: c.unlink_developer_identity(IdentityId=MISSING_POOL, IdentityPoolId=pool_id,
                                                 DeveloperProviderName="login.other.example", DeveloperUserIdentifier="a")),
        ]
        for name, call in calls:
            with self.subTest(op=name):
                with self.assertRaises(c.exceptions.NotAuthorizedException) as cm:
                    call()
                self.assertError(cm, "NotAuthorizedException", MSG_DEVELOPER_PROVIDER)


class TokenTest(IdentityCase):
    """GetOpenIdToken and GetOpenIdTokenForDeveloperIdentity tokens, checked
    against the server's discovery document and JWKS like any relying party
    would."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.discovery_type, cls.discovery = get_json("/.well-known/openid-configuration")
        cls.jwks_type, cls.jwks = get_json("/.well-known/jwks_uri")

    def test_discovery_and_jwks(self):
        self.assertTrue(self.discovery_type.startswith("application/json"), self.discovery_type)
        self.assertEqual(self.discovery["jwks_uri"], self.discovery["issuer"] + "/.well-known/jwks_uri")
        self.assertIn("RS512", self.discovery["id_token_signing_alg_values_supported"])
        self.assertTrue(self.jwks_type.startswith("application/"), self.jwks_type)
        self.assertGreaterEqual(len(self.jwks["keys"]), 1)
        for key in self.jwks["keys"]:
            self.assertEqual({k: key.get(k) for k in ("kty", "alg", "use", "e")},
                             {"kty": "RSA", "alg": "RS512", "use": "sig", "e": "AQAB"})
            self.assertRegex(key["kid"], r"^us-east-1\d+$")
            self.assertNotIn("d", key, "the JWKS publishes a private key")

    def verified(self, token):
        """verified checks the token's header and, with the library
        find_verifier chose, its signature with the published key of its
        kid; it returns (header, claims). Without a library the claims are
        read unverified and test_signature_verifier reports the skip."""
        parts = token.split(".")
        self.assertEqual(len(parts), 3, "not a compact JWS")
        header = json.loads(b64url_decode(parts[0]))
        self.assertEqual(set(header), {"kid", "typ", "alg"})
        self.assertEqual(header["typ"], "JWS")
        self.assertEqual(header["alg"], "RS512")
        keys = [k for k in self.jwks["keys"] if k["kid"] == header["kid"]]
        self.assertEqual(len(keys), 1, "kid %r is not in the JWKS once" % header["kid"])
        if VERIFY is None:
            return header, json.loads(b64url_decode(parts[1]))
        claims = VERIFY(token, keys[0], self.jwks)
        # A token whose payload was changed must not verify.
        forged = json.loads(b64url_decode(parts[1]))
        forged["sub"] = forged["sub"][:-1] + ("0" if forged["sub"][-1] != "0" else "1")
        tampered = ".".join([parts[0], b64url(json.dumps(forged).encode()), parts[2]])
        with self.assertRaises(Exception, msg="%s accepted a tampered token" % VERIFIER_NAME):
            VERIFY(tampered, keys[0], self.jwks)
        return header, claims

    def test_signature_verifier(self):
        # The token tests verify RS512 signatures only when this Python has
        # a way to; say which, or skip visibly (fail under CI).
        if VERIFY is None:
            if CI:
                self.fail("token signatures cannot be verified (CI=true: nothing may be skipped): " + VERIFIER_NAME)
            self.skipTest("token signatures NOT verified: " + VERIFIER_NAME)
        print("JWS signatures verified with %s" % VERIFIER_NAME, file=sys.stderr, end=" ... ")

    def assertClaims(self, claims, identity, pool_id, amr, lifetime):
        now = time.time()
        self.assertEqual(claims["sub"], identity)
        self.assertEqual(claims["aud"], pool_id)
        self.assertEqual(claims["amr"], amr)
        self.assertEqual(claims["iss"], self.discovery["issuer"])
        self.assertEqual(claims["https://cognito-identity.amazonaws.com/identity-pool-arn"], pool_arn(pool_id))
        self.assertIsInstance(claims["iat"], int)
        self.assertIsInstance(claims["exp"], int)
        self.assertEqual(claims["exp"] - claims["iat"], lifetime)
        self.assertLessEqual(abs(claims["iat"] - now), 60, "iat %d is not now" % claims["iat"])

    def test_get_open_id_token(self):
        pool_id = self.identity_pool("token")
        guest = self.get_id(pool_id)
        resp = self.app.get_open_id_token(IdentityId=guest)
        self.assertEqual(set(body(resp)), {"IdentityId", "Token"})
        self.assertEqual(resp["IdentityId"], guest)
        _, claims = self.verified(resp["Token"])
        # GetOpenIdToken tokens live 10 minutes.
        self.assertClaims(claims, guest, pool_id, ["unauthenticated"], 600)

        fb = facebook_token("token")
        user = self.get_id(pool_id, {FACEBOOK: fb})
        _, claims = self.verified(self.app.get_open_id_token(IdentityId=user, Logins={FACEBOOK: fb})["Token"])
        self.assertClaims(claims, user, pool_id,
                          ["authenticated", FACEBOOK, "%s:%s:%s" % (FACEBOOK, FACEBOOK_APP, fb)], 600)

    def test_developer_token(self):
        pool_id = self.identity_pool("devtoken")
        resp = self.client.get_open_id_token_for_developer_identity(
            IdentityPoolId=pool_id, Logins={DEVELOPER: "dave"}, TokenDuration=900)
        _, claims = self.verified(resp["Token"])
        self.assertClaims(claims, resp["IdentityId"], pool_id,
                          ["authenticated", DEVELOPER, "%s:%s:dave" % (DEVELOPER, pool_id)], 900)

    def test_classic_flow_disabled(self):
        pool_id = self.identity_pool("noclassic", AllowClassicFlow=False)
        guest = self.get_id(pool_id)
        with self.assertRaises(self.app.exceptions.InvalidParameterException) as cm:
            self.app.get_open_id_token(IdentityId=guest)
        self.assertError(cm, "InvalidParameterException", MSG_CLASSIC_FLOW)


class CredentialsTest(IdentityCase):
    """GetCredentialsForIdentity (enhanced flow), the classic flow through
    STS AssumeRoleWithWebIdentity, and STS GetCallerIdentity proving the
    minted credentials."""

    def roles_pool(self, suffix, **fields):
        pool_id = self.identity_pool(suffix, **fields)
        self.client.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": AUTH_ROLE, "unauthenticated": UNAUTH_ROLE})
        return pool_id

    def assertCredentials(self, resp, identity):
        self.assertEqual(set(body(resp)), {"IdentityId", "Credentials"})
        self.assertEqual(resp["IdentityId"], identity)
        creds = resp["Credentials"]
        self.assertEqual(set(creds), {"AccessKeyId", "SecretKey", "SessionToken", "Expiration"})
        self.assertRegex(creds["AccessKeyId"], r"^ASIA[A-Z2-7]{16}$")
        self.assertEqual(len(creds["SecretKey"]), 40)
        # An hour, as AWS's.
        self.assertLessEqual(abs(creds["Expiration"].timestamp() - (time.time() + 3600)), 120)
        return creds

    def assertCaller(self, creds, role_name, session):
        who = self.sts(creds).get_caller_identity()
        self.assertEqual(body(who)["Account"], ACCOUNT)
        self.assertEqual(who["Arn"], "arn:aws:sts::%s:assumed-role/%s/%s" % (ACCOUNT, role_name, session))
        self.assertRegex(who["UserId"], r"^AROA[A-Z2-7]{17}:%s$" % re.escape(session))

    def test_guest_credentials(self):
        pool_id = self.roles_pool("creds-guest")
        guest = self.get_id(pool_id)
        creds = self.assertCredentials(self.app.get_credentials_for_identity(IdentityId=guest), guest)
        self.assertCaller(creds, "Compat_Unauth_Role", "CognitoIdentityCredentials")

    def test_developer_credentials(self):
        pool_id = self.roles_pool("creds-dev")
        dev = self.client.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, Logins={DEVELOPER: "erin"})
        resp = self.app.get_credentials_for_identity(IdentityId=dev["IdentityId"], Logins={COGNITO: dev["Token"]})
        creds = self.assertCredentials(resp, dev["IdentityId"])
        self.assertCaller(creds, "Compat_Auth_Role", "CognitoIdentityCredentials")
        # Without the token the authenticated identity is refused.
        with self.assertRaises(self.app.exceptions.NotAuthorizedException) as cm:
            self.app.get_credentials_for_identity(IdentityId=dev["IdentityId"])
        self.assertError(cm, "NotAuthorizedException", MSG_LOGINS_MISMATCH)

    def test_login_credentials(self):
        pool_id = self.roles_pool("creds-login")
        fb = facebook_token("creds")
        user = self.get_id(pool_id, {FACEBOOK: fb})
        creds = self.assertCredentials(self.app.get_credentials_for_identity(IdentityId=user, Logins={FACEBOOK: fb}), user)
        self.assertCaller(creds, "Compat_Auth_Role", "CognitoIdentityCredentials")

    def test_no_roles(self):
        pool_id = self.identity_pool("creds-noroles")
        guest = self.get_id(pool_id)
        with self.assertRaises(self.app.exceptions.InvalidIdentityPoolConfigurationException) as cm:
            self.app.get_credentials_for_identity(IdentityId=guest)
        self.assertError(cm, "InvalidIdentityPoolConfigurationException",
                         "Invalid identity pool configuration. Check assigned IAM roles for this pool.")

    def test_classic_flow(self):
        pool_id = self.roles_pool("classic", AllowClassicFlow=True)
        guest = self.get_id(pool_id)
        token = self.app.get_open_id_token(IdentityId=guest)["Token"]
        # AssumeRoleWithWebIdentity needs no AWS credentials.
        out = self.sts(unsigned=True).assume_role_with_web_identity(
            RoleArn=UNAUTH_ROLE, RoleSessionName="compat-classic", WebIdentityToken=token)
        self.assertEqual(out["SubjectFromWebIdentityToken"], guest)
        self.assertEqual(out["Audience"], pool_id)
        self.assertEqual(out["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::%s:assumed-role/Compat_Unauth_Role/compat-classic" % ACCOUNT)
        self.assertRegex(out["Credentials"]["AccessKeyId"], r"^ASIA[A-Z2-7]{16}$")
        self.assertCaller(out["Credentials"], "Compat_Unauth_Role", "compat-classic")

    def test_sts_refuses_tampered_credentials(self):
        pool_id = self.roles_pool("creds-tamper")
        creds = self.app.get_credentials_for_identity(IdentityId=self.get_id(pool_id))["Credentials"]
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.sts(dict(creds, SecretKey="x" * 40)).get_caller_identity()
        self.assertEqual(cm.exception.response["Error"]["Code"], "SignatureDoesNotMatch")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        # The suite's long-term key is the account's root.
        who = self.sts().get_caller_identity()
        self.assertEqual(who["Arn"], "arn:aws:iam::%s:root" % ACCOUNT)



class TrustTest(IdentityCase):
    """Who may become which role, and the login checks of trust mode, on the
    default (permissive) server; compat_strict.sh covers strict mode."""

    def token_with(self, header=None, drop=(), **claims):
        """token_with is a user pool ID token with its header or claims
        changed; drop removes claims."""
        parts = user_pool_token("trusty", **claims).split(".")
        if header is not None:
            parts[0] = b64url(json.dumps(header).encode())
        if drop:
            payload = json.loads(b64url_decode(parts[1]))
            for name in drop:
                payload.pop(name, None)
            parts[1] = b64url(json.dumps(payload).encode())
        return ".".join(parts)

    def test_trust_mode_checks_everything_but_the_signature(self):
        pool_id = self.identity_pool("trust-logins")
        past = int(time.time()) - 3600
        not_oidc = "Invalid login token. Not a valid OpenId Connect identity token."
        for name, token, message in [
            ("alg none", self.token_with(header={"alg": "none"}), not_oidc),
            ("alg HS256", self.token_with(header={"alg": "HS256", "typ": "JWT"}), not_oidc),
            ("no iss", self.token_with(drop=("iss",)), not_oidc),
            ("another issuer", self.token_with(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"),
             "Invalid login token. Issuer doesn't match providerName"),
            ("no exp", self.token_with(drop=("exp",)), "Invalid login token. Missing a required claim: exp"),
            ("expired", self.token_with(exp=past), None),
            ("no aud", self.token_with(drop=("aud",)), "Invalid login token. Missing a required claim: aud"),
            ("another app client", self.token_with(aud="someone-elses-client"),
             "Token is not from a supported provider of this identity pool."),
        ]:
            with self.subTest(name):
                with self.assertRaises(self.app.exceptions.NotAuthorizedException) as cm:
                    self.app.get_id(IdentityPoolId=pool_id, Logins={USER_POOL: token})
                if message is None:
                    self.assertTrue(cm.exception.response["Error"]["Message"].startswith("Invalid login token. Token expired: "),
                                    cm.exception.response["Error"]["Message"])
                else:
                    self.assertError(cm, "NotAuthorizedException", message)
        # The same token, well formed, is accepted.
        self.get_id(pool_id, {USER_POOL: self.token_with()})

    def test_saml_only_in_the_enhanced_flow(self):
        pool_id = self.identity_pool("trust-saml", SamlProviderARNs=[SAML_ARN])
        self.client.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": AUTH_ROLE})
        assertion = base64.b64encode((
            '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">'
            '<saml:Assertion><saml:Subject><saml:NameID>compat-%s</saml:NameID></saml:Subject></saml:Assertion>'
            '</samlp:Response>' % RUN).encode()).decode()
        user = self.get_id(pool_id, {SAML_ARN: assertion})
        with self.assertRaises(self.app.exceptions.InvalidParameterException) as cm:
            self.app.get_open_id_token(IdentityId=user, Logins={SAML_ARN: assertion})
        self.assertError(cm, "InvalidParameterException", "Basic (classic) flow is not supported with SAML, please use enhanced flow.")
        creds = self.app.get_credentials_for_identity(IdentityId=user, Logins={SAML_ARN: assertion})["Credentials"]
        self.assertTrue(self.sts(creds).get_caller_identity()["Arn"].endswith(":assumed-role/Compat_Auth_Role/CognitoIdentityCredentials"))

    def test_permissive_mode_lets_a_guest_become_an_unnamed_role(self):
        # Permissive mode allows it (and logs a warning, docs/trust.md);
        # strict mode and AWS refuse it.
        pool_id = self.identity_pool("trust-permissive")
        self.client.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"unauthenticated": UNAUTH_ROLE})
        token = self.app.get_open_id_token(IdentityId=self.get_id(pool_id))["Token"]
        other = "arn:aws:iam::222222222222:role/Admin"
        out = self.sts(unsigned=True).assume_role_with_web_identity(RoleArn=other, RoleSessionName="loose", WebIdentityToken=token)
        self.assertEqual(out["AssumedRoleUser"]["Arn"], "arn:aws:sts::222222222222:assumed-role/Admin/loose")


if __name__ == "__main__":
    if not ENDPOINT:
        sys.exit("boto3_test.py: set IDPOOL_ENDPOINT to the server's URL, e.g. http://127.0.0.1:4591")
    unittest.main(verbosity=2)

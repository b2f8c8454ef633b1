#!/usr/bin/env python3
"""Compatibility suite: drives an idpool server with the real boto3 client.

Run against a server that is already up (scripts/test starts one):

    IDPOOL_ENDPOINT=http://127.0.0.1:4591 python3 compat/boto3_test.py [-v] [TestClass[.test_name] ...]

Only the standard library's unittest and boto3 are needed. The suite creates
its own pools (names start with a per-run prefix) and deletes them when it is
done, so it can also run against a long-lived server.

Layout: one TestCase class per group of operations, in the order of the
API reference. New operations get a class of their own below the marker
"Identity operations" (GetId, GetCredentialsForIdentity, ...), built on
CompatCase's helpers; the AWS CLI suite (compat/awscli_test.sh) has the same
flows under the same names.
"""

import os
import re
import sys
import unittest
import uuid

import boto3
import botocore.exceptions

ENDPOINT = os.environ.get("IDPOOL_ENDPOINT", "")
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
# Identity operations (GetId, GetCredentialsForIdentity, GetOpenIdToken, ...)
# go here, one CompatCase class per group, with the same flows added to
# compat/awscli_test.sh.
# ---------------------------------------------------------------------------


if __name__ == "__main__":
    if not ENDPOINT:
        sys.exit("boto3_test.py: set IDPOOL_ENDPOINT to the server's URL, e.g. http://127.0.0.1:4591")
    unittest.main(verbosity=2)

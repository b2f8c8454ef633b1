#!/usr/bin/env bash
# Compatibility suite: drives an idpool server with the AWS CLI
# (`aws cognito-identity ...`), checking outputs, exit codes and error texts.
#
#   IDPOOL_ENDPOINT=http://127.0.0.1:4591 compat/awscli_test.sh [flow ...]
#
# With no arguments every flow in FLOWS runs; otherwise the named ones. Each
# flow runs in a process of its own (so that `set -e` holds inside it and one
# failing flow does not hide the others) and deletes the pools it created.
# The flows mirror compat/boto3_test.py; a new operation gets a flow_<name>
# function below and its name in FLOWS.
set -euo pipefail
shopt -s inherit_errexit # failures inside $(...) count too

FLOWS=(pools list roles principal_tags tags errors identities developer credentials)

: "${IDPOOL_ENDPOINT:?set IDPOOL_ENDPOINT to the server URL, e.g. http://127.0.0.1:4591}"
REGION=us-east-1
# The account a non-numeric access key id acts in: the server's --default-account.
ACCOUNT=${IDPOOL_ACCOUNT:-000000000000}

# Act like a user with credentials in the environment, whatever the local
# ~/.aws says.
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_DEFAULT_REGION=$REGION
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_COGNITO_IDENTITY AWS_ENDPOINT_URL_STS
# One attempt per command: a retry would hide a server error (and make a
# dead server slow to notice).
export AWS_MAX_ATTEMPTS=1

USER_POOL=cognito-idp.us-east-1.amazonaws.com/us-east-1_Compat1
CLIENT_ID=compatclient1
USER_POOL_KEY=$USER_POOL:$CLIENT_ID
OIDC_ARN=arn:aws:iam::$ACCOUNT:oidc-provider/oidc.compat.example.com
SAML_ARN=arn:aws:iam::$ACCOUNT:saml-provider/compat-saml
AUTH_ROLE=arn:aws:iam::$ACCOUNT:role/Compat_Auth_Role
UNAUTH_ROLE=arn:aws:iam::$ACCOUNT:role/Compat_Unauth_Role
ADMIN_ROLE=arn:aws:iam::$ACCOUNT:role/Compat_Admin_Role
# A well-formed pool id that no server ever allocates (not a v4 UUID).
MISSING_POOL=us-east-1:00000000-0000-0000-0000-000000000000

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

# ci runs one cognito-identity command against the server.
ci() {
	aws --endpoint-url "$IDPOOL_ENDPOINT" --region "$REGION" --output json cognito-identity "$@"
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect_json JSON EXPR... evaluates each Python expression with d bound to
# the parsed JSON (true/false/null are defined), and fails on the first that
# is not true.
expect_json() {
	python3 - "$@" <<'PY'
import json, sys
doc, exprs = sys.argv[1], sys.argv[2:]
d = json.loads(doc) if doc.strip() else None
env = {"d": d, "true": True, "false": False, "null": None}
for e in exprs:
    if not eval(e, env):
        sys.exit("FAIL: expected %s\n  got: %s" % (e, json.dumps(d, indent=2, sort_keys=True)))
PY
}

# jget JSON EXPR prints the value of a Python expression over d.
jget() {
	python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# expect_error CODE MESSAGE ARGS... runs `ci ARGS...`, which must fail with a
# non-zero exit and the CLI's line for that error code and exact message.
expect_error() {
	local code=$1 message=$2 rc=0 op
	shift 2
	# The CLI names the operation in CamelCase: describe-identity-pool -> DescribeIdentityPool.
	op=$(python3 -c 'import sys; print("".join(w.capitalize() for w in sys.argv[1].split("-")))' "$1")
	ci "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	local want="An error occurred ($code) when calling the $op operation: $message"
	if [[ $rc -eq 0 ]]; then
		fail "aws cognito-identity $* succeeded; want $code. stdout: $(cat "$WORK/out")"
	fi
	if ! grep -qF -- "$want" "$WORK/err"; then
		fail "aws cognito-identity $* exited $rc; stderr lacks: $want
  stderr: $(cat "$WORK/err")"
	fi
}

# new_pool SUFFIX ARGS... creates a pool named "$RUN-SUFFIX", prints the
# CLI's output and remembers the pool for deletion when the flow ends.
new_pool() {
	local suffix=$1 out
	shift
	out=$(ci create-identity-pool --identity-pool-name "$RUN-$suffix" "$@")
	jget "$out" 'd["IdentityPoolId"]' >>"$WORK/pools"
	printf '%s\n' "$out"
}

cleanup() {
	local id
	if [[ -f $WORK/pools ]]; then
		while read -r id; do
			ci delete-identity-pool --identity-pool-id "$id" >/dev/null 2>&1 || true
		done <"$WORK/pools"
	fi
	rm -rf "$WORK"
}

# ---------------------------------------------------------------------------
# Flows
# ---------------------------------------------------------------------------

# CreateIdentityPool with every field, DescribeIdentityPool,
# UpdateIdentityPool, DeleteIdentityPool.
flow_pools() {
	local created id want out
	created=$(new_pool full \
		--allow-unauthenticated-identities \
		--allow-classic-flow \
		--supported-login-providers graph.facebook.com=7346241598935552,accounts.google.com=123456789012-compat.apps.googleusercontent.com \
		--developer-provider-name login.compat.example \
		--open-id-connect-provider-arns "$OIDC_ARN" \
		--cognito-identity-providers "ProviderName=$USER_POOL,ClientId=$CLIENT_ID,ServerSideTokenCheck=true" \
		--saml-provider-arns "$SAML_ARN" \
		--identity-pool-tags '{"team": "compat", "env": "test"}')
	id=$(jget "$created" 'd["IdentityPoolId"]')
	want=$(
		cat <<JSON
{"IdentityPoolId": "$id", "IdentityPoolName": "$RUN-full",
 "AllowUnauthenticatedIdentities": true, "AllowClassicFlow": true,
 "SupportedLoginProviders": {"graph.facebook.com": "7346241598935552",
   "accounts.google.com": "123456789012-compat.apps.googleusercontent.com"},
 "DeveloperProviderName": "login.compat.example",
 "OpenIdConnectProviderARNs": ["$OIDC_ARN"],
 "CognitoIdentityProviders": [{"ProviderName": "$USER_POOL", "ClientId": "$CLIENT_ID", "ServerSideTokenCheck": true}],
 "SamlProviderARNs": ["$SAML_ARN"],
 "IdentityPoolTags": {"team": "compat", "env": "test"}}
JSON
	)
	expect_json "$created" "__import__('re').fullmatch(r'us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}', d['IdentityPoolId'])"
	expect_json "$created" "d == $want"
	out=$(ci describe-identity-pool --identity-pool-id "$id")
	expect_json "$out" "d == $want"

	# Full replacement: OIDC and SAML providers left out are removed; the
	# developer provider and the tags, left out, stay (project choices).
	out=$(ci update-identity-pool --identity-pool-id "$id" \
		--identity-pool-name "$RUN-renamed" \
		--no-allow-unauthenticated-identities \
		--no-allow-classic-flow \
		--supported-login-providers www.amazon.com=amzn1.application.compat \
		--cognito-identity-providers "[{\"ProviderName\": \"$USER_POOL\", \"ClientId\": \"$CLIENT_ID\", \"ServerSideTokenCheck\": false}]")
	want=$(
		cat <<JSON
{"IdentityPoolId": "$id", "IdentityPoolName": "$RUN-renamed",
 "AllowUnauthenticatedIdentities": false, "AllowClassicFlow": false,
 "SupportedLoginProviders": {"www.amazon.com": "amzn1.application.compat"},
 "DeveloperProviderName": "login.compat.example",
 "CognitoIdentityProviders": [{"ProviderName": "$USER_POOL", "ClientId": "$CLIENT_ID", "ServerSideTokenCheck": false}],
 "IdentityPoolTags": {"team": "compat", "env": "test"}}
JSON
	)
	expect_json "$out" "d == $want"
	out=$(ci describe-identity-pool --identity-pool-id "$id")
	expect_json "$out" "d == $want"

	out=$(ci delete-identity-pool --identity-pool-id "$id")
	[[ -z $out ]] || fail "delete-identity-pool printed: $out"
	expect_error ResourceNotFoundException "IdentityPool '$id' not found." describe-identity-pool --identity-pool-id "$id"
	expect_error ResourceNotFoundException "IdentityPool '$id' not found." delete-identity-pool --identity-pool-id "$id"
	expect_error ResourceNotFoundException "IdentityPool '$MISSING_POOL' not found." \
		update-identity-pool --identity-pool-id "$MISSING_POOL" --identity-pool-name x --no-allow-unauthenticated-identities
}

# ListIdentityPools. MaxResults is required, and AWS CLI v1 turns its own
# pagination off when --max-results is given: users either page by hand
# with --next-token, or pass MaxResults through --cli-input-json, which keeps
# the CLI's pagination (and --max-items/--starting-token) working.
flow_list() {
	local ids=() i out all page tok manual first rest
	# Five pools, so that pages of 2 hold more than the 3 items of --max-items.
	for i in 0 1 2 3 4; do
		out=$(new_pool "list-$i" --no-allow-unauthenticated-identities)
		ids+=("$(jget "$out" 'd["IdentityPoolId"]')")
	done
	all=$(ci list-identity-pools --cli-input-json '{"MaxResults": 2}')
	expect_json "$all" \
		"'NextToken' not in d" \
		"[p for p in d['IdentityPools'] if p['IdentityPoolName'].startswith('$RUN-list-')] == [
			{'IdentityPoolId': '${ids[0]}', 'IdentityPoolName': '$RUN-list-0'},
			{'IdentityPoolId': '${ids[1]}', 'IdentityPoolName': '$RUN-list-1'},
			{'IdentityPoolId': '${ids[2]}', 'IdentityPoolName': '$RUN-list-2'},
			{'IdentityPoolId': '${ids[3]}', 'IdentityPoolName': '$RUN-list-3'},
			{'IdentityPoolId': '${ids[4]}', 'IdentityPoolName': '$RUN-list-4'}]" \
		"len({p['IdentityPoolId'] for p in d['IdentityPools']}) == len(d['IdentityPools'])"

	# By hand: pages of at most 2 until the server sends no NextToken.
	manual='[]'
	page=$(ci list-identity-pools --max-results 2)
	while :; do
		expect_json "$page" "1 <= len(d['IdentityPools']) <= 2"
		manual=$(python3 -c 'import json, sys; print(json.dumps(json.loads(sys.argv[1]) + json.loads(sys.argv[2])["IdentityPools"]))' "$manual" "$page")
		tok=$(jget "$page" 'd.get("NextToken", "")')
		[[ -n $tok ]] || break
		page=$(ci list-identity-pools --max-results 2 --next-token "$tok")
	done
	expect_json "[$all, $manual]" "d[1] == d[0]['IdentityPools']"

	# --max-items 3 over pages of 2 stops inside a server page; the CLI's
	# token resumes there.
	first=$(ci list-identity-pools --cli-input-json '{"MaxResults": 2}' --max-items 3)
	expect_json "$first" "len(d['IdentityPools']) == 3" "d.get('NextToken')"
	tok=$(jget "$first" 'd["NextToken"]')
	rest=$(ci list-identity-pools --cli-input-json '{"MaxResults": 2}' --starting-token "$tok")
	expect_json "[$all, $first, $rest]" "d[1]['IdentityPools'] + d[2]['IdentityPools'] == d[0]['IdentityPools']"
}

# SetIdentityPoolRoles with a Rules role mapping on a user pool provider key
# "<ProviderName>:<ClientId>", GetIdentityPoolRoles.
flow_roles() {
	local out id mapping
	out=$(new_pool roles --no-allow-unauthenticated-identities \
		--cognito-identity-providers "ProviderName=$USER_POOL,ClientId=$CLIENT_ID")
	id=$(jget "$out" 'd["IdentityPoolId"]')
	out=$(ci get-identity-pool-roles --identity-pool-id "$id")
	expect_json "$out" "d['IdentityPoolId'] == '$id'" "d.get('Roles', {}) == {}" "'RoleMappings' not in d"

	mapping=$(
		cat <<JSON
{"$USER_POOL_KEY": {"Type": "Rules", "AmbiguousRoleResolution": "AuthenticatedRole",
  "RulesConfiguration": {"Rules": [
    {"Claim": "cognito:groups", "MatchType": "Contains", "Value": "admin", "RoleARN": "$ADMIN_ROLE"},
    {"Claim": "custom:tier", "MatchType": "Equals", "Value": "gold", "RoleARN": "$AUTH_ROLE"}]}}}
JSON
	)
	out=$(ci set-identity-pool-roles --identity-pool-id "$id" \
		--roles "authenticated=$AUTH_ROLE,unauthenticated=$UNAUTH_ROLE" \
		--role-mappings "$mapping")
	[[ -z $out ]] || fail "set-identity-pool-roles printed: $out"
	out=$(ci get-identity-pool-roles --identity-pool-id "$id")
	expect_json "$out" "d == {'IdentityPoolId': '$id',
		'Roles': {'authenticated': '$AUTH_ROLE', 'unauthenticated': '$UNAUTH_ROLE'},
		'RoleMappings': $mapping}"

	# The provider name alone (without ":<ClientId>") names no provider.
	expect_error InvalidParameterException \
		"$USER_POOL is not a valid RoleMapping ProviderName or is not a configured provider." \
		set-identity-pool-roles --identity-pool-id "$id" --roles "authenticated=$AUTH_ROLE" \
		--role-mappings "{\"$USER_POOL\": {\"Type\": \"Token\", \"AmbiguousRoleResolution\": \"Deny\"}}"
	expect_error ResourceNotFoundException "IdentityPool '$MISSING_POOL' not found." \
		get-identity-pool-roles --identity-pool-id "$MISSING_POOL"
}

# SetPrincipalTagAttributeMap, GetPrincipalTagAttributeMap.
flow_principal_tags() {
	local out id want
	out=$(new_pool ptags --no-allow-unauthenticated-identities \
		--cognito-identity-providers "ProviderName=$USER_POOL,ClientId=$CLIENT_ID")
	id=$(jget "$out" 'd["IdentityPoolId"]')
	want="{'IdentityPoolId': '$id', 'IdentityProviderName': '$USER_POOL', 'UseDefaults': False,
		'PrincipalTags': {'username': 'sub', 'client': 'aud'}}"
	out=$(ci set-principal-tag-attribute-map --identity-pool-id "$id" --identity-provider-name "$USER_POOL" \
		--no-use-defaults --principal-tags username=sub,client=aud)
	expect_json "$out" "d == $want"
	out=$(ci get-principal-tag-attribute-map --identity-pool-id "$id" --identity-provider-name "$USER_POOL")
	expect_json "$out" "d == $want"

	ci set-principal-tag-attribute-map --identity-pool-id "$id" --identity-provider-name "$USER_POOL" --use-defaults >/dev/null
	out=$(ci get-principal-tag-attribute-map --identity-pool-id "$id" --identity-provider-name "$USER_POOL")
	expect_json "$out" "d['UseDefaults'] is True" "d.get('PrincipalTags', {}) == {}"
	expect_error ResourceNotFoundException "IdentityPool '$MISSING_POOL' not found." \
		get-principal-tag-attribute-map --identity-pool-id "$MISSING_POOL" --identity-provider-name "$USER_POOL"
}

# TagResource, UntagResource, ListTagsForResource.
flow_tags() {
	local out id arn
	out=$(new_pool tags --no-allow-unauthenticated-identities --identity-pool-tags team=compat)
	id=$(jget "$out" 'd["IdentityPoolId"]')
	arn=arn:aws:cognito-identity:$REGION:$ACCOUNT:identitypool/$id
	out=$(ci list-tags-for-resource --resource-arn "$arn")
	expect_json "$out" "d == {'Tags': {'team': 'compat'}}"

	out=$(ci tag-resource --resource-arn "$arn" --tags env=test,team=identity)
	[[ -z $out ]] || fail "tag-resource printed: $out"
	out=$(ci list-tags-for-resource --resource-arn "$arn")
	expect_json "$out" "d == {'Tags': {'env': 'test', 'team': 'identity'}}"
	out=$(ci describe-identity-pool --identity-pool-id "$id")
	expect_json "$out" "d['IdentityPoolTags'] == {'env': 'test', 'team': 'identity'}"

	ci untag-resource --resource-arn "$arn" --tag-keys team absent >/dev/null
	out=$(ci list-tags-for-resource --resource-arn "$arn")
	expect_json "$out" "d == {'Tags': {'env': 'test'}}"

	expect_error ResourceNotFoundException "IdentityPool '$MISSING_POOL' not found." \
		list-tags-for-resource --resource-arn "arn:aws:cognito-identity:$REGION:$ACCOUNT:identitypool/$MISSING_POOL"
}

# Error mapping: exit status, error code and exact message on stderr, and a
# request id on responses.
flow_errors() {
	expect_error ResourceNotFoundException "IdentityPool '$MISSING_POOL' not found." \
		describe-identity-pool --identity-pool-id "$MISSING_POOL"
	# "bad" passes the CLI's own checks (minimum lengths), so the server
	# must refuse it.
	expect_error ValidationException \
		"1 validation error detected: Value 'bad' at 'identityPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+:[0-9a-f-]+" \
		describe-identity-pool --identity-pool-id bad

	# The CLI logs the response's request id under --debug.
	ci --debug list-identity-pools --max-results 1 >/dev/null 2>"$WORK/debug"
	grep -qE 'RequestId: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' "$WORK/debug" ||
		fail "no RequestId in the CLI's debug log"
}

# The identity flows' providers (as in compat/boto3_test.py): in idpool's
# default trust mode a Facebook access token is opaque and stands for the
# user, and a user pool ID token is read without checking its signature.
FACEBOOK=graph.facebook.com
DEVELOPER=login.compat.example
COGNITO=cognito-identity.amazonaws.com
MSG_UNAUTHENTICATED="Unauthenticated access is not supported for this identity pool."
MSG_LOGINS_MISMATCH="Logins don't match. Please include at least one valid login for this identity or identity pool."
MSG_DEVELOPER_PROVIDER="This identity pool does not support the specified developer provider"

# app runs a public cognito-identity command unsigned, as an app does.
app() {
	ci "$@" --no-sign-request
}

# identity_pool SUFFIX ARGS... creates a pool with guests, a Facebook app,
# the user pool client and the developer provider, and prints its id.
identity_pool() {
	local suffix=$1 out
	shift
	out=$(new_pool "$suffix" --allow-unauthenticated-identities \
		--supported-login-providers "$FACEBOOK=app" \
		--cognito-identity-providers "ProviderName=$USER_POOL,ClientId=$CLIENT_ID" \
		--developer-provider-name "$DEVELOPER" "$@")
	jget "$out" 'd["IdentityPoolId"]'
}

# user_pool_token SUB prints an ID token of the user pool for SUB (iss, aud
# = the client id, an hour of validity; the signature is junk).
user_pool_token() {
	python3 - "$1" "https://$USER_POOL" "$CLIENT_ID" <<'PY'
import base64, json, sys, time
sub, iss, aud = sys.argv[1:]
enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now = int(time.time())
claims = {"sub": sub, "iss": iss, "aud": aud, "token_use": "id", "iat": now, "exp": now + 3600}
print(".".join([enc(b'{"alg":"RS256","kid":"compat-fake","typ":"JWT"}'), enc(json.dumps(claims).encode()), enc(b"not a signature")]))
PY
}

# logins KEY VALUE ... prints a Logins map as JSON (token values contain
# characters the CLI's shorthand syntax would split on).
logins() {
	python3 -c 'import json, sys; a = sys.argv[1:]; print(json.dumps(dict(zip(a[::2], a[1::2]))))' "$@"
}

# claims TOKEN prints the payload of a JWS (the boto3 suite verifies the
# signatures).
claims() {
	python3 -c 'import base64, sys; p = sys.argv[1].split(".")[1]; print(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode())' "$1"
}

# list_ids POOL PAGE_SIZE [--hide-disabled] pages through ListIdentities by
# hand with --next-token and prints the ids as a JSON list.
list_ids() {
	local pool=$1 size=$2 page tok all='[]'
	shift 2
	page=$(ci list-identities --identity-pool-id "$pool" --max-results "$size" "$@")
	while :; do
		expect_json "$page" "len(d['Identities']) <= $size" "d['IdentityPoolId'] == '$pool'"
		all=$(python3 -c 'import json, sys; print(json.dumps(json.loads(sys.argv[1]) + [i["IdentityId"] for i in json.loads(sys.argv[2])["Identities"]]))' "$all" "$page")
		tok=$(jget "$page" 'd.get("NextToken", "")')
		[[ -n $tok ]] || break
		page=$(ci list-identities --identity-pool-id "$pool" --max-results "$size" --next-token "$tok" "$@")
	done
	printf '%s\n' "$all"
}

# sts_as ACCESS_KEY SECRET SESSION_TOKEN ARGS... runs `aws sts ARGS...` with
# minted credentials in the environment, as a user of them would.
sts_as() {
	local key=$1 secret=$2 token=$3
	shift 3
	AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$token \
		aws --endpoint-url "$IDPOOL_ENDPOINT" --region "$REGION" --output json sts "$@"
}

# caller_is CREDENTIALS_JSON ARN: STS GetCallerIdentity with the credentials
# (AccessKeyId, SecretKey or SecretAccessKey, SessionToken) names ARN.
caller_is() {
	local key secret token out
	key=$(jget "$1" 'd["AccessKeyId"]')
	secret=$(jget "$1" 'd.get("SecretKey") or d["SecretAccessKey"]')
	token=$(jget "$1" 'd["SessionToken"]')
	out=$(sts_as "$key" "$secret" "$token" get-caller-identity)
	expect_json "$out" "d['Arn'] == '$2'" "d['Account'] == '$ACCOUNT'"
}

# GetId (guests, a Facebook login, a user pool login), linking with
# GetOpenIdToken, the merge of a guest that signs in with a known login,
# DescribeIdentity, ListIdentities with paging and --hide-disabled,
# UnlinkIdentity, DeleteIdentities.
flow_identities() {
	local pool noguest g1 g2 fb up user out known listed
	pool=$(identity_pool ids)

	g1=$(jget "$(app get-id --identity-pool-id "$pool")" 'd["IdentityId"]')
	g2=$(jget "$(app get-id --identity-pool-id "$pool")" 'd["IdentityId"]')
	expect_json "[\"$g1\", \"$g2\"]" "d[0] != d[1]" \
		"all(__import__('re').fullmatch(r'us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}', i) for i in d)"
	out=$(ci describe-identity --identity-id "$g1")
	expect_json "$out" "d['IdentityId'] == '$g1'" "'Logins' not in d" "d['CreationDate'] <= d['LastModifiedDate']"

	noguest=$(identity_pool ids-noguest --no-allow-unauthenticated-identities)
	expect_error NotAuthorizedException "$MSG_UNAUTHENTICATED" get-id --identity-pool-id "$noguest"

	# A Facebook user: the same login, the same identity.
	fb=EAAB-$RUN-alice
	user=$(jget "$(app get-id --identity-pool-id "$pool" --logins "$(logins "$FACEBOOK" "$fb")")" 'd["IdentityId"]')
	out=$(app get-id --identity-pool-id "$pool" --logins "$(logins "$FACEBOOK" "$fb")")
	expect_json "$out" "d == {'IdentityId': '$user'}"

	# Linking: GetOpenIdToken with the identity's login and a user pool one.
	up=$(user_pool_token "sub-$RUN-alice")
	out=$(app get-open-id-token --identity-id "$user" --logins "$(logins "$FACEBOOK" "$fb" "$USER_POOL" "$up")")
	expect_json "$out" "d['IdentityId'] == '$user'" "d['Token'].count('.') == 2"
	out=$(ci describe-identity --identity-id "$user")
	expect_json "$out" "sorted(d['Logins']) == sorted(['$FACEBOOK', '$USER_POOL'])"
	out=$(app get-id --identity-pool-id "$pool" --logins "$(logins "$USER_POOL" "$up")")
	expect_json "$out" "d == {'IdentityId': '$user'}"
	expect_error NotAuthorizedException "$MSG_LOGINS_MISMATCH" get-open-id-token --identity-id "$user"

	# Merge: guest g2 signs in with Alice's login; Alice's identity wins and
	# the guest is disabled.
	out=$(app get-open-id-token --identity-id "$g2" --logins "$(logins "$FACEBOOK" "$fb")")
	expect_json "$out" "d['IdentityId'] == '$user'"
	expect_error NotAuthorizedException "Access to Identity '$g2' is forbidden." get-open-id-token --identity-id "$g2"

	# ListIdentities, pages of 2 by hand; --hide-disabled leaves g2 out.
	listed=$(list_ids "$pool" 2)
	expect_json "$listed" "d == ['$g1', '$g2', '$user']"
	listed=$(list_ids "$pool" 2 --hide-disabled)
	expect_json "$listed" "d == ['$g1', '$user']"

	# UnlinkIdentity, proven with the user pool login.
	out=$(app unlink-identity --identity-id "$user" --logins "$(logins "$USER_POOL" "$up")" --logins-to-remove "$FACEBOOK")
	[[ -z $out ]] || fail "unlink-identity printed: $out"
	out=$(ci describe-identity --identity-id "$user")
	expect_json "$out" "d['Logins'] == ['$USER_POOL']"
	known=$(jget "$(app get-id --identity-pool-id "$pool" --logins "$(logins "$FACEBOOK" "$fb")")" 'd["IdentityId"]')
	[[ $known != "$user" ]] || fail "an unlinked Facebook login still finds identity $user"

	# DeleteIdentities.
	out=$(ci delete-identities --identity-ids-to-delete "$g1" "$known")
	expect_json "$out" "d == {'UnprocessedIdentityIds': []}"
	expect_error ResourceNotFoundException "Identity '$g1' not found." describe-identity --identity-id "$g1"
	listed=$(list_ids "$pool" 60)
	expect_json "$listed" "d == ['$g2', '$user']"
}

# GetOpenIdTokenForDeveloperIdentity, LookupDeveloperIdentity,
# MergeDeveloperIdentities, UnlinkDeveloperIdentity.
flow_developer() {
	local pool out alice bob
	pool=$(identity_pool dev)
	out=$(ci get-open-id-token-for-developer-identity --identity-pool-id "$pool" --logins "$DEVELOPER=alice" --token-duration 900)
	expect_json "$out" "sorted(d) == ['IdentityId', 'Token']"
	alice=$(jget "$out" 'd["IdentityId"]')
	expect_json "$(claims "$(jget "$out" 'd["Token"]')")" \
		"d['sub'] == '$alice'" "d['aud'] == '$pool'" "d['exp'] - d['iat'] == 900" \
		"d['amr'] == ['authenticated', '$DEVELOPER', '$DEVELOPER:$pool:alice']"
	out=$(ci get-open-id-token-for-developer-identity --identity-pool-id "$pool" --logins "$DEVELOPER=alice")
	expect_json "$out" "d['IdentityId'] == '$alice'"
	bob=$(jget "$(ci get-open-id-token-for-developer-identity --identity-pool-id "$pool" --logins "$DEVELOPER=bob")" 'd["IdentityId"]')
	[[ $bob != "$alice" ]] || fail "two developer users got one identity"

	out=$(ci lookup-developer-identity --identity-pool-id "$pool" --developer-user-identifier alice --max-results 10)
	expect_json "$out" "d == {'IdentityId': '$alice', 'DeveloperUserIdentifierList': ['alice']}"
	out=$(ci lookup-developer-identity --identity-pool-id "$pool" --identity-id "$bob" --max-results 10)
	expect_json "$out" "d == {'IdentityId': '$bob', 'DeveloperUserIdentifierList': ['bob']}"

	out=$(ci merge-developer-identities --source-user-identifier alice --destination-user-identifier bob \
		--developer-provider-name "$DEVELOPER" --identity-pool-id "$pool")
	expect_json "$out" "d == {'IdentityId': '$bob'}"
	out=$(ci lookup-developer-identity --identity-pool-id "$pool" --identity-id "$bob" --max-results 10)
	expect_json "$out" "d == {'IdentityId': '$bob', 'DeveloperUserIdentifierList': ['alice', 'bob']}"
	out=$(ci lookup-developer-identity --identity-pool-id "$pool" --identity-id "$bob" --max-results 1)
	expect_json "$out" "d['DeveloperUserIdentifierList'] == ['alice']" "d.get('NextToken')"
	out=$(ci lookup-developer-identity --identity-pool-id "$pool" --identity-id "$bob" --max-results 1 --next-token "$(jget "$out" 'd["NextToken"]')")
	expect_json "$out" "d['DeveloperUserIdentifierList'] == ['bob']" "'NextToken' not in d"
	expect_error NotAuthorizedException "Access to Identity '$alice' is forbidden." get-credentials-for-identity --identity-id "$alice"

	out=$(ci unlink-developer-identity --identity-id "$bob" --identity-pool-id "$pool" \
		--developer-provider-name "$DEVELOPER" --developer-user-identifier alice)
	[[ -z $out ]] || fail "unlink-developer-identity printed: $out"
	expect_error ResourceNotFoundException "Developer user identifier 'alice' not found." \
		lookup-developer-identity --identity-pool-id "$pool" --developer-user-identifier alice --max-results 10
	expect_error NotAuthorizedException "$MSG_DEVELOPER_PROVIDER" \
		get-open-id-token-for-developer-identity --identity-pool-id "$pool" --logins login.other.example=alice
}

# SetIdentityPoolRoles, GetCredentialsForIdentity for a guest and for a
# developer identity (enhanced flow, the cognito-identity.amazonaws.com
# login), the classic flow (GetOpenIdToken, STS AssumeRoleWithWebIdentity),
# each proven with STS GetCallerIdentity under the minted credentials.
flow_credentials() {
	local pool guest out creds dev token
	pool=$(identity_pool creds --allow-classic-flow)
	ci set-identity-pool-roles --identity-pool-id "$pool" \
		--roles "authenticated=$AUTH_ROLE,unauthenticated=$UNAUTH_ROLE" >/dev/null

	guest=$(jget "$(app get-id --identity-pool-id "$pool")" 'd["IdentityId"]')
	out=$(app get-credentials-for-identity --identity-id "$guest")
	expect_json "$out" "d['IdentityId'] == '$guest'" \
		"sorted(d['Credentials']) == ['AccessKeyId', 'Expiration', 'SecretKey', 'SessionToken']" \
		"__import__('re').fullmatch(r'ASIA[A-Z2-7]{16}', d['Credentials']['AccessKeyId'])" \
		"len(d['Credentials']['SecretKey']) == 40"
	creds=$(jget "$out" 'json.dumps(d["Credentials"])')
	caller_is "$creds" "arn:aws:sts::$ACCOUNT:assumed-role/Compat_Unauth_Role/CognitoIdentityCredentials"

	dev=$(ci get-open-id-token-for-developer-identity --identity-pool-id "$pool" --logins "$DEVELOPER=erin")
	token=$(jget "$dev" 'd["Token"]')
	out=$(app get-credentials-for-identity --identity-id "$(jget "$dev" 'd["IdentityId"]')" --logins "$(logins "$COGNITO" "$token")")
	expect_json "$out" "d['IdentityId'] == '$(jget "$dev" 'd["IdentityId"]')'"
	creds=$(jget "$out" 'json.dumps(d["Credentials"])')
	caller_is "$creds" "arn:aws:sts::$ACCOUNT:assumed-role/Compat_Auth_Role/CognitoIdentityCredentials"

	# Classic flow: the guest's OpenID token, exchanged by STS (no AWS
	# credentials needed).
	token=$(jget "$(app get-open-id-token --identity-id "$guest")" 'd["Token"]')
	out=$(aws --endpoint-url "$IDPOOL_ENDPOINT" --region "$REGION" --output json sts assume-role-with-web-identity \
		--role-arn "$UNAUTH_ROLE" --role-session-name compat-classic --web-identity-token "$token" --no-sign-request)
	expect_json "$out" "d['SubjectFromWebIdentityToken'] == '$guest'" "d['Audience'] == '$pool'" \
		"d['AssumedRoleUser']['Arn'] == 'arn:aws:sts::$ACCOUNT:assumed-role/Compat_Unauth_Role/compat-classic'"
	creds=$(jget "$out" 'json.dumps(d["Credentials"])')
	caller_is "$creds" "arn:aws:sts::$ACCOUNT:assumed-role/Compat_Unauth_Role/compat-classic"
}

# ---------------------------------------------------------------------------
# Runner
# ---------------------------------------------------------------------------

# A prefix that tells this run's pools apart from any others on the server;
# the flows of one run share it.
if [[ -z ${AWSCLI_COMPAT_RUN:-} ]]; then
	AWSCLI_COMPAT_RUN=compat-awscli-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
	export AWSCLI_COMPAT_RUN
fi
RUN=$AWSCLI_COMPAT_RUN

if [[ -n ${AWSCLI_COMPAT_FLOW:-} ]]; then
	# Child: run one flow.
	WORK=$(mktemp -d)
	trap cleanup EXIT
	"flow_$AWSCLI_COMPAT_FLOW"
	exit 0
fi

command -v aws >/dev/null || fail "aws (the AWS CLI) is not on PATH"
command -v python3 >/dev/null || fail "python3 is not on PATH"
aws --version 2>&1

flows=("$@")
[[ ${#flows[@]} -gt 0 ]] || flows=("${FLOWS[@]}")
failed=()
for flow in "${flows[@]}"; do
	declare -F "flow_$flow" >/dev/null || fail "unknown flow $flow (flows: ${FLOWS[*]})"
	start=$SECONDS
	if AWSCLI_COMPAT_FLOW=$flow "$BASH" "$0"; then
		echo "ok   $flow ($((SECONDS - start))s)"
	else
		echo "FAIL $flow ($((SECONDS - start))s)"
		failed+=("$flow")
	fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
	echo "awscli compat: ${#failed[@]} of ${#flows[@]} flows failed: ${failed[*]}" >&2
	exit 1
fi
echo "awscli compat: all ${#flows[@]} flows passed"

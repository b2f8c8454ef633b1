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

FLOWS=(pools list roles principal_tags tags errors)
# Identity operations (GetId, GetCredentialsForIdentity, ...) go here too:
# add flow_identities and list it in FLOWS.

: "${IDPOOL_ENDPOINT:?set IDPOOL_ENDPOINT to the server URL, e.g. http://127.0.0.1:4591}"
REGION=us-east-1
# The account a non-numeric access key id acts in: the server's --default-account.
ACCOUNT=${IDPOOL_ACCOUNT:-000000000000}

# Act like a user with credentials in the environment, whatever the local
# ~/.aws says.
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_DEFAULT_REGION=$REGION
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_COGNITO_IDENTITY
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

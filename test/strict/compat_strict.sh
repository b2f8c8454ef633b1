#!/usr/bin/env bash
# Strict-mode compatibility check: starts a built idpool with --auth strict
# and a credentials file, then drives it with boto3 and the AWS CLI. Calls
# signed with the configured key must succeed; calls with a wrong secret,
# an unknown key or no signature must fail with AWS's error codes and texts.
#
#   bash test/strict/compat_strict.sh path/to/idpool
#
# Needs python3 with boto3 and the AWS CLI (aws). Outside CI a missing tool
# makes its part SKIPPED; under CI=true it is a failure. Exit status 0 only
# when every check that ran passed.
set -euo pipefail
shopt -s inherit_errexit

if [[ $# -ne 1 || ! -x $1 ]]; then
	echo "usage: $0 path/to/idpool (a built binary)" >&2
	exit 2
fi
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
CI=${CI:-false}
START_TIMEOUT=30

ACCOUNT=111111111111
KEY=AKIACOMPATSTRICT0001
SECRET=compat/strict+secret/0123456789abcdefghij
OTHER_ACCOUNT=222222222222
OTHER_KEY=AKIACOMPATSTRICT0002
OTHER_SECRET=compat/strict+secret/other/0123456789ab
REGION=us-east-1
MISMATCH="The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

tmp=$(mktemp -d "${TMPDIR:-/tmp}/idpool-strict.XXXXXX")
server_pid=""
failures=0
skips=0

cleanup() {
	if [[ -n $server_pid ]]; then
		kill -TERM "$server_pid" 2>/dev/null || true
		local i
		for ((i = 0; i < 100; i++)); do
			kill -0 "$server_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pass() { echo "ok      $*"; }
fail() {
	echo "FAIL    $*" >&2
	failures=$((failures + 1))
}
skip() {
	if [[ $CI == true ]]; then
		fail "$* (CI=true: nothing may be skipped)"
	else
		echo "SKIPPED $*" >&2
		skips=$((skips + 1))
	fi
}

# The keys strict mode accepts: a comment, a blank line, two accounts.
cat >"$tmp/credentials" <<EOF
# strict-mode keys for the compat check
$KEY $SECRET $ACCOUNT

$OTHER_KEY $OTHER_SECRET $OTHER_ACCOUNT
EOF

# The roles file: an "Auditor" role of the other account that any pool's
# authenticated users in the region may assume (its policy decides, even in
# strict mode); other roles fall under the implicit policy.
cat >"$tmp/roles.json" <<EOF
{"Roles": [{"Arn": "arn:aws:iam::$OTHER_ACCOUNT:role/Auditor",
  "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {"StringLike": {"cognito-identity.amazonaws.com:aud": "$REGION:*"},
                  "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}}}]}}]}
EOF

health() {
	local line
	{ exec 3<>"/dev/tcp/${1%:*}/${1##*:}"; } 2>/dev/null || return 1
	printf 'GET /health HTTP/1.0\r\nHost: %s\r\n\r\n' "$1" >&3
	read -r -t 2 line <&3 || line=""
	exec 3<&- 3>&-
	[[ $line == "HTTP/1."?" 200 "* ]]
}

"$BIN" serve --listen 127.0.0.1:0 --data-dir "$tmp/data" \
	--auth strict --credentials-file "$tmp/credentials" --roles-file "$tmp/roles.json" \
	--default-region "$REGION" --log-format text --log-level info >"$tmp/server.log" 2>&1 &
server_pid=$!
addr=""
deadline=$((SECONDS + START_TIMEOUT))
while ((SECONDS < deadline)); do
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "idpool exited during start-up; its log:" >&2
		cat "$tmp/server.log" >&2
		server_pid=""
		exit 1
	fi
	[[ -n $addr ]] || addr=$(grep -m1 -o 'msg="idpool listening" addr=[^ ]*' "$tmp/server.log" | sed 's/.*addr=//') || true
	if [[ -n $addr ]] && health "$addr"; then
		break
	fi
	sleep 0.1
done
if [[ -z $addr ]] || ! health "$addr"; then
	echo "idpool did not answer GET /health within ${START_TIMEOUT}s; its log:" >&2
	cat "$tmp/server.log" >&2
	exit 1
fi
grep -q 'auth=strict' "$tmp/server.log" || fail "the server log does not say auth=strict"
ENDPOINT=http://$addr
echo "idpool (strict) at $ENDPOINT, pid $server_pid"

# Whatever ~/.aws says, the clients see only what this script sets.
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_DEFAULT_REGION=$REGION AWS_MAX_ATTEMPTS=1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_COGNITO_IDENTITY AWS_ENDPOINT_URL_STS \
	AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

# ---------------------------------------------------------------------------
# boto3
# ---------------------------------------------------------------------------

if ! command -v python3 >/dev/null || ! python3 -c 'import boto3' 2>/dev/null; then
	skip "boto3: python3 with boto3 is not available"
elif python3 - "$ENDPOINT" "$REGION" "$KEY" "$SECRET" "$ACCOUNT" "$OTHER_KEY" "$OTHER_SECRET" "$OTHER_ACCOUNT" "$MISMATCH" <<'PY'; then
import sys

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, region, key, secret, account, other_key, other_secret, other_account, mismatch = sys.argv[1:]
failed = []


def client(service, key_id="", secret_key="", unsigned=False):
    cfg = Config(retries={"max_attempts": 1, "mode": "standard"})
    if unsigned:
        cfg = cfg.merge(Config(signature_version=botocore.UNSIGNED))
    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id=key_id or "unused", aws_secret_access_key=secret_key or "unused", config=cfg)


def check(name, ok, detail=""):
    print(("ok      " if ok else "FAIL    ") + "boto3: " + name + ("" if ok else ": " + detail), file=sys.stdout if ok else sys.stderr)
    if not ok:
        failed.append(name)


def expect_error(name, call, code, message, want_status=None):
    try:
        call()
    except ClientError as e:
        err = e.response["Error"]
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        check(name, err["Code"] == code and err["Message"] == message and want_status in (None, status),
              "got %s %s %r, want %s %r" % (status, err["Code"], err["Message"], code, message))
        return
    check(name, False, "succeeded, want " + code)


ci = client("cognito-identity", key, secret)
try:
    pool = ci.create_identity_pool(IdentityPoolName="compat_strict", AllowUnauthenticatedIdentities=True)["IdentityPoolId"]
    check("create_identity_pool with the configured key", pool.startswith(region + ":"), pool)
    pools = ci.list_identity_pools(MaxResults=60)["IdentityPools"]
    check("list_identity_pools sees the pool", [p["IdentityPoolId"] for p in pools] == [pool], repr(pools))
    check("describe_identity_pool", ci.describe_identity_pool(IdentityPoolId=pool)["IdentityPoolName"] == "compat_strict")
    ci.set_identity_pool_roles(IdentityPoolId=pool, Roles={
        "authenticated": "arn:aws:iam::%s:role/Compat_Auth_Role" % account,
        "unauthenticated": "arn:aws:iam::%s:role/Compat_Unauth_Role" % account})
    check("set_identity_pool_roles", ci.get_identity_pool_roles(IdentityPoolId=pool)["Roles"]["unauthenticated"].endswith("/Compat_Unauth_Role"))
    ident = client("cognito-identity", unsigned=True).get_id(IdentityPoolId=pool)["IdentityId"]
    check("get_id unsigned", ident.startswith(region + ":"), ident)
    creds = ci.get_credentials_for_identity(IdentityId=ident)["Credentials"]
    check("get_credentials_for_identity", creds["AccessKeyId"].startswith("ASIA"), repr(creds))

    other = client("cognito-identity", other_key, other_secret)
    check("another account does not list the pool", other.list_identity_pools(MaxResults=60)["IdentityPools"] == [])
    expect_error("another account cannot describe the pool", lambda: other.describe_identity_pool(IdentityPoolId=pool),
                 "ResourceNotFoundException", "IdentityPool '%s' not found." % pool)

    who = client("sts", key, secret).get_caller_identity()
    check("sts get_caller_identity with the configured key", who["Account"] == account and who["Arn"] == "arn:aws:iam::%s:root" % account, repr(who))
    minted = boto3.client("sts", endpoint_url=endpoint, region_name=region, aws_access_key_id=creds["AccessKeyId"],
                          aws_secret_access_key=creds["SecretKey"], aws_session_token=creds["SessionToken"]).get_caller_identity()
    check("sts get_caller_identity with minted credentials",
          minted["Arn"] == "arn:aws:sts::%s:assumed-role/Compat_Unauth_Role/CognitoIdentityCredentials" % account, repr(minted))
    session = boto3.client("cognito-identity", endpoint_url=endpoint, region_name=region, aws_access_key_id=creds["AccessKeyId"],
                           aws_secret_access_key=creds["SecretKey"], aws_session_token=creds["SessionToken"])
    try:
        session.list_identity_pools(MaxResults=1)
        check("minted credentials cannot manage pools", False, "succeeded")
    except ClientError as e:
        check("minted credentials cannot manage pools", e.response["Error"]["Code"] == "AccessDeniedException", repr(e.response["Error"]))

    # Trust: a guest's token becomes only its pool's unauthenticated role.
    anon_sts = client("sts", unsigned=True)
    ci.update_identity_pool(IdentityPoolId=pool, IdentityPoolName="compat_strict", AllowUnauthenticatedIdentities=True,
                            DeveloperProviderName="login.compat.strict")
    guest_token = client("cognito-identity", unsigned=True).get_open_id_token(IdentityId=ident)["Token"]
    dev_token = ci.get_open_id_token_for_developer_identity(IdentityPoolId=pool, Logins={"login.compat.strict": "dora"})["Token"]
    assumed = anon_sts.assume_role_with_web_identity(RoleArn="arn:aws:iam::%s:role/Compat_Unauth_Role" % account,
                                                     RoleSessionName="guest", WebIdentityToken=guest_token)
    check("a guest token becomes the pool's unauthenticated role", assumed["AssumedRoleUser"]["Arn"].endswith(":assumed-role/Compat_Unauth_Role/guest"))
    for role in ("arn:aws:iam::%s:role/Compat_Auth_Role" % account, "arn:aws:iam::%s:role/Admin" % other_account,
                 "arn:aws:iam::%s:role/Auditor" % other_account):
        expect_error("a guest token cannot become " + role,
                     lambda: anon_sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="guest", WebIdentityToken=guest_token),
                     "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403)
    auditor = anon_sts.assume_role_with_web_identity(RoleArn="arn:aws:iam::%s:role/Auditor" % other_account,
                                                    RoleSessionName="dora", WebIdentityToken=dev_token)
    check("the roles file lets a developer user become Auditor", auditor["AssumedRoleUser"]["Arn"] ==
          "arn:aws:sts::%s:assumed-role/Auditor/dora" % other_account, repr(auditor["AssumedRoleUser"]))
    expect_error("a developer user cannot become a role its pool does not name",
                 lambda: anon_sts.assume_role_with_web_identity(RoleArn="arn:aws:iam::%s:role/Admin" % account,
                                                                RoleSessionName="dora", WebIdentityToken=dev_token),
                 "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403)

    expect_error("wrong secret", lambda: client("cognito-identity", key, "wrong/" + secret).list_identity_pools(MaxResults=1),
                 "InvalidSignatureException", mismatch)
    expect_error("unknown key", lambda: client("cognito-identity", "AKIACOMPATUNKNOWN000", secret).list_identity_pools(MaxResults=1),
                 "UnrecognizedClientException", "The security token included in the request is invalid.")
    expect_error("no signature", lambda: client("cognito-identity", unsigned=True).list_identity_pools(MaxResults=1),
                 "MissingAuthenticationTokenException", "Missing Authentication Token")
    expect_error("sts with a wrong secret", lambda: client("sts", key, "wrong/" + secret).get_caller_identity(),
                 "SignatureDoesNotMatch", mismatch)
    expect_error("sts with an unknown key", lambda: client("sts", "AKIACOMPATUNKNOWN000", secret).get_caller_identity(),
                 "InvalidClientTokenId", "The security token included in the request is invalid.")

    ci.delete_identity_pool(IdentityPoolId=pool)
    check("delete_identity_pool", True)
except Exception as e:  # an unexpected failure of a call that must succeed
    check("unexpected error", False, repr(e))
sys.exit(1 if failed else 0)
PY
	pass "boto3 checks"
else
	fail "boto3 checks (see above)"
fi

# ---------------------------------------------------------------------------
# AWS CLI
# ---------------------------------------------------------------------------

# cli KEY SECRET ARGS... runs the AWS CLI against the server as KEY.
cli() {
	local key=$1 secret=$2
	shift 2
	AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret aws --endpoint-url "$ENDPOINT" --region "$REGION" --output json "$@"
}

# expect_cli_error NAME CODE MESSAGE KEY SECRET ARGS... runs the CLI, which
# must exit non-zero and print AWS's line for CODE and MESSAGE.
expect_cli_error() {
	local name=$1 code=$2 message=$3 rc=0
	shift 3
	cli "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [[ $rc -eq 0 ]]; then
		fail "aws: $name: succeeded, want $code"
	elif grep -qF -- "An error occurred ($code) when calling" "$tmp/err" && grep -qF -- "operation: $message" "$tmp/err"; then
		pass "aws: $name"
	else
		fail "aws: $name: exit $rc, stderr: $(cat "$tmp/err")"
	fi
}

if ! command -v aws >/dev/null || ! aws --version >/dev/null 2>&1; then
	skip "AWS CLI: aws is not installed"
elif ! command -v python3 >/dev/null; then
	skip "AWS CLI: python3 (to read its JSON) is not installed"
else
	aws --version
	if out=$(cli "$KEY" "$SECRET" cognito-identity create-identity-pool --identity-pool-name compat_strict_cli --allow-unauthenticated-identities) &&
		pool=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["IdentityPoolId"])' "$out"); then
		pass "aws: create-identity-pool with the configured key"
		if out=$(cli "$KEY" "$SECRET" cognito-identity list-identity-pools --max-results 60) &&
			python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if sys.argv[2] in [p["IdentityPoolId"] for p in d["IdentityPools"]] else 1)' "$out" "$pool"; then
			pass "aws: list-identity-pools with the configured key"
		else
			fail "aws: list-identity-pools: $out"
		fi
		if out=$(cli "$KEY" "$SECRET" cognito-identity get-id --identity-pool-id "$pool") && [[ $out == *'"IdentityId"'* ]]; then
			pass "aws: get-id"
		else
			fail "aws: get-id: $out"
		fi
		if out=$(cli "" "" cognito-identity get-id --identity-pool-id "$pool" --no-sign-request) && [[ $out == *'"IdentityId"'* ]]; then
			pass "aws: get-id --no-sign-request"
		else
			fail "aws: get-id --no-sign-request: $out"
		fi
		if out=$(cli "$KEY" "$SECRET" sts get-caller-identity) &&
			python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d["Account"] == sys.argv[2] else 1)' "$out" "$ACCOUNT"; then
			pass "aws: sts get-caller-identity with the configured key"
		else
			fail "aws: sts get-caller-identity: $out"
		fi
		if out=$(cli "" "" cognito-identity get-id --identity-pool-id "$pool" --no-sign-request) &&
			guest=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["IdentityId"])' "$out") &&
			out=$(cli "" "" cognito-identity get-open-id-token --identity-id "$guest" --no-sign-request) &&
			token=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["Token"])' "$out"); then
			expect_cli_error "a guest token cannot become another account's role" AccessDenied \
				"Not authorized to perform sts:AssumeRoleWithWebIdentity" "" "" sts assume-role-with-web-identity --no-sign-request \
				--role-arn "arn:aws:iam::$OTHER_ACCOUNT:role/Admin" --role-session-name guest --web-identity-token "$token"
		else
			fail "aws: a guest token: $out"
		fi
		expect_cli_error "another account cannot describe the pool" ResourceNotFoundException "IdentityPool '$pool' not found." \
			"$OTHER_KEY" "$OTHER_SECRET" cognito-identity describe-identity-pool --identity-pool-id "$pool"
		if cli "$KEY" "$SECRET" cognito-identity delete-identity-pool --identity-pool-id "$pool" >/dev/null; then
			pass "aws: delete-identity-pool"
		else
			fail "aws: delete-identity-pool"
		fi
	else
		fail "aws: create-identity-pool with the configured key: $out"
	fi
	expect_cli_error "wrong secret" InvalidSignatureException "$MISMATCH" \
		"$KEY" "wrong/$SECRET" cognito-identity list-identity-pools --max-results 10
	expect_cli_error "unknown key" UnrecognizedClientException "The security token included in the request is invalid." \
		AKIACOMPATUNKNOWN000 "$SECRET" cognito-identity list-identity-pools --max-results 10
	expect_cli_error "no signature" MissingAuthenticationTokenException "Missing Authentication Token" \
		"" "" cognito-identity list-identity-pools --max-results 10 --no-sign-request
	expect_cli_error "sts with a wrong secret" SignatureDoesNotMatch "$MISMATCH" \
		"$KEY" "wrong/$SECRET" sts get-caller-identity
fi

if ((failures > 0)); then
	echo "--- server log (last 30 lines) ---" >&2
	tail -n 30 "$tmp/server.log" >&2
	echo "FAILED: $failures check(s)"
	exit 1
fi
if ((skips > 0)); then
	echo "PASSED with $skips part(s) SKIPPED"
else
	echo "PASSED"
fi

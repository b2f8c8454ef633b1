// Compatibility suite for the AWS SDK for JavaScript v3: a browser-style
// app gets guest credentials with fromCognitoIdentityPool, a backend gets
// developer credentials with fromCognitoIdentity, and both prove
// themselves through STS GetCallerIdentity, all against idpool with no
// change but the endpoint.
//
//   IDPOOL_ENDPOINT=http://127.0.0.1:4591 npm test
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

import {
  CognitoIdentityClient,
  CreateIdentityPoolCommand,
  DeleteIdentityPoolCommand,
  DescribeIdentityPoolCommand,
  GetIdCommand,
  GetOpenIdTokenCommand,
  GetOpenIdTokenForDeveloperIdentityCommand,
  GetCredentialsForIdentityCommand,
  SetIdentityPoolRolesCommand,
  NotAuthorizedException,
  ResourceNotFoundException,
  InvalidIdentityPoolConfigurationException,
} from "@aws-sdk/client-cognito-identity";
import { STSClient, GetCallerIdentityCommand, AssumeRoleWithWebIdentityCommand } from "@aws-sdk/client-sts";
import { fromCognitoIdentity, fromCognitoIdentityPool } from "@aws-sdk/credential-providers";

const endpoint = process.env.IDPOOL_ENDPOINT;
if (!endpoint) {
  throw new Error("IDPOOL_ENDPOINT must name the idpool server, e.g. http://127.0.0.1:4591");
}
const region = "us-east-1";
// A 12-digit access key id acts for that account.
const account = "123456789012";
const admin = new CognitoIdentityClient({
  region,
  endpoint,
  credentials: { accessKeyId: account, secretAccessKey: "compat-js-secret" },
});
// What a browser app has: no AWS credentials at all.
const anonymous = new CognitoIdentityClient({ region, endpoint, credentials: { accessKeyId: "", secretAccessKey: "" } });

const guestRole = `arn:aws:iam::${account}:role/CompatJs_Guest`;
const userRole = `arn:aws:iam::${account}:role/CompatJs_User`;
const developer = "login.compat.js";
const run = "compat-js-" + randomUUID().slice(0, 8);
let pool;
const pools = [];

async function createPool(name, input = {}) {
  const out = await admin.send(
    new CreateIdentityPoolCommand({ IdentityPoolName: name, AllowUnauthenticatedIdentities: true, ...input }),
  );
  pools.push(out.IdentityPoolId);
  return out.IdentityPoolId;
}

function stsWith(credentials) {
  return new STSClient({ region, endpoint, credentials });
}

before(async () => {
  pool = await createPool(run, { DeveloperProviderName: developer });
  await admin.send(
    new SetIdentityPoolRolesCommand({
      IdentityPoolId: pool,
      Roles: { unauthenticated: guestRole, authenticated: userRole },
    }),
  );
});

after(async () => {
  for (const id of pools) {
    await admin.send(new DeleteIdentityPoolCommand({ IdentityPoolId: id }));
  }
});

test("fromCognitoIdentityPool gets guest credentials that pass GetCallerIdentity", async () => {
  const provider = fromCognitoIdentityPool({ client: anonymous, identityPoolId: pool });
  const creds = await provider();
  assert.match(creds.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
  assert.equal(creds.secretAccessKey.length, 40);
  assert.ok(creds.sessionToken.length > 100);
  const inAnHour = Date.now() + 3600 * 1000;
  assert.ok(Math.abs(creds.expiration.getTime() - inAnHour) < 120 * 1000, `expiration ${creds.expiration}`);
  assert.match(creds.identityId, /^us-east-1:[0-9a-f-]{36}$/);

  const who = await stsWith(creds).send(new GetCallerIdentityCommand({}));
  assert.equal(who.Account, account);
  assert.equal(who.Arn, `arn:aws:sts::${account}:assumed-role/CompatJs_Guest/CognitoIdentityCredentials`);
  assert.match(who.UserId, /^AROA[A-Z2-7]{17}:CognitoIdentityCredentials$/);
});

test("fromCognitoIdentity with a developer token gets the authenticated role", async () => {
  // The backend asserts its user (a signed developer call)...
  const user = "alice-" + run;
  const dev = await admin.send(
    new GetOpenIdTokenForDeveloperIdentityCommand({ IdentityPoolId: pool, Logins: { [developer]: user } }),
  );
  // ...and the client exchanges the token, enhanced flow.
  const creds = await fromCognitoIdentity({
    client: anonymous,
    identityId: dev.IdentityId,
    logins: { "cognito-identity.amazonaws.com": dev.Token },
  })();
  assert.equal(creds.identityId, dev.IdentityId);
  const who = await stsWith(creds).send(new GetCallerIdentityCommand({}));
  assert.equal(who.Arn, `arn:aws:sts::${account}:assumed-role/CompatJs_User/CognitoIdentityCredentials`);

  // The same user gets the same identity next time.
  const again = await admin.send(
    new GetOpenIdTokenForDeveloperIdentityCommand({ IdentityPoolId: pool, Logins: { [developer]: user } }),
  );
  assert.equal(again.IdentityId, dev.IdentityId);
});

test("the classic flow: GetOpenIdToken then STS AssumeRoleWithWebIdentity", async () => {
  const { IdentityId } = await anonymous.send(new GetIdCommand({ IdentityPoolId: pool }));
  const { Token } = await anonymous.send(new GetOpenIdTokenCommand({ IdentityId }));
  const sts = new STSClient({ region, endpoint, credentials: { accessKeyId: "", secretAccessKey: "" } });
  const out = await sts.send(
    new AssumeRoleWithWebIdentityCommand({ RoleArn: guestRole, RoleSessionName: "web", WebIdentityToken: Token }),
  );
  assert.equal(out.SubjectFromWebIdentityToken, IdentityId);
  assert.equal(out.Audience, pool);
  const who = await stsWith({
    accessKeyId: out.Credentials.AccessKeyId,
    secretAccessKey: out.Credentials.SecretAccessKey,
    sessionToken: out.Credentials.SessionToken,
  }).send(new GetCallerIdentityCommand({}));
  assert.equal(who.Arn, `arn:aws:sts::${account}:assumed-role/CompatJs_Guest/web`);
});

test("tampered credentials are refused by STS", async () => {
  const creds = await fromCognitoIdentityPool({ client: anonymous, identityPoolId: pool })();
  const sts = stsWith({ ...creds, secretAccessKey: "x".repeat(40) });
  await assert.rejects(sts.send(new GetCallerIdentityCommand({})), (err) => {
    assert.equal(err.name, "SignatureDoesNotMatch");
    return true;
  });
  const forged = stsWith({ ...creds, sessionToken: creds.sessionToken.slice(0, -8) + "AAAAAAAA" });
  await assert.rejects(forged.send(new GetCallerIdentityCommand({})), (err) => {
    assert.equal(err.name, "InvalidClientTokenId");
    assert.equal(err.message, "The security token included in the request is invalid.");
    return true;
  });
});

test("refusals come back as the SDK's typed exceptions with AWS's texts", async () => {
  const closed = await createPool(run + "-noguests", { AllowUnauthenticatedIdentities: false });
  await assert.rejects(anonymous.send(new GetIdCommand({ IdentityPoolId: closed })), (err) => {
    assert.ok(err instanceof NotAuthorizedException, err.name);
    assert.equal(err.message, "Unauthenticated access is not supported for this identity pool.");
    assert.match(err.$metadata.requestId, /^[0-9a-f-]{36}$/);
    return true;
  });
  const missing = "us-east-1:00000000-0000-0000-0000-000000000000";
  await assert.rejects(admin.send(new DescribeIdentityPoolCommand({ IdentityPoolId: missing })), (err) => {
    assert.ok(err instanceof ResourceNotFoundException, err.name);
    assert.equal(err.message, `IdentityPool '${missing}' not found.`);
    return true;
  });
  const roleless = await createPool(run + "-noroles");
  const { IdentityId } = await anonymous.send(new GetIdCommand({ IdentityPoolId: roleless }));
  await assert.rejects(anonymous.send(new GetCredentialsForIdentityCommand({ IdentityId })), (err) => {
    assert.ok(err instanceof InvalidIdentityPoolConfigurationException, err.name);
    assert.equal(err.message, "Invalid identity pool configuration. Check assigned IAM roles for this pool.");
    return true;
  });
});

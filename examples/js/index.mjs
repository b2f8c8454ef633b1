// The README's JavaScript example as a whole program (Node 20 or later):
// an administrator creates an identity pool with roles, then an app gets
// guest credentials with fromCognitoIdentityPool, the way Amplify and the
// SDK's credential providers do, and proves them with STS.
//
//   npm ci && IDPOOL_ENDPOINT=http://127.0.0.1:4591 npm start
import {
  CognitoIdentityClient,
  CreateIdentityPoolCommand,
  DeleteIdentityPoolCommand,
  SetIdentityPoolRolesCommand,
} from "@aws-sdk/client-cognito-identity";
import { fromCognitoIdentityPool } from "@aws-sdk/credential-providers";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";

const endpoint = process.env.IDPOOL_ENDPOINT ?? "http://127.0.0.1:4591";
const region = "us-east-1";

// The administrator signs; idpool's default (permissive) mode takes any
// key, and a 12-digit key id is the account it acts for.
const admin = new CognitoIdentityClient({
  region,
  endpoint,
  credentials: { accessKeyId: "123456789012", secretAccessKey: "any-secret" },
});
const { IdentityPoolId: pool } = await admin.send(
  new CreateIdentityPoolCommand({ IdentityPoolName: "js_example", AllowUnauthenticatedIdentities: true }),
);
try {
  // The enhanced flow needs roles on the pool.
  await admin.send(new SetIdentityPoolRolesCommand({
    IdentityPoolId: pool,
    Roles: {
      unauthenticated: "arn:aws:iam::123456789012:role/Guest",
      authenticated: "arn:aws:iam::123456789012:role/User",
    },
  }));

  // The app: GetId and GetCredentialsForIdentity, unsigned.
  const client = new CognitoIdentityClient({ region, endpoint });
  const credentials = fromCognitoIdentityPool({ client, identityPoolId: pool });
  const creds = await credentials();

  const sts = new STSClient({ region, endpoint, credentials: creds });
  const who = await sts.send(new GetCallerIdentityCommand({}));
  console.log(`pool ${pool}\nidentity ${creds.identityId}\ncredentials ${creds.accessKeyId}, expiring ${creds.expiration.toISOString()}\ncaller ${who.Arn}`);
  const want = "arn:aws:sts::123456789012:assumed-role/Guest/CognitoIdentityCredentials";
  if (who.Arn !== want) {
    throw new Error(`caller ${who.Arn}, want ${want}`);
  }
} finally {
  await admin.send(new DeleteIdentityPoolCommand({ IdentityPoolId: pool }));
}

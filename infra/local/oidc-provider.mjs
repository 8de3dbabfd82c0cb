// An organisation's identity provider for single sign-on, on loopback: node-oidc-provider (a certified OpenID
// Connect implementation) over HTTPS, for the tests and for trying SSO locally. It is a stand-in for the customer's
// Entra ID, Okta or Keycloak:
//   node oidc-provider.mjs PORT CERT.pem KEY.pem CLIENT-ID REDIRECT-URI
// One public client (the web player: authorization code with PKCE, no secret). Its sign-in page takes any login and
// any password ("dev interactions"): the account is the login. The ID token carries the account's email
// (LOGIN@idp.test) and a `roles` claim read from the login: one containing "admin" has CloudStore.Admins, "operator"
// CloudStore.Operators, "viewer" CloudStore.Viewers; any other login has no roles (a person the organisation has not
// given access). Keys are made at start and kept in memory.
import { createServer } from 'node:https';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const [port, cert, key, clientId, redirectUri] = process.argv.slice(2);
if (!port || !cert || !key || !clientId || !/^https:\/\//.test(redirectUri ?? '')) {
  console.error('usage: node oidc-provider.mjs PORT CERT.pem KEY.pem CLIENT-ID https://REDIRECT-URI');
  process.exit(2);
}

const rolesOf = (login) =>
  login.includes('admin') ? ['CloudStore.Admins']
    : login.includes('operator') ? ['CloudStore.Operators']
      : login.includes('viewer') ? ['CloudStore.Viewers']
        : [];

const signing = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
const issuer = `https://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    redirect_uris: [redirectUri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'none',
  }],
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'roles'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], roles: ['roles'] },
  // The claims of the scopes asked for go into the ID token itself, which is what the player hands to CloudStore.
  conformIdTokenClaims: false,
  findAccount: (_, id) => ({
    accountId: id,
    claims: () => ({ sub: id, email: `${id}@idp.test`, email_verified: true, roles: rolesOf(id) }),
  }),
  jwks: { keys: [{ ...signing, use: 'sig', alg: 'RS256', kid: randomBytes(8).toString('hex') }] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  features: { devInteractions: { enabled: true } },
  ttl: { IdToken: 300, AccessToken: 300, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600 },
});
provider.on('server_error', (_, error) => console.error('server_error', error));
for (const event of ['pushed_authorization_request.error', 'authorization.error', 'grant.error']) {
  provider.on(event, (ctx, error) => console.error(event, error.error, error.error_description, ctx.oidc?.params?.redirect_uri ?? ''));
}

createServer({ cert: readFileSync(cert), key: readFileSync(key) }, provider.callback())
  .listen(Number(port), "127.0.0.1", () => console.log(`identity provider ${issuer} for client ${clientId} at ${redirectUri}`));

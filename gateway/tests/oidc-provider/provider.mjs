// A real OpenID Connect provider for gateway/tests/oidc_login.rs and api.rs: panva's
// oidc-provider (an OpenID Certified implementation) with its built-in development login and
// consent pages.
//
//   node provider.mjs <client_id> <client_secret> <redirect_uri> [--api]
//
// With `--api` it also issues JWT access tokens with the client-credentials grant to the
// organisations' own systems (API_CLIENTS below) for any resource indicator (`resource=`), which
// becomes the token's audience: the local API of a gateway (gateway/tests/api.rs).
//
// Listens on a free port of 127.0.0.1 and prints one line `READY <issuer>` on stdout when it
// accepts requests. Every run signs with a freshly generated RSA key. Stops on SIGTERM/SIGINT
// and when its stdin closes (so it does not outlive the test that started it).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const [clientId, clientSecret, redirectUri, apiFlag] = process.argv.slice(2);
const api = apiFlag === '--api';
if (!clientId || !clientSecret || !redirectUri) {
  console.error('usage: node provider.mjs <client_id> <client_secret> <redirect_uri>');
  process.exit(64);
}

// The test's professionals. `roles` is what the gateway maps through [login.oidc.roles].
const ACCOUNTS = {
  'ib-jansen': { name: 'Ingrid Jansen', roles: ['intern_begeleider'] },
  'fg-devries': { name: 'Fatima de Vries', roles: ['privacy_officer'] },
  'mentor-bakker': { preferred_username: 'mbakker', roles: 'mentor' },
  'conciërge-piet': { name: 'Piet', roles: ['conciërge'] },
  '123456782': { name: 'BSN als id', roles: ['intern_begeleider'] },
};

// The organisations' own systems (client credentials) and the scopes each may ask for; the
// gateways map the scopes to convenant roles through [api.roles].
const API_CLIENTS = {
  leerlingadministratie: 'signaal:ib',
  'school-fg-rapportage': 'signaal:fg',
  'wijkteam-registratie': 'signaal:wijkcoach',
  kantinesysteem: 'signaal:kantine',
  'vt-registratie': 'signaal:vt',
  'gi-registratie': 'signaal:gi',
};
const API_SCOPES = Object.values(API_CLIENTS);
const API_SECRET_SUFFIX = '-test-secret-0123456789abcdef';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: `test-${randomBytes(4).toString('hex')}`,
  use: 'sig',
  alg: 'RS256',
};

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const clients = [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }];
  const features = { devInteractions: { enabled: true } };
  if (api) {
    for (const [id, scope] of Object.entries(API_CLIENTS)) {
      clients.push({
        client_id: id,
        client_secret: `${id}${API_SECRET_SUFFIX}`,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
        scope,
      });
    }
    features.clientCredentials = { enabled: true };
    features.resourceIndicators = {
      enabled: true,
      // Any resource indicator is a resource server here; the gateway checks the audience.
      async getResourceServerInfo(ctx, resourceIndicator) {
        return {
          scope: API_SCOPES.join(' '),
          audience: resourceIndicator,
          accessTokenTTL: 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    };
  }
  const provider = new Provider(issuer, {
    clients,
    scopes: ['openid', 'offline_access', ...(api ? API_SCOPES : [])],
    pkce: { required: () => true, methods: ['S256'] },
    features,
    // `roles` travels with the `profile` scope the gateway asks for by default.
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username', 'roles'],
    },
    // Release the scope's claims in the ID token itself (the gateway reads no userinfo).
    conformIdTokenClaims: false,
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    async findAccount(ctx, id) {
      const account = ACCOUNTS[id];
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, ...account };
        },
      };
    },
  });
  server.on('request', provider.callback());
  process.stdout.write(`READY ${issuer}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

// A local OAuth2 provider (panva's oidc-provider) that issues client-credentials access
// tokens as JWTs shaped like Keycloak's service-account tokens: `typ: JWT`, the client's
// roles in `realm_access.roles`, its workspace in a claim. The tests and start.sh's demo
// run it; production uses Keycloak (PORTAL_CLIENT_ISSUER).
//
//   node scripts/oidc-clients.mjs --port 9401 --config clients.json
//
// clients.json: {"audience": "portal", "workspace_claim": "portal_workspace",
//   "clients": [{"client_id", "client_secret", "roles": [...], "workspace": "slug"}],
//   "keys": [private JWKs, the first signs]}  (keys generated here when absent)
// PUT /admin/config with the same JSON replaces clients and keys (key rotation) and
// answers once the new provider serves; it listens on 127.0.0.1 only.
import http from 'node:http';
import fs from 'node:fs';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) => {
  if (arg.startsWith('--')) pairs.push([arg.slice(2), all[i + 1]]);
  return pairs;
}, []));
const port = Number(args.port || 9401);
const issuer = `http://127.0.0.1:${port}`;

function freshKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), alg: 'RS256',
           use: 'sig' };
}

function build(config) {
  const audience = config.audience || 'portal';
  const workspaceClaim = config.workspace_claim || 'portal_workspace';
  const byId = new Map(config.clients.map((c) => [c.client_id, c]));
  const provider = new Provider(issuer, {
    clients: config.clients.map((c) => ({
      client_id: c.client_id, client_secret: c.client_secret,
      grant_types: ['client_credentials'], redirect_uris: [], response_types: [],
    })),
    jwks: { keys: config.keys && config.keys.length ? config.keys : [freshKey()] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // the resource indicator must be a URI; the token's aud is the audience below
        defaultResource: () => 'urn:portal:api',
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          audience, scope: '', accessTokenFormat: 'jwt', accessTokenTTL: 300,
          // Keycloak's header, not RFC 9068's at+jwt
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    formats: {
      customizers: {
        jwt(ctx, token, jwt) {
          jwt.header = { ...jwt.header, typ: 'JWT' };
          const client = byId.get(token.clientId) || {};
          jwt.payload.azp = token.clientId;
          jwt.payload.realm_access = { roles: client.roles || [] };
          if (client.workspace) jwt.payload[workspaceClaim] = client.workspace;
          return jwt;
        },
      },
    },
  });
  provider.proxy = false;
  return provider.callback();
}

function readConfig() {
  if (!args.config) return { clients: [] };
  return JSON.parse(fs.readFileSync(args.config, 'utf8'));
}

let handler = build(readConfig());

const server = http.createServer((req, res) => {
  if (req.url === '/admin/config' && req.method === 'PUT') {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      try {
        handler = build(JSON.parse(body));
        res.writeHead(204).end();
      } catch (err) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err));
      }
    });
    return;
  }
  handler(req, res);
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`oidc-clients listening on ${issuer}\n`);
});

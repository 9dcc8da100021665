import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

// Microsoft Entra ID, offline: a local OpenID metadata document and JWKS stand in for
// login.microsoftonline.com, and Teams SSO tokens are signed here with node:crypto, sharing no code
// with the verifier (src/auth/teamsSso.ts).

export const APP_ID = '3c5e7a9b-1d2f-4a6b-8c0d-2e4f6a8b0c1d';
export const HOST = 'bot.contoso.example';
export const KID = 'entra-test-key-1';

export interface Keys {
  privateKey: KeyObject;
  publicKey: KeyObject;
}
export const rsa = (): Keys => generateKeyPairSync('rsa', { modulusLength: 2048 });

/** A compact RS256 JWT. */
export function jwt(claims: Record<string, unknown>, key: KeyObject, header: Record<string, unknown> = {}): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: KID, ...header })}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

/** The claims of a v2 access token Teams gets for the tab (getAuthToken), valid for an hour from `now`. */
export function ssoClaims(who: { oid: string; tid: string; name?: string }, extra: Record<string, unknown> = {}, now = Date.now()) {
  const s = Math.floor(now / 1000);
  return {
    aud: APP_ID,
    iss: `https://login.microsoftonline.com/${who.tid}/v2.0`,
    iat: s - 60,
    nbf: s - 60,
    exp: s + 3600,
    name: who.name ?? 'Alex Wilber',
    oid: who.oid,
    preferred_username: 'alexw@example.com',
    scp: 'access_as_user',
    tid: who.tid,
    ver: '2.0',
    ...extra,
  };
}

export interface OpenIdServer {
  metadataUrl: string;
  /** Paths asked for, in order. */
  requests: string[];
  /** Answer 500 to everything (or stop doing so). */
  failing: boolean;
  stop(): Promise<void>;
}

/** Entra ID's v2.0 OpenID configuration and its JWKS with the given public keys. */
export async function startOpenIdServer(keys: { kid: string; publicKey: KeyObject }[]): Promise<OpenIdServer> {
  const state: OpenIdServer = { metadataUrl: '', requests: [], failing: false, stop: async () => {} };
  let base = '';
  const server = http.createServer((req, res) => {
    state.requests.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    if (state.failing) {
      res.statusCode = 500;
      res.end('{"error":"injected"}');
    } else if (req.url === '/common/v2.0/.well-known/openid-configuration') {
      res.end(
        JSON.stringify({
          issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0',
          jwks_uri: `${base}/common/discovery/v2.0/keys`,
          id_token_signing_alg_values_supported: ['RS256'],
        }),
      );
    } else if (req.url === '/common/discovery/v2.0/keys') {
      res.end(
        JSON.stringify({
          keys: [
            // Entra ID lists other kinds of keys too; they are skipped.
            { kty: 'EC', use: 'sig', kid: 'ec-key', crv: 'P-256', x: 'x', y: 'y' },
            ...keys.map(({ kid, publicKey }) => {
              const { n, e } = publicKey.export({ format: 'jwk' });
              return { kty: 'RSA', use: 'sig', kid, x5t: kid, n, e, issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0' };
            }),
          ],
        }),
      );
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.metadataUrl = `${base}/common/v2.0/.well-known/openid-configuration`;
  state.stop = () => new Promise((r) => server.close(() => r()));
  return state;
}

/** A local port nothing listens on: a metadata endpoint that is down. */
export async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}/common/v2.0/.well-known/openid-configuration`;
}

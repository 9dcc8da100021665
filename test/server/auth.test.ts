import { expect } from 'chai';
import { generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  ALEX,
  type BotUnderTest,
  cardOf,
  cardText,
  type Connector,
  message,
  personal,
  removeDir,
  startBot,
  startConnector,
} from '../helpers/botHarness.js';

// Bot Framework authentication with an app id, fully offline: a local OpenID metadata document
// and JWKS stand in for login.botframework.com, and tokens are signed here with node:crypto.

const APP_ID = '6f1e3b2a-9c4d-4e5f-8a7b-0c1d2e3f4a5b';
const ISSUER = 'https://api.botframework.com'; // what the Bot Connector puts in `iss`
const KID = 'test-key-1';

interface Keys {
  privateKey: KeyObject;
  publicKey: KeyObject;
}
const rsa = (): Keys => generateKeyPairSync('rsa', { modulusLength: 2048 });

/** A compact RS256 JWT; hand-made so the signer shares no code with botbuilder's verifier. */
function jwt(
  claims: Record<string, unknown>,
  key: KeyObject,
  header: Record<string, unknown> = {},
): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: KID, ...header })}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

interface OpenIdServer {
  metadataUrl: string;
  requests: string[];
  stop(): Promise<void>;
}

/** The channel's OpenID configuration and its JWKS, one key endorsed for msteams only. */
async function startOpenIdServer(publicKey: KeyObject): Promise<OpenIdServer> {
  const requests: string[] = [];
  let base = '';
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    if (req.url === '/v1/.well-known/openidconfiguration') {
      res.end(
        JSON.stringify({
          issuer: ISSUER,
          authorization_endpoint: `${base}/v1/authorize`,
          jwks_uri: `${base}/v1/.well-known/keys`,
          id_token_signing_alg_values_supported: ['RS256'],
          token_endpoint_auth_methods_supported: ['private_key_jwt'],
        }),
      );
    } else if (req.url === '/v1/.well-known/keys') {
      const { n, e } = publicKey.export({ format: 'jwk' });
      res.end(
        JSON.stringify({
          keys: [{ kty: 'RSA', use: 'sig', kid: KID, n, e, endorsements: ['msteams'] }],
        }),
      );
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    metadataUrl: `${base}/v1/.well-known/openidconfiguration`,
    requests,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}

const LOOPBACK = new Set([undefined, '', 'localhost', '127.0.0.1', '::1']);

/** Records, and refuses, every TCP connection to anything but this machine. */
function guardNetwork(): { attempts: string[]; restore(): void } {
  const attempts: string[] = [];
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: any[]) {
    // net.connect() passes its already-normalized arguments as one array.
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    const opts =
      typeof first === 'object' && first !== null ? first : { port: first, host: args[1] };
    if (!opts.path && !LOOPBACK.has(opts.host)) {
      attempts.push(`${opts.host}:${opts.port}`);
      process.nextTick(() => this.destroy(new Error(`test: no internet (${opts.host})`)));
      return this;
    }
    return (original as (...a: any[]) => net.Socket).apply(this, args);
  } as typeof original;
  return { attempts, restore: () => void (net.Socket.prototype.connect = original) };
}

describe('Bot Framework authentication (app id set)', () => {
  const channelKeys = rsa();
  const strangerKeys = rsa();
  let openId: OpenIdServer;
  let connector: Connector;
  let bot: BotUnderTest;
  let network: ReturnType<typeof guardNetwork>;
  let consoleError: typeof console.error;

  before(async () => {
    network = guardNetwork();
    // botbuilder's token extractor reports bad tokens with console.error; keep the test output readable.
    consoleError = console.error;
    console.error = () => {};
    openId = await startOpenIdServer(channelKeys.publicKey);
    connector = await startConnector();
    bot = await startBot({
      env: { MicrosoftAppId: APP_ID, MicrosoftAppPassword: 'x' },
      // Overriding any one endpoint puts botbuilder in its fully parameterized mode, where every
      // unset value stays undefined (see the last test): give the public cloud's issuer too.
      auth: {
        ToBotFromChannelOpenIdMetadataUrl: openId.metadataUrl,
        ToBotFromChannelTokenIssuer: ISSUER,
      },
    });
  });
  after(async () => {
    await bot?.stop();
    if (bot) removeDir(bot.dataDir);
    await connector?.stop();
    await openId?.stop();
    console.error = consoleError;
    network.restore();
  });
  afterEach(() => {
    expect(network.attempts, 'connections off this machine').to.deep.equal([]);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: ISSUER,
    aud: APP_ID,
    serviceurl: connector.url,
    nbf: now() - 60,
    iat: now() - 60,
    exp: now() + 3600,
    ...extra,
  });
  const help = (extra: Record<string, unknown> = {}) => ({
    ...message(connector.url, ALEX, personal(), 'help'),
    ...extra,
  });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  async function expectUnauthorized(res: { status: number; body: any }) {
    expect(res.status).to.equal(401);
    expect(res.body).to.deep.equal({ error: 'unauthorized' });
  }

  it('runs the turn for a token the channel signed for this bot', async () => {
    const res = await bot.post(help(), bearer(jwt(claims(), channelKeys.privateKey)));
    expect(res.status).to.equal(200);
    expect(cardText(cardOf(res.body))).to.include('F&O Support for Teams');
    expect(openId.requests).to.include('/v1/.well-known/openidconfiguration');
    expect(openId.requests).to.include('/v1/.well-known/keys');
    expect(connector.calls).to.deep.equal([]); // expectReplies: the answer came back in the response
  });

  it('answers 401 without an Authorization header', async () => {
    await expectUnauthorized(await bot.post(help()));
  });

  it('answers 401 to a scheme other than Bearer', async () => {
    await expectUnauthorized(
      await bot.post(help(), { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }),
    );
  });

  it('answers 401, not 500, to a token signed by another key under the same key id', async () => {
    await expectUnauthorized(
      await bot.post(help(), bearer(jwt(claims(), strangerKeys.privateKey))),
    );
  });

  it('answers 401 to a token whose key id is not in the JWKS', async () => {
    await expectUnauthorized(
      await bot.post(help(), bearer(jwt(claims(), strangerKeys.privateKey, { kid: 'unknown' }))),
    );
  });

  it('answers 401 to a token with its payload altered after signing', async () => {
    const [head, , sig] = jwt(claims(), channelKeys.privateKey).split('.');
    const forged = Buffer.from(JSON.stringify(claims({ aud: APP_ID, name: 'mallory' }))).toString(
      'base64url',
    );
    await expectUnauthorized(await bot.post(help(), bearer(`${head}.${forged}.${sig}`)));
  });

  it('answers 401 to an unsigned token (alg none)', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    await expectUnauthorized(
      await bot.post(help(), bearer(`${b64({ alg: 'none', kid: KID })}.${b64(claims())}.`)),
    );
  });

  it('answers 401 to a token that expired more than five minutes ago', async () => {
    const expired = claims({ iat: now() - 3600, nbf: now() - 3600, exp: now() - 10 * 60 });
    await expectUnauthorized(await bot.post(help(), bearer(jwt(expired, channelKeys.privateKey))));
  });

  it('still accepts a token expired within botbuilder’s five-minute clock tolerance', async () => {
    const justExpired = claims({ iat: now() - 3600, nbf: now() - 3600, exp: now() - 60 });
    const res = await bot.post(help(), bearer(jwt(justExpired, channelKeys.privateKey)));
    expect(res.status).to.equal(200);
  });

  it('answers 401 to a token for another bot', async () => {
    await expectUnauthorized(
      await bot.post(help(), bearer(jwt(claims({ aud: randomUUID() }), channelKeys.privateKey))),
    );
  });

  it('answers 401 to a token from another issuer', async () => {
    await expectUnauthorized(
      await bot.post(
        help(),
        bearer(jwt(claims({ iss: 'https://evil.example' }), channelKeys.privateKey)),
      ),
    );
  });

  it('answers 401 when the activity’s serviceUrl is not the one in the token', async () => {
    const token = jwt(
      claims({ serviceurl: 'https://smba.trafficmanager.net/amer/' }),
      channelKeys.privateKey,
    );
    await expectUnauthorized(await bot.post(help(), bearer(token)));
  });

  it('answers 401 when the key is not endorsed for the activity’s channel', async () => {
    await expectUnauthorized(
      await bot.post(help({ channelId: 'webchat' }), bearer(jwt(claims(), channelKeys.privateKey))),
    );
  });

  it('checks the token before the body’s content reaches the bot', async () => {
    const res = await bot.post(message(connector.url, ALEX, personal(), 'report outage'));
    await expectUnauthorized(res);
    expect(connector.calls).to.deep.equal([]); // no getMember, no reply
  });

  it('rejects every token when only the metadata URL is overridden (botbuilder’s parameterized mode)', async () => {
    const partial = await startBot({
      env: { MicrosoftAppId: APP_ID, MicrosoftAppPassword: 'x' },
      auth: { ToBotFromChannelOpenIdMetadataUrl: openId.metadataUrl },
    });
    try {
      await expectUnauthorized(
        await partial.post(help(), bearer(jwt(claims(), channelKeys.privateKey))),
      );
    } finally {
      await partial.stop();
      removeDir(partial.dataDir);
    }
  });

  it('answers 503, not 401, when the signing keys cannot be fetched, so the channel retries', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const blind = await startBot({
      env: { MicrosoftAppId: APP_ID, MicrosoftAppPassword: 'x' },
      auth: {
        ToBotFromChannelOpenIdMetadataUrl: `http://127.0.0.1:${closed}/v1/.well-known/openidconfiguration`,
        ToBotFromChannelTokenIssuer: ISSUER,
      },
    });
    try {
      const res = await blind.post(help(), bearer(jwt(claims(), channelKeys.privateKey)));
      expect(res.status).to.equal(503);
      expect(connector.calls).to.deep.equal([]);
    } finally {
      await blind.stop();
      removeDir(blind.dataDir);
    }
  });
});

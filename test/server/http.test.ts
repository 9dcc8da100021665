import { expect } from 'chai';
import http from 'node:http';
import { deprecate } from 'node:util';
import { gzipSync } from 'node:zlib';
import {
  ALEX,
  type BotUnderTest,
  message,
  personal,
  removeDir,
  startBot,
} from '../helpers/botHarness.js';

// The HTTP edge in local mode (no app id): whatever arrives, the answer is a 4xx and the server
// keeps serving.

const SERVICE_URL = 'http://127.0.0.1:9/'; // never called: every request here fails before the turn

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

describe('HTTP server', () => {
  let bot: BotUnderTest;

  before(async () => {
    bot = await startBot();
  });
  after(async () => {
    await bot.stop();
    removeDir(bot.dataDir);
  });
  afterEach(async () => {
    // Whatever the test sent, the server is still up.
    const res = await fetch(`${bot.url}/healthz`);
    expect(res.status).to.equal(200);
  });

  async function request(path: string, init: RequestInit = {}): Promise<Reply> {
    const res = await fetch(`${bot.url}${path}`, init);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: the assertion shows the text
    }
    return { status: res.status, headers: res.headers, body };
  }
  const postJson = (body: string, headers: Record<string, string> = {}) =>
    request('/api/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  const valid = () => message(SERVICE_URL, ALEX, personal(), 'help');

  it('leaves deprecation warnings on after settling the body reader\'s Buffer one', async () => {
    expect(process.noDeprecation).to.not.equal(true);
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    deprecate(() => undefined, 'a test deprecation', 'DEP_FO_TEST')();
    expect((await warned).name).to.equal('DeprecationWarning');
  });

  it('answers /healthz with status ok and local mode', async () => {
    const res = await request('/healthz');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    expect(res.body).to.include({ status: 'ok', localMode: true });
  });

  // The manifest's websiteUrl, privacyUrl and termsOfUseUrl point here (Teams shows them in the
  // app's details; app validation follows them).
  for (const [path, heading] of [
    ['/', 'F&amp;O Support for Teams'],
    ['/privacy', 'Privacy'],
    ['/terms', 'Terms of use'],
  ] as const)
    it(`serves ${path} as a page with its style sheet under the pages' security policy`, async () => {
      const res = await request(path);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).to.include("default-src 'none'");
      expect(res.body).to.include(`<h1>${heading}</h1>`);
      const css = /href="(\/web\/style\.css)"/.exec(res.body as string)?.[1];
      expect(css).to.equal('/web/style.css');
      expect((await request(css!)).status).to.equal(200);
    });

  it('answers 400 to a body that is not JSON', async () => {
    expect((await postJson('{"type": "message",')).status).to.equal(400);
  });

  for (const [name, body] of [
    ['an array', '[]'],
    ['a number', '42'],
    ['a string', '"message"'],
    ['null', 'null'],
    ['an empty object', '{}'],
  ] as const)
    it(`answers 400 to ${name}`, async () => {
      const res = await postJson(body);
      expect(res.status).to.equal(400);
      expect(res.body.error).to.be.a('string');
    });

  it('answers 400 to an empty body', async () => {
    expect((await postJson('')).status).to.equal(400);
  });

  for (const [name, change] of [
    ['without serviceUrl', { serviceUrl: undefined }],
    ['with a serviceUrl that is not a URL', { serviceUrl: 'not a url' }],
    ['without conversation', { conversation: undefined }],
    ['with a conversation without id', { conversation: {} }],
    ['without from', { from: undefined }],
    ['without recipient', { recipient: undefined }],
    ['with a recipient without id', { recipient: {} }],
    ['without channelId', { channelId: undefined }],
    ['without type', { type: undefined }],
    ['with a timestamp that is not a date', { timestamp: 'yesterday-ish' }],
    ['with a localTimestamp that is not a date', { localTimestamp: '2026-13-45T99:00:00' }],
    ['with a timestamp that is a number', { timestamp: 1_700_000_000 }],
  ] as const)
    it(`answers 400 to an activity ${name}`, async () => {
      const res = await postJson(JSON.stringify({ ...valid(), ...change }));
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('bad_activity');
    });

  it('answers a well-formed activity (the baseline for the cases above)', async () => {
    const res = await postJson(JSON.stringify(valid()));
    expect(res.status).to.equal(200);
    expect(res.body.activities).to.have.length(1);
  });

  it('answers 415 to a body that is not declared as JSON', async () => {
    const res = await request('/api/messages', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(valid()),
    });
    expect(res.status).to.equal(415);
  });

  it('answers 400 to a form post', async () => {
    const res = await request('/api/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'type=message&text=help',
    });
    expect(res.status).to.equal(400);
  });

  it('answers 413 to a 2 MB body', async () => {
    const res = await postJson(JSON.stringify({ ...valid(), text: 'x'.repeat(2 * 1024 * 1024) }));
    expect(res.status).to.equal(413);
  });

  it('answers 413 to a 2 MB body sent in chunks without a length', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${bot.url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const chunk = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 32; i++) req.write(chunk);
      req.end();
    });
    expect(status).to.equal(413);
  });

  // restify's bodyReader counts the compressed bytes against maxBodySize and inflates without a
  // limit: 51 KB of gzip becomes a 50 MB body that is parsed (1 MB would become 1 GB).
  it('refuses a gzip body, which restify would inflate past the size limit', async () => {
    const inflated = JSON.stringify({ ...valid(), text: 'x'.repeat(50 * 1024 * 1024) });
    const res = await request('/api/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(inflated),
    });
    expect(res.status).to.equal(415);
  });

  it('answers 415 to a content encoding it cannot read', async () => {
    const res = await postJson(JSON.stringify(valid()), { 'content-encoding': 'br' });
    expect(res.status).to.equal(415);
  });

  it('survives a client that hangs up halfway through the body', async () => {
    await new Promise<void>((resolve) => {
      const req = http.request(`${bot.url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': '10000' },
      });
      req.on('error', () => resolve());
      req.write('{"type":"message","text":"');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
  });

  it('answers 405 to GET /api/messages', async () => {
    const res = await request('/api/messages');
    expect(res.status).to.equal(405);
  });

  it('answers 404 to an unknown path', async () => {
    const res = await request('/api/nothing', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).to.equal(404);
  });

  it('answers many malformed requests at once and stays up', async () => {
    const bodies = ['[]', '{', '{}', '1', JSON.stringify({ ...valid(), timestamp: 'x' })];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => postJson(bodies[i % bodies.length]!)),
    );
    expect(results.map((r) => r.status)).to.satisfy((s: number[]) => s.every((x) => x === 400));
  });
});

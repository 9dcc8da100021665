import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ALEX, message } from '../../bench/activities.js';
import { BenchConnector } from '../../bench/connector.js';
import { type Server, startServer } from '../../bench/procs.js';

// The benchmark's floor rows are only worth their figures if the echo bot really does the work it
// stands for: each turn a durable record, then one proactive send through the product's sender.
describe('bench echo bot floors', function () {
  this.timeout(30_000);
  let connector: BenchConnector;
  let dir: string;
  let bot: Server | undefined;
  before(async () => {
    connector = await BenchConnector.start();
    dir = mkdtempSync(path.join(tmpdir(), 'echo-floor-test-'));
  });
  afterEach(async () => {
    await bot?.stop();
    bot = undefined;
  });
  after(async () => {
    await connector.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const health = async (url: string) => (await (await fetch(new URL('healthz', url))).json()) as Record<string, unknown>;
  const turn = async (url: string, text: string) => {
    const res = await fetch(new URL('api/messages', url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(message(connector.url, ALEX, { id: 'floor-test', conversationType: 'personal' }, text)),
    });
    return { status: res.status, body: (await res.json()) as { activities?: { text?: string }[] } };
  };

  it('with ECHO_FLOOR=both makes a record durable and sends one message per turn, and answers the echo', async () => {
    bot = await startServer({ entry: 'bench/echoBot.ts', logFile: path.join(dir, 'both.log'), env: { ECHO_FLOOR: 'both', ECHO_FLOOR_DIR: dir } });
    const posts: string[] = [];
    const off = connector.onActivity((d) => posts.push(d.conversationId));
    try {
      for (const text of ['one', 'two', 'three']) {
        const { status, body } = await turn(bot.url, text);
        expect(status).to.equal(200);
        expect(body.activities?.[0]?.text).to.equal(`Echo: ${text}`);
      }
      const until = Date.now() + 5_000;
      while ((await health(bot.url)).sent !== 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(await health(bot.url)).to.include({ floor: 'both', durable: 3, sent: 3, sendFailures: 0 });
      expect(posts).to.deep.equal(['floor-news', 'floor-news', 'floor-news']);
      expect(readdirSync(dir).filter((f) => f.startsWith('echo-floor-'))).to.have.length(1);
    } finally {
      off();
    }
    await bot.stop();
    bot = undefined;
    expect(readdirSync(dir).filter((f) => f.startsWith('echo-floor-')), 'the journal folder is removed on stop').to.deep.equal([]);
  });

  it('without ECHO_FLOOR only echoes', async () => {
    bot = await startServer({ entry: 'bench/echoBot.ts', logFile: path.join(dir, 'plain.log') });
    const posts: string[] = [];
    const off = connector.onActivity((d) => posts.push(d.conversationId));
    try {
      expect((await turn(bot.url, 'hi')).body.activities?.[0]?.text).to.equal('Echo: hi');
      await new Promise((r) => setTimeout(r, 100));
      expect(await health(bot.url)).to.include({ floor: '', durable: 0, sent: 0 });
      expect(posts).to.deep.equal([]);
    } finally {
      off();
    }
  });
});

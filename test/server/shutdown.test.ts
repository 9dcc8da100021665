import { expect } from 'chai';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { productionCommand } from '../../bench/procs.js';
import { projectRoot } from '../../src/config.js';
import type { Store, StoredDoc, WriteOp } from '../../src/store/store.js';
import {
  actionData,
  ALEX,
  cardOf,
  cardText,
  type Connector,
  invoke,
  message,
  personal,
  removeDir,
  startBot,
  startConnector,
} from '../helpers/botHarness.js';
import { DEMO_DIRECTORY_FILE } from '../helpers/fixtures.js';

// Stopping finishes what is in flight: the request being answered, and its write.

const WRITE_DELAY_MS = 300;

/** Delays every write, and tells the test when one starts and when it has landed. */
class SlowStore implements Store {
  private started: ((ops: WriteOp[]) => void)[] = [];
  readonly landed: WriteOp[][] = [];

  constructor(private readonly inner: Store) {}

  /** Resolves when the next write begins (it then lands WRITE_DELAY_MS later). */
  nextWrite(): Promise<WriteOp[]> {
    return new Promise((resolve) => this.started.push(resolve));
  }

  async write(ops: WriteOp[]): Promise<string[]> {
    const waiting = this.started;
    this.started = [];
    waiting.forEach((notify) => notify(ops));
    await new Promise((r) => setTimeout(r, WRITE_DELAY_MS));
    const eTags = await this.inner.write(ops);
    this.landed.push(ops);
    return eTags;
  }

  get<T>(collection: string, id: string): Promise<StoredDoc<T> | undefined> {
    return this.inner.get<T>(collection, id);
  }
  find<T>(collection: string, index: string, key: string): Promise<StoredDoc<T>[]> {
    return this.inner.find<T>(collection, index, key);
  }
  count(collection: string): Promise<number> {
    return this.inner.count(collection);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('graceful stop', () => {
  let connector: Connector;

  before(async () => {
    connector = await startConnector();
  });
  after(async () => connector.stop());

  it('answers the request in flight and lands its write before it resolves', async () => {
    let slow: SlowStore | undefined;
    const bot = await startBot({ wrapStore: (s) => (slow = new SlowStore(s)) });
    const conv = personal();
    try {
      const started = await bot.post(message(connector.url, ALEX, conv, 'report outage'));
      expect(started.status).to.equal(200);
      const card = cardOf(started.body);
      const { draftId, rev } = actionData(card, 'outage.confirm');
      const data = { draftId, rev, confirmed: 'true', scenarioId: 'sign-in' };

      const writing = slow!.nextWrite();
      const pressed = bot.post(invoke(connector.url, ALEX, conv, 'outage.confirm', data));
      const ops = await writing; // the draft's write is now in flight
      expect(ops.map((o) => o.collection)).to.include('drafts');

      let stopped = false;
      let landedWhenStopped = -1;
      const stopping = bot.stop().then(() => {
        stopped = true;
        landedWhenStopped = slow!.landed.length;
      });
      // A new connection while draining is refused or told to go away, never left hanging.
      const late = await fetch(`${bot.url}/healthz`).then(
        (r) => r.status,
        () => 'refused',
      );
      expect(late).to.be.oneOf([503, 'refused']);

      const res = await pressed;
      expect(res.status).to.equal(200);
      expect(res.body.statusCode).to.equal(200);
      expect(cardText(cardOf(res.body))).to.include('Scenario: Users cannot sign in to production');
      expect(actionData(cardOf(res.body), 'outage.details')).to.include({ draftId });
      await stopping;
      expect(stopped).to.equal(true);
      expect(landedWhenStopped, 'writes landed before stop() resolved').to.be.greaterThan(0);
      expect(
        slow!.landed.some((w) =>
          w.some((o) => o.collection === 'drafts' && (o as any).value?.step === 'details'),
        ),
      ).to.equal(true);
      await bot.stop(); // idempotent

      const reopened = await startBot({ dataDir: bot.dataDir });
      try {
        const again = await reopened.post(message(connector.url, ALEX, conv, 'report outage'));
        const text = cardText(cardOf(again.body));
        expect(text).to.include('Continuing the outage report');
        expect(text).to.include('Scenario: Users cannot sign in to production');
        expect(actionData(cardOf(again.body), 'outage.details')).to.include({ draftId });
      } finally {
        await reopened.stop();
      }
    } finally {
      await bot.stop();
      removeDir(bot.dataDir);
    }
  });
});

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/**
 * The bot as a real process, its pino JSON log collected line by line: as `npm run start:bot` runs
 * it (through tsx), or from the build as `npm run start:prod` does.
 */
function spawnBot(dataDir: string, from: 'source' | 'build' = 'source') {
  const prod = productionCommand();
  const args = from === 'source' ? ['--import', 'tsx', 'src/index.ts'] : [...prod.nodeArgs, prod.entry];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      DIRECTORY_FILE: DEMO_DIRECTORY_FILE,
      LOG_LEVEL: 'info',
      MicrosoftAppId: '', // explicit, so that a developer's .env cannot turn local mode off
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let stderr = '';
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (raw) => {
    let line: LogLine;
    try {
      line = JSON.parse(raw);
    } catch {
      line = { level: 0, msg: raw };
    }
    lines.push(line);
    for (const w of waiters.filter((w) => w.match(line))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(line);
    }
  });
  child.stderr!.on('data', (c) => (stderr += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    waitForLog(msg: string, ms = 15_000): Promise<LogLine> {
      const seen = lines.find((l) => l.msg === msg);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no '${msg}' log within ${ms} ms; stderr:\n${stderr}`)),
          ms,
        );
        waiters.push({
          match: (l) => l.msg === msg,
          resolve: (l) => (clearTimeout(timer), resolve(l)),
        });
        exited.then(({ code }) =>
          reject(new Error(`exited (${code}) before '${msg}'; stderr:\n${stderr}`)),
        );
      });
    },
  };
}

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms),
    ),
  ]);

describe('the bot process', () => {
  let dataDir: string;
  let proc: ReturnType<typeof spawnBot> | undefined;

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'fo-proc-'));
  });
  afterEach(async () => {
    if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
    proc = undefined;
    removeDir(dataDir);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    it(`warns of local mode, serves, and exits 0 on ${signal}`, async () => {
      proc = spawnBot(dataDir);
      const listening = await proc.waitForLog('bot listening');
      const url = new URL(String(listening.url));
      expect(url.pathname).to.equal('/api/messages');

      const warning = proc.lines.find((l) => l.msg.startsWith('LOCAL MODE'));
      expect(warning, 'the local-mode warning').to.not.equal(undefined);
      expect(warning!.level).to.equal(40); // pino's warn
      expect(proc.lines.indexOf(warning!)).to.be.lessThan(proc.lines.indexOf(listening));
      // The bot's own process (not main() inside a test) holds its heap near its live data.
      expect(proc.lines.find((l) => l.msg === 'heap growth limited')).to.include({ heapGrowingPercent: 50 });

      const health = await fetch(new URL('/healthz', url));
      expect(health.status).to.equal(200);
      expect(await health.json()).to.include({ status: 'ok', localMode: true });

      proc.child.kill(signal);
      const { code, signal: killedBy } = await within(proc.exited, 5_000, `exit after ${signal}`);
      expect({ code, killedBy }).to.deep.equal({ code: 0, killedBy: null });
      expect(proc.lines.map((l) => l.msg)).to.include('stopped');
      expect(proc.stderr()).to.not.match(/\berror\b|uncaught|unhandled/i);
    });

  it('runs from the build as npm run start:prod does (after npm run build) and answers "help" with its card', async function () {
    this.timeout(180_000);
    const built = spawnSync('npm', ['run', '-s', 'build'], { cwd: projectRoot, encoding: 'utf8' });
    expect(built.status, `npm run build: ${built.stdout}${built.stderr}`).to.equal(0);
    proc = spawnBot(dataDir, 'build');
    const listening = await proc.waitForLog('bot listening');
    const url = new URL(String(listening.url));
    // Files found from the build's own folder: the help card's template, the knowledge base.
    expect(proc.lines.find((l) => l.msg === 'knowledge base indexed')?.entries).to.be.above(0);
    const conv = personal();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...message('http://127.0.0.1:9/', ALEX, conv, 'help'), deliveryMode: 'expectReplies' }),
    });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { activities: { attachments?: { contentType: string }[] }[] };
    expect(body.activities.flatMap((a) => a.attachments ?? []).map((a) => a.contentType)).to.include(
      'application/vnd.microsoft.card.adaptive',
    );
    const about = await fetch(new URL('/', url));
    expect(about.status).to.equal(200);
    proc.child.kill('SIGTERM');
    const { code } = await within(proc.exited, 5_000, 'exit after SIGTERM');
    expect(code).to.equal(0);
  });
});

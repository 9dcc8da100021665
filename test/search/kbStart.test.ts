import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { projectRoot } from '../../src/config.js';
import { removeDir, startBot } from '../helpers/botHarness.js';

// KB_FILE: the knowledge base is loaded and indexed once, at start; a bad file stops the start.

describe('knowledge base at start', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fo-kb-'));
  });
  afterEach(() => removeDir(dir));

  it('indexes the demo knowledge base once and logs the count and the build time', async () => {
    const lines: any[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const bot = await startBot({ dataDir: path.join(dir, 'data'), logger: pino({ level: 'info' }, sink) });
    try {
      const demo = readFileSync(path.join(projectRoot, 'kb', 'demo.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
      expect(bot.running.search.size).to.equal(demo.length);
      const logged = lines.filter((l) => l.msg === 'knowledge base indexed');
      expect(logged).to.have.length(1);
      expect(logged[0]).to.include({ entries: demo.length });
      expect(logged[0].file).to.match(/kb[/\\]demo\.jsonl$/);
      expect(logged[0].buildMs).to.be.a('number');
    } finally {
      await bot.stop();
    }
  });

  it('uses the file KB_FILE names', async () => {
    const file = path.join(dir, 'small.jsonl');
    const demo = readFileSync(path.join(projectRoot, 'kb', 'demo.jsonl'), 'utf8').split('\n');
    writeFileSync(file, demo.slice(0, 3).join('\n') + '\n');
    const bot = await startBot({ dataDir: path.join(dir, 'data'), env: { KB_FILE: file } });
    try {
      expect(bot.running.search.size).to.equal(3);
    } finally {
      await bot.stop();
    }
  });

  it('refuses to start with a bad knowledge base, naming the line', async () => {
    const file = path.join(dir, 'bad.jsonl');
    const demo = readFileSync(path.join(projectRoot, 'kb', 'demo.jsonl'), 'utf8').split('\n');
    const broken = { ...JSON.parse(demo[1]!), status: 'Fixed' };
    writeFileSync(file, [demo[0], JSON.stringify(broken), demo[2]].join('\n'));
    let error: Error | undefined;
    try {
      const bot = await startBot({ dataDir: path.join(dir, 'data'), env: { KB_FILE: file } });
      await bot.stop();
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).to.include(file);
    expect(error?.message).to.match(/line 2: status/);

    let missing: Error | undefined;
    await startBot({ dataDir: path.join(dir, 'data'), env: { KB_FILE: path.join(dir, 'nope.jsonl') } }).catch((e: Error) => (missing = e));
    expect(missing?.message).to.include('cannot read the knowledge base');
  });
});

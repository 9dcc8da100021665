import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileLayout } from '../../src/store/fileLayout.js';
import { openLowdbStore, type LowdbStore, type LowdbStoreOptions } from '../../src/store/lowdbStore.js';
import { findPackRecord, packGroup, parsePack, type PackSpec } from '../../src/store/packFile.js';
import { encodeWalRecord } from '../../src/store/wal.js';
import { recordingLogger } from './recordingLogger.js';
import { contractIndexes, storeContract } from './contract.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'lowdb-packs-'));
}

// The contract's ids share packs by what comes before their first "-" ("T-1", "T-2" share "T")
// or "/" ("a/b" shares "a" with "a"), and special ids land in packs of their own.
for (const [name, packs, extra] of [
  ['packed by "-"', { tickets: { separator: '-' }, drafts: { separator: '-' } }, {}],
  // Every read goes to the pack, every write rotates the journal, packs are compacted early.
  [
    'packed by "/", checkpoint on every write, no cache, early compaction',
    { tickets: { separator: '/' }, drafts: { separator: '/' } },
    { checkpointBytes: 1, cacheSize: 0, packCompactBytes: 256 },
  ],
] as const) {
  storeContract(`lowdb (${name})`, async (indexes) => {
    const dir = await tempDir();
    const open = () => openLowdbStore({ dir, indexes, packs, ...extra });
    return { store: await open(), reopen: open, cleanup: () => rm(dir, { recursive: true, force: true }) };
  });
}

const PACKS: PackSpec = { outbox: { separator: ':' } };

describe('packFile', () => {
  it('groups an id by the text before the first separator, else the whole id', () => {
    expect(packGroup('OUT-1:ack:reporter', ':')).to.equal('OUT-1');
    expect(packGroup('OUT-1', ':')).to.equal('OUT-1');
    expect(packGroup(':leading', ':')).to.equal(':leading'); // an empty group would merge strangers
    expect(packGroup('a:b', '')).to.equal('a:b');
  });

  it('finds a version only at the start of a line, not inside a value that quotes one', () => {
    const head = '{"collection":"outbox","id":"A:1","eTag":"e1","value":';
    const text =
      `${head}{"n":1}}\n` +
      `{"collection":"outbox","id":"A:2","eTag":"e2","value":{"copy":${head}{"n":9}}}}\n`;
    expect(findPackRecord(text, 'outbox', 'A:1', 'e1')).to.deep.include({ json: '{"n":1}', value: { n: 1 } });
    expect(findPackRecord(text, 'outbox', 'A:1', 'e9')).to.equal(undefined);
    // A line still being appended (no newline yet) is not read.
    expect(findPackRecord(`${head}{"n":1`, 'outbox', 'A:1', 'e1')).to.equal(undefined);
  });

  it('keeps each id\'s last line and stops at the first torn one', () => {
    const line = (id: string, e: string, v: unknown) =>
      `${JSON.stringify({ collection: 'outbox', id, eTag: e, value: v })}\n`;
    const good = line('A:1', 'e1', 1) + line('A:2', 'e2', 2) + line('A:1', 'e3', 3) +
      '{"collection":"outbox","id":"A:2","deleted":true}\n';
    const parsed = parsePack(`${good}\0\0\0\0${line('A:3', 'e4', 4)}`);
    expect(parsed.validLength).to.equal(good.length);
    expect(parsed.lines).to.equal(4);
    expect([...parsed.docs]).to.deep.equal([
      ['A:1', { collection: 'outbox', id: 'A:1', eTag: 'e3', value: 3 }],
      ['A:2', null],
    ]);
    expect(parsePack(`${good}{"collection":"outbox","id":"A:3","eT`).validLength).to.equal(good.length);
  });
});

describe('lowdbStore packs', () => {
  let dir: string;
  let layout: FileLayout;
  const opened: LowdbStore[] = [];

  async function openStore(options: Omit<LowdbStoreOptions, 'dir'> = {}): Promise<LowdbStore> {
    const store = await openLowdbStore({ dir, indexes: contractIndexes, packs: PACKS, ...options });
    opened.push(store);
    return store;
  }

  async function closeAll(): Promise<void> {
    for (const s of opened.splice(0)) await s.close();
  }

  const put = (store: LowdbStore, id: string, value: unknown) =>
    store.write([{ op: 'put', collection: 'outbox', id, value }]);
  const pack = (group: string) => layout.packFile('outbox', group);
  const lines = async (group: string) => (await readFile(pack(group), 'utf8')).split('\n').filter(Boolean);

  async function walGen(): Promise<number> {
    return (JSON.parse(await readFile(layout.snapshot, 'utf8')) as { walGen: number }).walGen;
  }

  /** Every file under docs/ (temp files included), relative to it. */
  async function docFiles(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (at: string): Promise<void> => {
      for (const e of await readdir(at, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(at, e.name));
        else out.push(join(at, e.name).slice(layout.docs.length + 1));
      }
    };
    await walk(layout.docs);
    return out.sort();
  }

  beforeEach(async () => {
    dir = await tempDir();
    layout = new FileLayout(dir);
  });

  afterEach(async () => {
    await closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('appends the versions of a group\'s documents to one pack, and reads them back from it', async () => {
    const store = await openStore({ cacheSize: 0, flushDelayMs: 0 });
    const [e1] = await put(store, 'OUT-1:desk:card', { n: 1 });
    await store.flushed();
    const [e2] = await put(store, 'OUT-1:ack:reporter', { n: 2 });
    await store.flushed();
    const [e3] = await put(store, 'OUT-1:desk:card', { n: 3, text: 'é "quoted"\n' });
    await put(store, 'OUT-2:desk:card', { n: 4 });
    await store.flushed();
    expect(await docFiles()).to.deep.equal(
      [pack('OUT-1'), pack('OUT-2')].map((p) => p.slice(layout.docs.length + 1)).sort(),
    );
    expect((await lines('OUT-1')).map((l) => JSON.parse(l).eTag)).to.deep.equal([e1, e2, e3]);
    expect(await store.get('outbox', 'OUT-1:desk:card')).to.deep.equal({
      id: 'OUT-1:desk:card',
      eTag: e3,
      value: { n: 3, text: 'é "quoted"\n' },
    });
    expect((await store.get('outbox', 'OUT-1:ack:reporter'))?.eTag).to.equal(e2);
    await store.close();
    const again = await openStore({ cacheSize: 0 });
    expect((await again.get('outbox', 'OUT-1:desk:card'))?.value).to.deep.equal({ n: 3, text: 'é "quoted"\n' });
    expect(await again.count('outbox')).to.equal(3);
  });

  it('keeps a delete as a tombstone line, so that a rebuild from the packs does not bring it back', async () => {
    const store = await openStore({ flushDelayMs: 0 });
    await put(store, 'OUT-1:a', { n: 1 });
    await put(store, 'OUT-1:b', { n: 2 });
    await store.flushed();
    await store.write([{ op: 'delete', collection: 'outbox', id: 'OUT-1:a' }]);
    await store.close();
    expect(await lines('OUT-1')).to.have.length(3);
    await rm(layout.snapshot);
    const logger = recordingLogger();
    const again = await openStore({ logger });
    expect(logger.lines.find((l) => l.msg === 'store opened')?.obj).to.include({ rebuiltIndex: true });
    expect(await again.get('outbox', 'OUT-1:a')).to.equal(undefined);
    expect((await again.get('outbox', 'OUT-1:b'))?.value).to.deep.equal({ n: 2 });
  });

  it('rewrites a pack that has grown mostly stale, keeping each document\'s last version', async () => {
    const store = await openStore({ flushDelayMs: 0, cacheSize: 0, packCompactBytes: 2048 });
    await put(store, 'OUT-1:gone', { n: 0 });
    await store.flushed();
    await store.write([{ op: 'delete', collection: 'outbox', id: 'OUT-1:gone' }]);
    let last: string | undefined;
    for (let n = 0; n < 60; n++) {
      [last] = await put(store, 'OUT-1:card', { n, pad: 'x'.repeat(100) });
      await put(store, `OUT-1:news-${n % 3}`, { n });
      await store.flushed();
    }
    const size = (await stat(pack('OUT-1'))).size;
    expect(size, 'compacted').to.be.below(4096);
    expect((await lines('OUT-1')).length).to.be.below(30);
    expect(await docFiles()).to.deep.equal([pack('OUT-1').slice(layout.docs.length + 1)]); // no temp file left
    expect(await store.get('outbox', 'OUT-1:card')).to.deep.equal({ id: 'OUT-1:card', eTag: last, value: { n: 59, pad: 'x'.repeat(100) } });
    expect((await store.get('outbox', 'OUT-1:news-2'))?.value).to.deep.equal({ n: 59 });
    await store.close();
    await rm(layout.snapshot);
    const again = await openStore();
    expect(await again.count('outbox')).to.equal(4);
    expect(await again.get('outbox', 'OUT-1:gone')).to.equal(undefined);
  });

  it('keeps a pack of deleted documents small, and removes it when a compaction finds none alive', async () => {
    const store = await openStore({ flushDelayMs: 0, packCompactBytes: 512 });
    let largest = 0;
    for (let n = 0; n < 40; n++) {
      await put(store, `OUT-1:${n}`, { pad: 'x'.repeat(100) });
      await store.flushed();
      await store.write([{ op: 'delete', collection: 'outbox', id: `OUT-1:${n}` }]);
      await store.flushed();
      largest = Math.max(largest, (await stat(pack('OUT-1'))).size);
    }
    expect(largest).to.be.below(512 + 200);
    // Three documents (under 512 bytes), then their tombstones take the pack past it: none alive.
    const ids = ['OUT-2:a', 'OUT-2:b', 'OUT-2:c'];
    await store.write(ids.map((id) => ({ op: 'put' as const, collection: 'outbox', id, value: { pad: 'x'.repeat(80) } })));
    await store.flushed();
    expect((await stat(pack('OUT-2'))).size).to.be.below(512);
    await store.write(ids.map((id) => ({ op: 'delete' as const, collection: 'outbox', id })));
    await store.flushed();
    expect(existsSync(pack('OUT-2'))).to.equal(false);
    expect(await store.count('outbox')).to.equal(0);
    await store.close();
    await rm(layout.snapshot);
    expect(await (await openStore()).count('outbox')).to.equal(0);
  });

  describe('crash recovery', () => {
    async function seed(): Promise<string> {
      const store = await openStore();
      const [eTag] = await put(store, 'OUT-1:desk:card', { n: 1 });
      await store.close();
      opened.length = 0;
      return eTag!;
    }

    it('keeps a pack\'s lines before a torn one and restores the rest from the journal', async () => {
      const eTag = await seed();
      // After the checkpoint: a version appended whole, and one torn by the crash.
      const record = (id: string, e: string, v: unknown) => `${JSON.stringify({ collection: 'outbox', id, eTag: e, value: v })}\n`;
      await appendFile(pack('OUT-1'), record('OUT-1:a', 'ea', { n: 2 }) + record('OUT-1:b', 'eb', { n: 3 }).slice(0, 30));
      await writeFile(
        layout.walFile(await walGen()),
        encodeWalRecord({
          ops: [
            { c: 'outbox', id: 'OUT-1:a', e: 'ea', v: { n: 2 } },
            { c: 'outbox', id: 'OUT-1:b', e: 'eb', v: { n: 3 } },
            { c: 'outbox', id: 'OUT-2:c', e: 'ec', v: { n: 4 } },
          ],
        }),
      );
      const logger = recordingLogger();
      const store = await openStore({ logger, cacheSize: 0 });
      expect(logger.lines.some((l) => l.level === 'warn' && /torn line/.test(l.msg ?? ''))).to.equal(true);
      expect((await store.get('outbox', 'OUT-1:desk:card'))?.eTag).to.equal(eTag);
      expect((await store.get('outbox', 'OUT-1:b'))?.value).to.deep.equal({ n: 3 });
      expect((await store.get('outbox', 'OUT-2:c'))?.value).to.deep.equal({ n: 4 });
      expect((await lines('OUT-1')).map((l) => JSON.parse(l).id)).to.deep.equal(['OUT-1:desk:card', 'OUT-1:a', 'OUT-1:b']);
      await store.close();
      await rm(layout.snapshot);
      const again = await openStore();
      expect(await again.count('outbox')).to.equal(4);
    });

    it('restores a pack whose unsynced tail came back as zeros, and replays a delete into it', async () => {
      await seed();
      await appendFile(pack('OUT-1'), Buffer.alloc(4096));
      await writeFile(
        layout.walFile(await walGen()),
        encodeWalRecord({
          ops: [
            { c: 'outbox', id: 'OUT-1:a', e: 'ea', v: { n: 2 } },
            { c: 'outbox', id: 'OUT-1:desk:card', d: 1 },
          ],
        }),
      );
      const store = await openStore({ cacheSize: 0 });
      expect(await store.get('outbox', 'OUT-1:desk:card')).to.equal(undefined);
      expect((await store.get('outbox', 'OUT-1:a'))?.value).to.deep.equal({ n: 2 });
      const text = await readFile(pack('OUT-1'), 'utf8');
      expect(text.includes('\0')).to.equal(false);
      expect(parsePack(text).docs.get('OUT-1:desk:card')).to.equal(null);
    });

    it('loses no acknowledged batch and tears none when the process is killed -9', async function () {
      this.timeout(60_000);
      const script = fileURLToPath(new URL('./fixtures/crashWriter.ts', import.meta.url));
      const packs: PackSpec = { pairs: { separator: ':' } };
      for (const killAfter of [5, 40, 90]) {
        const child = spawn(process.execPath, ['--import', 'tsx', script, dir, JSON.stringify(packs)], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        let acked = 0;
        const exited = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_c, s) => done(s)));
        child.stdout.on('data', (d: Buffer) => {
          for (const m of d.toString().matchAll(/ack (\d+)/g)) acked = Number(m[1]);
          if (acked >= killAfter) child.kill('SIGKILL');
        });
        expect(await exited, stderr).to.equal('SIGKILL');
        const store = await openLowdbStore({ dir, packs, indexes: { pairs: { batch: (v: { n: number }) => String(v.n) } } });
        try {
          const last = (await store.get<{ n: number }>('meta', 'last'))!.value.n;
          expect(last).to.be.at.least(acked);
          const count = await store.count('pairs');
          expect(count % 2, 'pairs are whole').to.equal(0);
          for (let n = 1; n <= last; n += 1) {
            expect(await store.find('pairs', 'batch', String(n)), `batch ${n}`).to.have.length(2);
          }
        } finally {
          await store.close();
        }
        const packFiles = (await docFiles()).filter((f) => f.endsWith('.pack'));
        expect(packFiles.length, 'pairs share packs').to.be.within(1, 5);
      }
    });
  });

  describe('when the packs change', () => {
    async function seed(packs: PackSpec): Promise<Map<string, string>> {
      const store = await openStore({ packs });
      const eTags = new Map<string, string>();
      for (const id of ['OUT-1:desk:card', 'OUT-1:ack:reporter', 'OUT-2:desk:card']) {
        const [eTag] = await put(store, id, { id });
        eTags.set(id, eTag!);
      }
      const [t] = await store.write([{ op: 'put', collection: 'tickets', id: 'T-1', value: { title: 't', reporter: 'ana' } }]);
      eTags.set('T-1', t!);
      await store.close();
      opened.length = 0;
      return eTags;
    }

    async function expectAll(eTags: Map<string, string>, options: Omit<LowdbStoreOptions, 'dir'>) {
      const store = await openStore({ cacheSize: 0, ...options });
      for (const [id, eTag] of eTags) {
        const doc = await store.get(id === 'T-1' ? 'tickets' : 'outbox', id);
        expect(doc?.eTag, id).to.equal(eTag);
      }
      expect(await store.find('tickets', 'reporter', 'ana')).to.have.length(1);
      await store.close();
      opened.length = 0;
    }

    it('moves a collection\'s documents into packs, and back out, at the next open', async () => {
      const eTags = await seed({});
      const logger = recordingLogger();
      await expectAll(eTags, { logger });
      expect(logger.lines.find((l) => l.msg === 'store index rebuilt from documents')?.obj).to.include({ moved: 3 });
      const rel = (p: string) => p.slice(layout.docs.length + 1);
      expect(await docFiles()).to.deep.equal([pack('OUT-1'), pack('OUT-2'), layout.docFile('tickets', 'T-1')].map(rel).sort());
      // Opened once more with the same packs: nothing to move, no rebuild.
      const quiet = recordingLogger();
      await expectAll(eTags, { logger: quiet });
      expect(quiet.lines.find((l) => l.msg === 'store opened')?.obj).to.include({ rebuiltIndex: false });
      // And out again.
      await expectAll(eTags, { packs: {} });
      expect(await docFiles()).to.deep.equal(
        ['OUT-1:desk:card', 'OUT-1:ack:reporter', 'OUT-2:desk:card'].map((id) => rel(layout.docFile('outbox', id))).concat(rel(layout.docFile('tickets', 'T-1'))).sort(),
      );
    });

    it('regroups the packs when the separator changes', async () => {
      const eTags = await seed(PACKS);
      await expectAll(eTags, { packs: { outbox: { separator: '-' } } });
      expect((await docFiles()).filter((f) => f.endsWith('.pack'))).to.deep.equal([layout.packFile('outbox', 'OUT').slice(layout.docs.length + 1)]);
    });

    it('finishes a move cut short by a crash (a document in its file and in its pack)', async () => {
      const eTags = await seed({});
      // As if the move had written the pack and died before removing the old file.
      const card = layout.docFile('outbox', 'OUT-2:desk:card');
      const doc = JSON.parse(await readFile(card, 'utf8')) as object;
      await mkdir(dirname(pack('OUT-2')), { recursive: true });
      await appendFile(pack('OUT-2'), `${JSON.stringify(doc)}\n`);
      await expectAll(eTags, {});
      expect(existsSync(card)).to.equal(false);
      expect(await lines('OUT-2')).to.have.length(1);
    });
  });
});

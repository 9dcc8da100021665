import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileLayout, shardOf } from '../../src/store/fileLayout.js';
import { StoreLockedError } from '../../src/store/lockFile.js';
import {
  openLowdbStore,
  type Journal,
  type LowdbStore,
  type LowdbStoreOptions,
} from '../../src/store/lowdbStore.js';
import { ConflictError, StoreUnavailableError, versionedIndexes, type IndexFn, type IndexSpec } from '../../src/store/store.js';
import { encodeWalRecord, WalWriter } from '../../src/store/wal.js';
import { recordingLogger } from './recordingLogger.js';
import { contractIndexes, expectRejection, storeContract } from './contract.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'lowdb-store-'));
}

storeContract('lowdb', async (indexes) => {
  const dir = await tempDir();
  return {
    store: await openLowdbStore({ dir, indexes }),
    reopen: () => openLowdbStore({ dir, indexes }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

// A tiny checkpoint threshold and no cache: every write rotates the journal, every read hits disk.
storeContract('lowdb (checkpoint on every write, no cache)', async (indexes) => {
  const dir = await tempDir();
  const open = () => openLowdbStore({ dir, indexes, checkpointBytes: 1, cacheSize: 0 });
  return {
    store: await open(),
    reopen: open,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

// The flusher at most one document behind: nearly every write waits for the files before it.
storeContract('lowdb (flusher one document behind)', async (indexes) => {
  const dir = await tempDir();
  const open = () => openLowdbStore({ dir, indexes, maxUnflushed: 1 });
  return {
    store: await open(),
    reopen: open,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

/** A real journal whose appends go through `before` first (which may throw instead). */
function watchedJournal(
  before: (text: string, path: string) => void | Promise<void>,
): (path: string) => Promise<Journal> {
  return async (path) => {
    const journal = await WalWriter.open(path);
    return {
      get size() {
        return journal.size;
      },
      append: async (records: Buffer) => {
        await before(records.toString('utf8'), path);
        await journal.append(records);
      },
      truncate: (size: number) => journal.truncate(size),
      close: () => journal.close(),
    };
  };
}

const put = (store: LowdbStore, id: string, value: unknown, collection = 'tickets') =>
  store.write([{ op: 'put', collection, id, value }]);

describe('lowdbStore', () => {
  let dir: string;
  let layout: FileLayout;
  const open: LowdbStore[] = [];

  async function openStore(options: Omit<LowdbStoreOptions, 'dir'> = {}): Promise<LowdbStore> {
    const store = await openLowdbStore({ dir, indexes: contractIndexes, ...options });
    open.push(store);
    return store;
  }

  async function walGen(): Promise<number> {
    const snapshot = JSON.parse(await readFile(layout.snapshot, 'utf8')) as { walGen: number };
    return snapshot.walGen;
  }

  beforeEach(async () => {
    dir = await tempDir();
    layout = new FileLayout(dir);
  });

  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('files', () => {
    it('keeps each document in its own lowdb JSON file', async () => {
      const store = await openStore();
      const [eTag] = await put(store, 'T/1', { title: 'x' });
      await store.flushed();
      const file = layout.docFile('tickets', 'T/1');
      expect(file).to.equal(join(dir, 'docs', 'tickets', shardOf('T/1'), '_54_2f1.json'));
      expect(JSON.parse(await readFile(file, 'utf8'))).to.deep.equal({
        collection: 'tickets',
        id: 'T/1',
        eTag,
        value: { title: 'x' },
      });
    });

    it('leaves only the snapshot and an empty journal after close', async () => {
      const store = await openStore();
      for (let i = 0; i < 5; i += 1) await put(store, `T-${i}`, { title: 'x' });
      await store.close();
      expect(await readdir(layout.wal)).to.deep.equal([]);
      expect(existsSync(layout.lock)).to.equal(false);
      const logger = recordingLogger();
      await openStore({ logger });
      const opened = logger.lines.find((l) => l.msg === 'store opened');
      expect(opened?.obj).to.include({ replayedBatches: 0, rebuiltIndex: false });
    });

    it('keeps the journal short by checkpointing as it grows', async () => {
      const store = await openStore({ checkpointBytes: 4096 });
      for (let i = 0; i < 60; i += 1)
        await put(store, `T-${i}`, { title: 'x'.repeat(500), reporter: 'ana' });
      expect((await readdir(layout.wal)).length).to.be.at.most(2);
      await store.close();
      const again = await openStore();
      expect(await again.find('tickets', 'reporter', 'ana')).to.have.length(60);
    });
  });

  describe('group commit', () => {
    it('commits batches that arrive together with one journal append, each checked in order', async () => {
      const appends: number[] = [];
      const store = await openStore({
        openJournal: watchedJournal((text) => {
          appends.push(text.split('\n').length - 1);
        }),
      });
      const [base] = await put(store, 'shared', { title: 'base' });
      appends.length = 0;
      const results = await Promise.allSettled([
        ...Array.from({ length: 40 }, (_, i) => put(store, `T-${i}`, { title: String(i) })),
        // Two writers of the same version: the first wins, the second sees its change.
        store.write([
          { op: 'put', collection: 'tickets', id: 'shared', value: { title: 'a' }, ifMatch: base },
        ]),
        store.write([
          { op: 'put', collection: 'tickets', id: 'shared', value: { title: 'b' }, ifMatch: base },
        ]),
        // A malformed batch fails alone.
        store.write([{ op: 'put', collection: '', id: 'x', value: 1 }]),
      ]);
      expect(results.slice(0, 41).every((r) => r.status === 'fulfilled')).to.equal(true);
      expect(results[41]?.status).to.equal('rejected');
      expect((results[41] as PromiseRejectedResult).reason).to.be.instanceOf(ConflictError);
      expect((results[42] as PromiseRejectedResult).reason).to.be.instanceOf(TypeError);
      expect(
        appends.reduce((a, b) => a + b, 0),
        'journal records',
      ).to.equal(41);
      expect(appends.length, 'journal appends').to.be.below(41);
      expect((await store.get('tickets', 'shared'))?.value).to.deep.equal({ title: 'a' });
      expect(await store.count('tickets')).to.equal(41);
    });

    it('writes a document changed several times before the flusher ran once, as its last version', async () => {
      const store = await openStore();
      const writes = [];
      for (let i = 0; i < 20; i += 1) writes.push(put(store, 'D-1', { step: i }, 'drafts'));
      const eTags = await Promise.all(writes);
      await store.flushed();
      expect(JSON.parse(await readFile(layout.docFile('drafts', 'D-1'), 'utf8'))).to.deep.equal({
        collection: 'drafts',
        id: 'D-1',
        eTag: eTags.at(-1)?.[0],
        value: { step: 19 },
      });
    });
    it('writes a version only once it is flushDelayMs old, so that later versions replace it first', async () => {
      const logger = recordingLogger();
      const store = await openStore({ flushDelayMs: 60_000, logger });
      // Three commits, one after the other: three journal appends, no file yet.
      await put(store, 'D-2', { step: 1 }, 'drafts');
      await put(store, 'D-2', { step: 2 }, 'drafts');
      const [eTag] = await put(store, 'D-2', { step: 3 }, 'drafts');
      await new Promise((done) => setTimeout(done, 50));
      expect(existsSync(layout.docFile('drafts', 'D-2'))).to.equal(false);
      expect((await store.get('drafts', 'D-2'))?.value).to.deep.equal({ step: 3 });
      // flushed() does not wait for the age: the latest version is written at once.
      await store.flushed();
      expect(JSON.parse(await readFile(layout.docFile('drafts', 'D-2'), 'utf8')).eTag).to.equal(eTag);
      await store.close();
      const closed = logger.lines.find((l) => l.msg === 'store closed')?.obj as Record<string, number>;
      expect(closed.versions).to.equal(3);
      expect(closed.filesWritten).to.equal(1);
    });

    it('writes young versions at once when the unflushed documents reach half of maxUnflushed', async () => {
      const store = await openStore({ flushDelayMs: 60_000, maxUnflushed: 4 });
      for (let i = 0; i < 10; i += 1) await put(store, `T-${i}`, { i });
      // Writers were never held for a minute, and the older documents are in their files.
      expect(existsSync(layout.docFile('tickets', 'T-0'))).to.equal(true);
      expect(await store.count('tickets')).to.equal(10);
    });
  });

  describe('crash recovery', () => {
    async function seed(): Promise<string> {
      const store = await openStore();
      const [eTag] = await put(store, 'T-1', { title: 'before', reporter: 'ana' });
      await store.close();
      open.length = 0;
      return eTag!;
    }

    it('replays a batch whose journal record was written but whose files were not', async () => {
      await seed();
      const line = encodeWalRecord({
        ops: [
          { c: 'tickets', id: 'T-1', e: 'etag-new-1', v: { title: 'after', reporter: 'bob' } },
          { c: 'tickets', id: 'T-2', e: 'etag-new-2', v: { title: 'new', reporter: 'bob' } },
        ],
      });
      await writeFile(layout.walFile(await walGen()), line);
      const store = await openStore();
      expect(await store.get('tickets', 'T-1')).to.deep.equal({
        id: 'T-1',
        eTag: 'etag-new-1',
        value: { title: 'after', reporter: 'bob' },
      });
      expect((await store.get('tickets', 'T-2'))?.eTag).to.equal('etag-new-2');
      expect(await store.find('tickets', 'reporter', 'ana')).to.deep.equal([]);
      expect(await store.find('tickets', 'reporter', 'bob')).to.have.length(2);
    });

    it('replays a delete', async () => {
      await seed();
      await writeFile(
        layout.walFile(await walGen()),
        encodeWalRecord({ ops: [{ c: 'tickets', id: 'T-1', d: 1 }] }),
      );
      const store = await openStore();
      expect(await store.get('tickets', 'T-1')).to.equal(undefined);
      expect(await store.count('tickets')).to.equal(0);
      expect(existsSync(layout.docFile('tickets', 'T-1'))).to.equal(false);
    });

    it('ignores a torn last record, applying none of its batch', async () => {
      const eTag = await seed();
      const good = encodeWalRecord({
        ops: [{ c: 'tickets', id: 'T-2', e: 'e2', v: { title: 'kept' } }],
      });
      const torn = encodeWalRecord({
        ops: [
          { c: 'tickets', id: 'T-1', e: 'e3', v: { title: 'half' } },
          { c: 'tickets', id: 'T-3', e: 'e4', v: { title: 'half' } },
        ],
      });
      const path = layout.walFile(await walGen());
      await writeFile(path, good + torn.slice(0, Math.floor(torn.length / 2)));
      const logger = recordingLogger();
      const store = await openStore({ logger });
      expect((await store.get('tickets', 'T-1'))?.eTag).to.equal(eTag);
      expect((await store.get('tickets', 'T-2'))?.eTag).to.equal('e2');
      expect(await store.get('tickets', 'T-3')).to.equal(undefined);
      expect(logger.lines.some((l) => l.level === 'warn' && /torn/.test(l.msg ?? ''))).to.equal(
        true,
      );
      // Later writes are not stuck behind the torn bytes.
      await put(store, 'T-4', { title: 'later' });
      await store.close();
      const again = await openStore();
      expect(await again.count('tickets')).to.equal(3);
    });

    it('ignores a record whose checksum does not match', async () => {
      const eTag = await seed();
      const line = encodeWalRecord({
        ops: [{ c: 'tickets', id: 'T-1', e: 'e9', v: { title: 'flipped' } }],
      });
      await writeFile(layout.walFile(await walGen()), line.replace('flipped', 'flopped'));
      const store = await openStore();
      expect((await store.get('tickets', 'T-1'))?.eTag).to.equal(eTag);
    });

    it('refuses to open when a damaged record is followed by good ones', async () => {
      await seed();
      const bad = encodeWalRecord({ ops: [{ c: 'tickets', id: 'T-1', e: 'e1', v: 1 }] }).replace(
        'T-1',
        'T-X',
      );
      const good = encodeWalRecord({ ops: [{ c: 'tickets', id: 'T-2', e: 'e2', v: 2 }] });
      await writeFile(layout.walFile(await walGen()), bad + good);
      const err = await expectRejection(openStore(), StoreUnavailableError);
      expect(err.message).to.match(/damaged/);
      expect(existsSync(layout.lock)).to.equal(false);
    });

    it('restores a document file damaged by a crash from the journal', async () => {
      await seed();
      await writeFile(
        layout.walFile(await walGen()),
        encodeWalRecord({ ops: [{ c: 'tickets', id: 'T-1', e: 'e5', v: { title: 'whole' } }] }),
      );
      await writeFile(layout.docFile('tickets', 'T-1'), '{"collection":"tick');
      const store = await openStore();
      expect((await store.get('tickets', 'T-1'))?.value).to.deep.equal({ title: 'whole' });
    });

    it('restores a file torn after its head (new eTag, old body) from the journal', async () => {
      await seed();
      await writeFile(
        layout.walFile(await walGen()),
        encodeWalRecord({ ops: [{ c: 'tickets', id: 'T-1', e: 'e6', v: { title: 'new', reporter: 'bob' } }] }),
      );
      // What an in-place write cut short by a power loss can leave: the first block new, the rest old.
      await writeFile(
        layout.docFile('tickets', 'T-1'),
        '{"collection":"tickets","id":"T-1","eTag":"e6","value":{"title":"before","reporter":"ana"}}\n',
      );
      const store = await openStore();
      expect((await store.get('tickets', 'T-1'))?.value).to.deep.equal({ title: 'new', reporter: 'bob' });
      await store.close();
      open.length = 0;
      const again = JSON.parse(await readFile(layout.docFile('tickets', 'T-1'), 'utf8'));
      expect(again).to.deep.equal({ collection: 'tickets', id: 'T-1', eTag: 'e6', value: { title: 'new', reporter: 'bob' } });
    });

    it('loses no acknowledged batch and tears none when the process is killed -9', async function () {
      this.timeout(60_000);
      const script = fileURLToPath(new URL('./fixtures/crashWriter.ts', import.meta.url));
      for (const killAfter of [5, 40, 90]) {
        const child = spawn(process.execPath, ['--import', 'tsx', script, dir], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        let acked = 0;
        const exited = new Promise<NodeJS.Signals | null>((done) =>
          child.on('exit', (_c, s) => done(s)),
        );
        child.stdout.on('data', (d: Buffer) => {
          for (const m of d.toString().matchAll(/ack (\d+)/g)) acked = Number(m[1]);
          if (acked >= killAfter) child.kill('SIGKILL');
        });
        const signal = await exited;
        expect(signal, stderr).to.equal('SIGKILL');

        // The lock left by the killed writer is stale and taken over.
        const store = await openLowdbStore({
          dir,
          indexes: { pairs: { batch: (v: { n: number }) => String(v.n) } },
        });
        try {
          const last = (await store.get<{ n: number }>('meta', 'last'))!.value.n;
          expect(last).to.be.at.least(acked);
          const count = await store.count('pairs');
          expect(count % 2, 'pairs are whole').to.equal(0);
          expect(count / 2).to.be.at.least(last);
          for (let n = 1; n <= last; n += 1) {
            expect(await store.find('pairs', 'batch', String(n)), `batch ${n}`).to.have.length(2);
          }
        } finally {
          await store.close();
        }
      }
    });
  });

  describe('lock', () => {
    it('refuses a second opener while the store is open', async () => {
      await openStore();
      const err = await expectRejection(openStore(), StoreLockedError);
      expect(err).to.be.instanceOf(StoreUnavailableError);
      expect(err.message).to.match(/already open/);
    });

    it('refuses a lock held by another live process, naming its pid', async () => {
      const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], {
        stdio: 'ignore',
      });
      try {
        await mkdir(dir, { recursive: true });
        await writeFile(layout.lock, JSON.stringify({ pid: other.pid, host: 'h', since: 'then' }));
        const err = await expectRejection(openStore(), StoreLockedError);
        expect(err.message).to.include(`process ${other.pid}`);
      } finally {
        other.kill('SIGKILL');
      }
    });

    it('takes over a lock left by a dead process', async () => {
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      await writeFile(layout.lock, JSON.stringify({ pid: dead, host: 'h', since: 'then' }));
      const logger = recordingLogger();
      const store = await openStore({ logger });
      expect(JSON.parse(await readFile(layout.lock, 'utf8'))).to.include({ pid: process.pid });
      expect(logger.lines.some((l) => l.level === 'warn' && /stale/.test(l.msg ?? ''))).to.equal(
        true,
      );
      await put(store, 'T-1', { title: 'x' });
    });

    it('takes over an old empty lock file (crash while taking the lock)', async () => {
      await writeFile(layout.lock, '');
      const { utimes } = await import('node:fs/promises');
      const old = new Date(Date.now() - 60_000);
      await utimes(layout.lock, old, old);
      await openStore();
    });

    it('releases the lock on close so the store can be opened again', async () => {
      const store = await openStore();
      await store.close();
      expect(existsSync(layout.lock)).to.equal(false);
      await openStore();
    });
  });

  describe('I/O failures', () => {
    it('rejects the batches of a failed journal append with StoreUnavailableError and applies none of them', async () => {
      let failNext = 0;
      const store = await openStore({
        openJournal: watchedJournal(async (text, path) => {
          if (failNext === 0) return;
          failNext -= 1;
          // Half a record reaches the file, as when the disk fills up mid-write.
          await appendFile(path, text.slice(0, Math.ceil(text.length / 2)));
          throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        }),
      });
      const [okETag] = await put(store, 'ok', {
        title: 'before',
        reporter: 'ana',
      });
      failNext = 1;
      const results = await Promise.allSettled([
        store.write([
          {
            op: 'put',
            collection: 'tickets',
            id: 'ok',
            value: { title: 'after', reporter: 'bob' },
          },
          {
            op: 'put',
            collection: 'tickets',
            id: 'new',
            value: { title: 'new', reporter: 'bob' },
          },
        ]),
        put(store, 'other', { title: 'in the same group', reporter: 'bob' }),
      ]);
      for (const r of results) {
        expect(r.status).to.equal('rejected');
        const err = (r as PromiseRejectedResult).reason as StoreUnavailableError;
        expect(err).to.be.instanceOf(StoreUnavailableError);
        expect((err.cause as NodeJS.ErrnoException).code).to.equal('ENOSPC');
      }
      expect((await store.get('tickets', 'ok'))?.eTag).to.equal(okETag);
      expect(await store.get('tickets', 'new')).to.equal(undefined);
      expect(await store.find('tickets', 'reporter', 'bob')).to.deep.equal([]);

      // The store stays usable, and the failed batches do not come back on reopen.
      await put(store, 'fine', { title: 'fine' });
      await store.close();
      const again = await openStore();
      expect((await again.get('tickets', 'ok'))?.value).to.deep.equal({
        title: 'before',
        reporter: 'ana',
      });
      expect(await again.get('tickets', 'new')).to.equal(undefined);
      expect(await again.get('tickets', 'other')).to.equal(undefined);
      expect(await again.count('tickets')).to.equal(2);
    });

    it('keeps a committed batch whose document file cannot be written, and writes it once it can', async () => {
      const logger = recordingLogger();
      const store = await openStore({ logger });
      let blockedId = 'blocked-0';
      for (let i = 1; shardOf(blockedId) === shardOf('ok'); i += 1) blockedId = `blocked-${i}`;
      await put(store, 'ok', { title: 'before' });
      await store.flushed();
      // A file where the shard directory should be: writes there fail even for root.
      const shardDir = layout.shardDir('tickets', blockedId);
      await rm(shardDir, { recursive: true, force: true });
      await writeFile(shardDir, 'not a directory');

      // Committed by the journal: the writer is answered and readers see it.
      const [eTag] = await store.write([
        {
          op: 'put',
          collection: 'tickets',
          id: 'ok',
          value: { title: 'after', reporter: 'bob' },
        },
        {
          op: 'put',
          collection: 'tickets',
          id: blockedId,
          value: { title: 'new', reporter: 'bob' },
        },
      ]);
      expect((await store.get('tickets', 'ok'))?.eTag).to.equal(eTag);
      expect((await store.get('tickets', blockedId))?.value).to.deep.equal({
        title: 'new',
        reporter: 'bob',
      });
      expect(await store.find('tickets', 'reporter', 'bob')).to.have.length(2);
      const failed = await expectRejection(store.flushed(), StoreUnavailableError);
      expect(failed.message).to.match(/could not be written/);
      expect(
        logger.lines.some((l) => l.level === 'error' && /retrying/.test(l.msg ?? '')),
      ).to.equal(true);

      // Closing says the last checkpoint failed, but the journal keeps the batch.
      open.splice(open.indexOf(store), 1);
      const closing = await expectRejection(store.close(), StoreUnavailableError);
      expect(closing.message).to.match(/last checkpoint failed \(the journal keeps every write\)/);
      await rm(shardDir);
      const again = await openStore();
      expect((await again.get('tickets', blockedId))?.value).to.deep.equal({
        title: 'new',
        reporter: 'bob',
      });
      expect((await again.get('tickets', 'ok'))?.value).to.deep.equal({
        title: 'after',
        reporter: 'bob',
      });
      await again.flushed();
      expect(JSON.parse(await readFile(layout.docFile('tickets', blockedId), 'utf8'))).to.include({
        eTag: (await again.get('tickets', blockedId))?.eTag,
      });
    });

    it('rejects a read of an unreadable document with StoreUnavailableError', async () => {
      const store = await openLowdbStore({ dir, indexes: contractIndexes, cacheSize: 0 });
      open.push(store);
      await put(store, 'T-1', { title: 'x' });
      await store.flushed();
      const shardDir = layout.shardDir('tickets', 'T-1');
      await rm(shardDir, { recursive: true });
      await writeFile(shardDir, 'not a directory');
      const err = await expectRejection(store.get('tickets', 'T-1'), StoreUnavailableError);
      expect((err.cause as NodeJS.ErrnoException).code).to.equal('ENOTDIR');
      await rm(shardDir);
      await mkdir(shardDir);
    });

    it('rejects a read of a document file changed behind its back, and reads it again once restored', async () => {
      const store = await openLowdbStore({ dir, indexes: contractIndexes, cacheSize: 0 });
      open.push(store);
      await put(store, 'T-1', { title: 'x' });
      await store.flushed();
      const file = layout.docFile('tickets', 'T-1');
      const text = await readFile(file, 'utf8');
      await writeFile(file, text.replace(/"eTag":"[^"]*"/, '"eTag":"someone-else"'));
      const err = await expectRejection(store.get('tickets', 'T-1'), StoreUnavailableError);
      expect(err.message).to.match(/does not match the store's index/);
      await writeFile(file, text);
      expect((await store.get('tickets', 'T-1'))?.value).to.deep.equal({ title: 'x' });
    });

    it('fails to open with StoreUnavailableError when the directory is a file', async () => {
      await rm(dir, { recursive: true });
      await writeFile(dir, 'a file');
      const err = await expectRejection(openStore(), StoreUnavailableError);
      expect(err.cause).to.be.instanceOf(Error);
    });
  });

  describe('indexes at open', () => {
    async function seed(): Promise<void> {
      const store = await openStore();
      await store.write([
        {
          op: 'put',
          collection: 'tickets',
          id: 'T-1',
          value: { title: '1', reporter: 'ana', status: 'open' },
        },
        {
          op: 'put',
          collection: 'tickets',
          id: 'T-2',
          value: { title: '2', reporter: 'bob', status: 'open' },
        },
        { op: 'put', collection: 'drafts', id: 'D-1', value: { title: 'd' } },
      ]);
      await store.close();
      open.length = 0;
    }

    it('rebuilds the indexes from the documents when the snapshot is missing', async () => {
      await seed();
      await rm(layout.snapshot);
      const logger = recordingLogger();
      const store = await openStore({ logger });
      expect((await store.find('tickets', 'status', 'open')).map((d) => d.id).sort()).to.deep.equal(
        ['T-1', 'T-2'],
      );
      expect(await store.count('drafts')).to.equal(1);
      expect(logger.lines.find((l) => l.msg === 'store opened')?.obj).to.include({
        rebuiltIndex: true,
      });
    });

    it('rebuilds the indexes when the snapshot is garbage', async () => {
      await seed();
      await writeFile(layout.snapshot, '{"v":1,"walGen":');
      const store = await openStore();
      expect(await store.find('tickets', 'reporter', 'bob')).to.have.length(1);
    });

    it('rebuilds the indexes when an index is added or changed', async () => {
      await seed();
      const store = await openStore({
        indexes: {
          tickets: { ...contractIndexes.tickets, title: (t: { title: string }) => t.title },
        },
      });
      expect((await store.find('tickets', 'title', '2')).map((d) => d.id)).to.deep.equal(['T-2']);
    });

    it('rebuilds the indexes when the spec\'s version changes though no extractor\'s text did', async () => {
      // What a helper answers is not in the extractor's text: the version stands for it.
      const openSteps = new Set(['open']);
      const spec = { tickets: { open: (t: { status: string }) => (openSteps.has(t.status) ? 'yes' : undefined) } };
      const first = await openStore({ indexes: versionedIndexes(spec, 1) });
      await put(first, 'T-1', { status: 'open' });
      await put(first, 'T-2', { status: 'waiting' });
      await first.close();
      open.length = 0;
      openSteps.add('waiting'); // the helper changed; the extractor's text did not
      for (const [version, rebuilt, found] of [
        [1, false, ['T-1']], // same version: the stale keys are kept, as before versions existed
        [2, true, ['T-1', 'T-2']],
        [2, false, ['T-1', 'T-2']],
      ] as const) {
        const logger = recordingLogger();
        const store = await openStore({ logger, indexes: versionedIndexes(spec, version) });
        expect(logger.lines.find((l) => l.msg === 'store opened')?.obj, `version ${version}`).to.include({ rebuiltIndex: rebuilt });
        expect((await store.find('tickets', 'open', 'yes')).map((d) => d.id).sort()).to.deep.equal(found);
        await store.close();
        open.length = 0;
      }
    });

    it('opens without a rebuild when the same extractors were printed by the other compiler', async () => {
      // What `npm start` (tsx: esbuild) and `npm run start:prod` (tsc) each see of one extractor.
      const asTsc = new Function("return (t) => (t.status === 'open' ? 'open' : undefined)")() as IndexFn;
      const asTsx = new Function('return t=>t.status==="open"?"open":void 0')() as IndexFn;
      const first = await openStore({ indexes: { tickets: { open: asTsc } } });
      await put(first, 'T-1', { status: 'open' });
      await first.close();
      open.length = 0;
      for (const [extractor, rebuilt] of [
        [asTsx, false],
        [asTsc, false],
        [(t: { status: string }) => (t.status === 'open' ? 'yes' : undefined), true],
      ] as const) {
        const logger = recordingLogger();
        const store = await openStore({ logger, indexes: { tickets: { open: extractor } } });
        expect(logger.lines.find((l) => l.msg === 'store opened')?.obj).to.include({ rebuiltIndex: rebuilt });
        expect(await store.find('tickets', 'open', rebuilt ? 'yes' : 'open')).to.have.length(1);
        await store.close();
        open.length = 0;
      }
    });

    it('skips temp files left by an interrupted lowdb write when scanning', async () => {
      await seed();
      await rm(layout.snapshot);
      const file = layout.docFile('tickets', 'T-1');
      await appendFile(join(file, '..', `.${file.split('/').pop()}.tmp`), '{"half');
      const store = await openStore();
      expect(await store.count('tickets')).to.equal(2);
    });
  });
});

// What the embedded store's in-memory table costs at start-up: fills a temp store the way `npm run
// bench` does (bench/prefill.ts: 500 open tickets, the rest resolved, with their outbox items,
// deadlines and conversations), opens it with the app's indexes and prints the heap before and
// after open, after a full GC. For working on memory, not for BENCHMARKS.md.
// Run: node --expose-gc --import tsx bench/storeMemory.ts [tickets=50000]

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { writeHeapSnapshot } from 'node:v8';
import path from 'node:path';
import { main } from '../src/index.js';
import { openLowdbStore } from '../src/store/lowdbStore.js';
import { APP_INDEXES, APP_PACKS } from '../src/services/appIndexes.js';
import { prefill } from './prefill.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const tickets = Number(process.argv[2] ?? 50_000);
const dir = mkdtempSync(path.join(os.tmpdir(), 'fo-store-memory-'));
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
try {
  const filled = await prefill({
    dir,
    serviceUrl: 'http://127.0.0.1:1/',
    now: new Date(),
    open: 500,
    resolved: tickets - 500,
  });
  gc();
  const before = process.memoryUsage();
  const started = performance.now();
  const store = await openLowdbStore({ dir, indexes: APP_INDEXES, packs: APP_PACKS });
  const openMs = performance.now() - started;
  gc();
  const after = process.memoryUsage();
  const perDoc = (after.heapUsed - before.heapUsed) / filled.documents;
  process.stdout.write(
    `${filled.documents} documents: open ${openMs.toFixed(0)} ms; heap ${mb(before.heapUsed)} -> ${mb(after.heapUsed)} ` +
      `(+${mb(after.heapUsed - before.heapUsed)}, ${perDoc.toFixed(0)} bytes per document); RSS ${mb(after.rss)}\n`,
  );
  await store.close();

  // The whole bot on the same store, in this process: what its heap holds after start-up.
  gc();
  const bare = process.memoryUsage();
  const running = await main({
    env: {
      ...process.env,
      DATA_DIR: dir,
      MicrosoftAppId: '',
      MicrosoftAppPassword: '',
      PORT: '0',
      LOG_LEVEL: 'warn',
    },
  });
  const rssAfterStart = process.memoryUsage().rss;
  gc();
  const started2 = process.memoryUsage();
  process.stdout.write(
    `bot started on it: heap ${mb(bare.heapUsed)} -> ${mb(started2.heapUsed)} live (heap total ${mb(started2.heapTotal)}, ` +
      `external ${mb(started2.external)}, array buffers ${mb(started2.arrayBuffers)}); RSS ${mb(rssAfterStart)} before GC, ${mb(started2.rss)} after\n`,
  );
  if (process.env.HEAP_SNAPSHOT)
    process.stdout.write(`heap snapshot: ${writeHeapSnapshot(process.env.HEAP_SNAPSHOT)}\n`);
  await running.stop();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

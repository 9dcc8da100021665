// How the lowdb store scales: fills a temp store with 1,000 / 10,000 / 50,000 ticket-like documents
// (~2 KB each, indexed by reporter and status) and prints per-write latency, open time and memory.
// Run: npx tsx bench/storeScale.ts [sizes...]
// Open time and RSS are measured in a fresh child process, as the app would see them at start-up.

import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLowdbStore, type LowdbStore } from '../src/store/lowdbStore.js';
import type { IndexSpec, WriteOp } from '../src/store/store.js';

interface Ticket {
  id: string;
  title: string;
  description: string;
  reporter: { aadObjectId: string; name: string };
  status: string;
  severity: string;
  project: string;
  environment: string;
  createdAt: string;
  updatedAt: string;
  history: { at: string; by: string; action: string; note: string }[];
}

const indexes: IndexSpec = {
  tickets: {
    reporter: (t: Ticket) => t.reporter.aadObjectId,
    status: (t: Ticket) => t.status,
  },
};

const STATUSES = ['new', 'open', 'waiting', 'resolved', 'closed'];
const REPORTERS = 500;
const WORDS = 'batch job stuck production environment sql deadlock ledger posting invoice'.split(
  ' ',
);

function ticket(i: number, rev = 0): Ticket {
  const words = Array.from({ length: 170 }, (_, k) => WORDS[(i + k) % WORDS.length]).join(' ');
  const at = new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString();
  return {
    id: `T-${i}`,
    title: `Outage ${i}: ${WORDS[i % WORDS.length]} in production (rev ${rev})`,
    description: words,
    reporter: {
      aadObjectId: `00000000-0000-4000-8000-${String(i % REPORTERS).padStart(12, '0')}`,
      name: `User ${i % REPORTERS}`,
    },
    status: STATUSES[(i + rev) % STATUSES.length] as string,
    severity: ['A', 'B', 'C'][i % 3] as string,
    project: `project-${i % 7}`,
    environment: `prod-${i % 3}`,
    createdAt: at,
    updatedAt: at,
    history: Array.from({ length: 3 }, (_, k) => ({
      at,
      by: `User ${(i + k) % REPORTERS}`,
      action: ['created', 'acknowledged', 'commented'][k] as string,
      note: `Step ${k} of ticket ${i}`,
    })),
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function fill(store: LowdbStore, from: number, to: number): Promise<void> {
  for (let start = from; start < to; start += 100) {
    const ops: WriteOp[] = [];
    for (let i = start; i < Math.min(to, start + 100); i += 1) {
      ops.push({
        op: 'put',
        collection: 'tickets',
        id: `T-${i}`,
        value: ticket(i),
        ifMatch: 'absent',
      });
    }
    await store.write(ops);
  }
}

/** Single-document writes as the bot does them: half updates with ifMatch, half creates. */
async function measureWrites(store: LowdbStore, size: number, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let k = 0; k < n; k += 1) {
    if (k % 2 === 0) {
      const id = `T-${(k * 7919) % size}`;
      const doc = await store.get<Ticket>('tickets', id);
      const t0 = performance.now();
      await store.write([
        {
          op: 'put',
          collection: 'tickets',
          id,
          value: ticket((k * 7919) % size, k),
          ifMatch: doc!.eTag,
        },
      ]);
      times.push(performance.now() - t0);
    } else {
      const id = `N-${size}-${k}`;
      const t0 = performance.now();
      await store.write([
        { op: 'put', collection: 'tickets', id, value: ticket(size + k), ifMatch: 'absent' },
      ]);
      times.push(performance.now() - t0);
    }
  }
  return times.sort((a, b) => a - b);
}

/** Child mode: open the store, report open time and memory, close. */
async function openAndReport(dir: string): Promise<void> {
  const t0 = performance.now();
  const store = await openLowdbStore({ dir, indexes });
  const openMs = performance.now() - t0;
  const count = await store.count('tickets');
  const t1 = performance.now();
  const found = await store.find('tickets', 'reporter', '00000000-0000-4000-8000-000000000007');
  const findMs = performance.now() - t1;
  const mem = process.memoryUsage();
  await store.close();
  process.stdout.write(
    JSON.stringify({
      openMs,
      count,
      findMs,
      found: found.length,
      rssMb: mem.rss / 2 ** 20,
      heapMb: mem.heapUsed / 2 ** 20,
    }),
  );
}

function openInChild(dir: string): {
  openMs: number;
  count: number;
  findMs: number;
  found: number;
  rssMb: number;
  heapMb: number;
} {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--open', dir], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`open child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReturnType<typeof openInChild>;
}

async function main(): Promise<void> {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  const plan = sizes.length > 0 ? sizes : [1_000, 10_000, 50_000];
  const dir = await mkdtemp(join(tmpdir(), 'store-scale-'));
  const rows: Record<string, string | number>[] = [];
  try {
    let filled = 0;
    for (const size of plan) {
      let store = await openLowdbStore({ dir, indexes });
      const t0 = performance.now();
      await fill(store, filled, size);
      const fillS = (performance.now() - t0) / 1000;
      filled = size;
      const lat = await measureWrites(store, size, 1_000);
      await store.close();

      const opened = openInChild(dir);
      // The slow path too: no snapshot, every document scanned (first open after an index change).
      const { rm: remove } = await import('node:fs/promises');
      await remove(join(dir, 'index.json'));
      const scanned = openInChild(dir);
      rows.push({
        docs: opened.count,
        'fill s': fillS.toFixed(1),
        'write p50 ms': percentile(lat, 50).toFixed(2),
        'write p99 ms': percentile(lat, 99).toFixed(2),
        'write max ms': (lat.at(-1) ?? NaN).toFixed(1),
        'open ms': opened.openMs.toFixed(0),
        'RSS after open MB': opened.rssMb.toFixed(0),
        'heap MB': opened.heapMb.toFixed(0),
        'find 1 reporter ms': `${opened.findMs.toFixed(1)} (${opened.found} docs)`,
        'open by full scan ms': scanned.openMs.toFixed(0),
      });
      store = await openLowdbStore({ dir, indexes });
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.table(rows);
}

if (process.argv[2] === '--open') {
  await openAndReport(process.argv[3] as string);
} else {
  await main();
}

// Issue search (src/search/issueSearch.ts): index build time and query latency over 1,000 /
// 10,000 / 50,000 synthetic knowledge-base entries, in a child process of its own.
// The entries come from src/search/syntheticKb.ts when it exists, else from the generator below.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../src/config.js';
import { percentiles } from './stats.js';
import { readArg, runJson } from './procs.js';
import { seededRandom } from '../src/seededRandom.js';

export interface SearchRow {
  entries: number;
  buildMs: number;
  queries: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** "two words 1.2, a typo 3.4, ...": p99 ms per kind of query. */
  p99ByKind: string;
}

export type SearchResult =
  | { kind: 'pending' }
  | { kind: 'failed'; reason: string }
  | { kind: 'measured'; method: string; rows: SearchRow[] };

const SEARCH_FILE = path.join(projectRoot, 'src', 'search', 'issueSearch.ts');
const SYNTHETIC_FILE = path.join(projectRoot, 'src', 'search', 'syntheticKb.ts');
const SIZES = [1_000, 10_000, 50_000];
const QUERIES = 2_000;

/** Runs the measurement in a child process; 'pending' when the search is not there yet. */
export async function benchSearch(): Promise<SearchResult> {
  if (!existsSync(SEARCH_FILE)) return { kind: 'pending' };
  try {
    return await runJson<SearchResult>('bench/search.ts', { sizes: SIZES }, 180_000);
  } catch (err) {
    return { kind: 'failed', reason: (err as Error).message.slice(0, 500) };
  }
}

// ---- the child ------------------------------------------------------------------------------

interface Entry {
  id: string;
  kbNumber: string;
  title: string;
  symptoms: string;
  resolution: string;
  status: string;
  area: string;
  category: string;
  versions: string[];
  link: string;
  updated: string;
}

type Generator = (count: number) => Entry[];

const AREAS = ['General ledger', 'Accounts payable', 'Accounts receivable', 'Inventory management', 'Warehouse management', 'Production control', 'Master planning', 'Procurement', 'Sales and marketing', 'Project management', 'Fixed assets', 'Budgeting', 'Cash and bank management', 'Tax', 'Retail and commerce', 'System administration', 'Data management', 'Batch processing'];
const CATEGORIES = ['Finance', 'Supply chain management', 'Commerce', 'Platform', 'Human resources', 'Project operations'];
const NOUNS = 'invoice voucher journal posting ledger vendor customer payment batch job workflow warehouse inventory item transfer order purchase sales production route bom forecast budget asset depreciation tax settlement reconciliation export import entity package report form grid dialog number sequence dimension currency exchange rate'.split(' ');
const VERBS = 'fails hangs times out throws crashes duplicates skips ignores rounds misses blocks locks deadlocks stalls truncates'.split(' ');
const ERRORS = ['SQL timeout', 'deadlock victim', 'Update conflict', 'Infolog error', 'AADSTS700016', 'Error 1205', 'Cannot create a record', 'The value is not found in the map', 'Object reference not set'];
const STATUSES = ['Resolved', 'Open', 'Workaround', 'Postponed', 'By design', 'Not reproducible', "Won't fix"];

/** A fallback generator with Finance and Operations vocabulary (used when syntheticKb.ts is absent). */
function fallbackGenerator(count: number): Entry[] {
  const r = seededRandom(count);
  const pick = <T>(list: readonly T[]) => list[Math.floor(r() * list.length)]!;
  const sentence = () => `${pick(NOUNS)} ${pick(NOUNS)} ${pick(VERBS)} when the ${pick(NOUNS)} ${pick(NOUNS)} is ${pick(['posted', 'released', 'approved', 'imported', 'settled', 'confirmed'])}`;
  return Array.from({ length: count }, (_, i) => {
    const status = pick(STATUSES);
    return {
      id: `syn-${i}`,
      kbNumber: `KB${7_000_000 + i}`,
      title: `${pick(NOUNS)} ${pick(NOUNS)} ${pick(VERBS)} in ${pick(AREAS)}`,
      symptoms: `${sentence()}. ${sentence()}. The user sees "${pick(ERRORS)}". ${sentence()}.`,
      resolution: `${status === 'Resolved' ? 'Install the update' : 'Use the workaround'}: ${sentence()}. ${sentence()}.`,
      status,
      area: pick(AREAS),
      category: pick(CATEGORIES),
      versions: ['10.0.40', '10.0.41'],
      link: `https://lcs.dynamics.com/v2/issue/${i}`,
      updated: new Date(Date.UTC(2024, 0, 1) + (i % 700) * 86_400_000).toISOString().slice(0, 10),
    };
  });
}

async function generator(): Promise<{ make: Generator; name: string }> {
  if (existsSync(SYNTHETIC_FILE)) {
    const mod = (await import(pathToFileURL(SYNTHETIC_FILE).href)) as { syntheticKb?: (n: number, o?: { seed?: number }) => Entry[] };
    if (typeof mod.syntheticKb === 'function') {
      const make = mod.syntheticKb;
      return { make: (n) => make(n, { seed: 7 }), name: '`syntheticKb(n, { seed: 7 })` (src/search/syntheticKb.ts)' };
    }
  }
  return { make: fallbackGenerator, name: 'bench/search.ts fallback generator (src/search/syntheticKb.ts not found)' };
}

type QueryKind = 'two words' | 'four words' | 'a typo' | 'a prefix' | 'KB number + word' | 'pasted sentence' | 'suggest(draft)';
interface Query {
  kind: QueryKind;
  text?: string;
  draft?: Record<string, string>;
}

/** A seeded mix of what people search: words from entries, typos, prefixes, KB numbers, drafts. */
function queries(entries: Entry[], n: number): Query[] {
  const r = seededRandom(42);
  const pick = <T>(list: readonly T[]) => list[Math.floor(r() * list.length)]!;
  const wordsOf = (text: string) => text.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 2);
  const out: Query[] = [];
  for (let i = 0; i < n; i++) {
    const e = pick(entries);
    const words = wordsOf(`${e.title} ${e.symptoms}`);
    const some = (k: number) => Array.from({ length: k }, () => pick(words)).join(' ');
    const long = words.filter((w) => w.length >= 6);
    switch (i % 7) {
      case 0: out.push({ kind: 'two words', text: some(2) }); break;
      case 1: out.push({ kind: 'four words', text: some(4) }); break;
      case 2: { const w = pick(long.length ? long : words); out.push({ kind: 'a typo', text: `${w.slice(0, 2)}${w.slice(3)} ${some(1)}` }); break; }
      case 3: out.push({ kind: 'a prefix', text: pick(long.length ? long : words).slice(0, 5) }); break; // as typed, mid-word
      case 4: out.push({ kind: 'KB number + word', text: `${e.kbNumber} ${some(1)}` }); break;
      case 5: out.push({ kind: 'pasted sentence', text: e.symptoms.split(/(?<=[.!?])\s+/)[0]!.slice(0, 200) }); break;
      default: out.push({ kind: 'suggest(draft)', draft: { title: e.title, details: e.symptoms.slice(0, 600), errorMessage: some(3), area: e.area, category: e.category } }); break;
    }
  }
  return out;
}

async function child(sizes: number[]): Promise<SearchResult> {
  const search = (await import(pathToFileURL(SEARCH_FILE).href)) as {
    buildIssueSearch?: (entries: Entry[]) => { search(q: string): unknown[]; suggest?(d: Record<string, string>): unknown[] };
  };
  if (typeof search.buildIssueSearch !== 'function') return { kind: 'failed', reason: 'src/search/issueSearch.ts exports no buildIssueSearch(entries)' };
  const gen = await generator();
  const rows: SearchRow[] = [];
  for (const size of sizes) {
    const entries = gen.make(size);
    const t0 = performance.now();
    const index = search.buildIssueSearch(entries);
    const buildMs = performance.now() - t0;
    const qs = queries(entries, QUERIES + 210);
    const times: number[] = [];
    const byKind = new Map<QueryKind, number[]>();
    qs.forEach((q, i) => {
      const t = performance.now();
      if (q.draft && index.suggest) index.suggest(q.draft);
      else index.search(q.text ?? q.draft?.title ?? '');
      const ms = performance.now() - t;
      if (i < 210) return; // the first 210 (30 of each kind) warm the JIT
      times.push(ms);
      byKind.set(q.kind, [...(byKind.get(q.kind) ?? []), ms]);
    });
    const p = percentiles(times);
    const kinds = [...byKind].map(([k, v]) => `${k} ${percentiles(v).p99.toFixed(1)}`).join(', ');
    rows.push({ entries: size, buildMs, queries: times.length, p50Ms: p.p50, p99Ms: p.p99, maxMs: p.max, p99ByKind: kinds });
  }
  return {
    kind: 'measured',
    method:
      `In a process of its own, \`buildIssueSearch(entries)\` timed over entries from ${gen.name}, then ${QUERIES} queries ` +
      '(after 210 of warm-up), a seeded mix, one seventh each: 2 and 4 words taken from an entry, a long word with a typo plus a ' +
      'word, the first 5 letters of a long word (search as you type), a KB number with a word, the first sentence of an ' +
      "entry's symptoms (a pasted message), and `suggest()` on an incident draft (title, details, error message, area, category).",
    rows,
  };
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2]) {
  const { sizes } = readArg<{ sizes: number[] }>(process.argv[2]);
  process.stdout.write(`${JSON.stringify(await child(sizes))}\n`);
}

// How Issue search scales: builds the index over synthetic knowledge bases of 1,000 / 10,000 /
// 50,000 entries (recombined from kb/demo.jsonl) and prints the build time, the heap it takes and
// the p50 / p99 / max latency of a realistic mix of queries (keywords, typos, pasted error
// messages, KB numbers, AND / OR, status filters, category and area boosts, plus words, typos and
// prefixes drawn from random entries) and of suggest(),
// and how far the pruned top 10 agrees with exhaustive scoring (see "Speed" in issueSearch.ts).
// Run: npx tsx src/search/benchSearch.ts [sizes...]   (add --expose-gc via NODE_OPTIONS for
// steadier heap figures)

import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { IncidentDraftText, IssueHit, IssueSearchOptions } from './issueSearch.js';
import type { KnownIssue } from './knownIssue.js';
import { buildIssueSearch } from './issueSearch.js';
import { loadKb } from './loadKb.js';
import { seededRandom } from '../seededRandom.js';
import { SYNTHETIC_KB_START, syntheticKb } from './syntheticKb.js';

const QUERIES: [string, IssueSearchOptions?][] = [
  ['batch job stuck executing'],
  ['workflow'],
  ['posting'],
  ['invoice'],
  ['error'],
  ['vendor invoice posting fails'],
  ['wokflow editer'],
  ['recuring integraton enqueue'],
  ['dual-write initial sync'],
  ['The transactions on voucher GNJL000245 do not balance as per 3/31/2025'],
  ['Work item could not be created. Insufficient rights for user ALICIA'],
  ['AADSTS700016 application not found'],
  ['batch AND workflow'],
  ['posting OR invoice'],
  ['warehouse mobile app AND sign-in OR license plate'],
  ['inventory close', { status: 'Resolved' }],
  ['data entity import', { status: ['Open', 'Workaround'] }],
  ['report timeout', { category: 'Platform', area: 'Printing and reports' }],
  ['deadlock', { category: 'Supply chain management', area: 'Warehouse management' }],
  ['sql timeout performance year-end close'],
  ['OData 429 too many requests throttling'],
  ['CustTransSettlement'],
  ['Ledger'],
  ['statement posting inventory not available'],
];

const DRAFTS: IncidentDraftText[] = [
  { category: 'Platform', area: 'Batch jobs', title: 'Batch jobs not running' },
  {
    category: 'Finance',
    area: 'General ledger',
    title: 'Cannot post general journal',
    details: 'Since this morning posting the monthly accrual journal fails for all users in USMF.',
    errorMessage: 'The transactions on voucher GNJL000245 do not balance as per 3/31/2025.',
  },
  {
    category: 'Supply chain management',
    area: 'Warehouse mobile app',
    title: 'Mobile app sign in fails',
    details:
      'Warehouse workers cannot sign in on the Zebra devices after the app update. Steps: open app, select connection, sign in.',
    errorMessage: 'AADSTS700016: Application with identifier was not found in the directory',
  },
];

// Besides the fixed mix, each round runs queries as people type them, drawn from random entries:
// two or four of an entry's words, a word with a typo, the first letters of a word (typeahead).
const TYPED_PER_ROUND = 12;
function typedQueries(entries: readonly KnownIssue[], random: () => number): string[] {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)] as T;
  const out: string[] = [];
  for (let i = 0; i < 50 * TYPED_PER_ROUND; i++) {
    const e = pick(entries);
    const words = `${e.title} ${e.symptoms}`.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 2);
    const some = (k: number) => Array.from({ length: k }, () => pick(words)).join(' ');
    const word = pick(words);
    const typo = `${word.slice(0, 1)}${word.slice(2)}`;
    out.push([some(2), some(4), `${typo} ${some(1)}`, word.slice(0, 4)][i % 4] as string);
  }
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function summary(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(2).padStart(6);
  return `p50 ${f(percentile(s, 50))} ms  p99 ${f(percentile(s, 99))} ms  max ${f(s[s.length - 1] as number)} ms`;
}

function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1e6;
}

async function main() {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const corpus = await loadKb(join(root, 'kb', 'demo.jsonl'));
  // Latency on a shared machine is only meaningful next to its load: rerun when it is high.
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  process.stdout.write(`node ${process.version}, corpus ${corpus.length} demo entries, load ${load}\n`);

  for (const size of sizes.length ? sizes : [1_000, 10_000, 50_000]) {
    const entries = syntheticKb(size, { corpus, seed: 7 });
    const heapBefore = heapMb();
    const t0 = performance.now();
    const search = buildIssueSearch(entries);
    const buildMs = performance.now() - t0;
    const heap = heapMb() - heapBefore;

    const random = seededRandom(size);
    const kbQuery = () => `KB${SYNTHETIC_KB_START + Math.floor(random() * size)}`;
    const typed = typedQueries(entries, random);
    const run = (rounds: number) => {
      const query: number[] = [];
      const suggest: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const mix: [string, IssueSearchOptions?][] = [
          ...QUERIES,
          [kbQuery()],
          ...typed.splice(0, TYPED_PER_ROUND).map((q): [string] => [q]),
        ];
        for (const [q, options] of mix) {
          const t = performance.now();
          search.search(q, options);
          query.push(performance.now() - t);
        }
        for (const draft of DRAFTS) {
          const t = performance.now();
          search.suggest(draft);
          suggest.push(performance.now() - t);
        }
      }
      return { query, suggest };
    };
    run(5); // warm-up: JIT and caches, as a running server would be (at most 50 rounds in all)
    const { query, suggest } = run(40);

    // Pruning's price: the share of the exhaustive top 10 that the pruned top 10 keeps, and the
    // share of its total score (near-ties among thousands of entries holding one common word
    // make the first figure look worse than the results are).
    let kept = 0;
    let scoreKept = 0;
    let firstSame = 0;
    const total = (hits: IssueHit[]) => hits.reduce((sum, h) => sum + h.score, 0);
    const compare = (pruned: IssueHit[], full: IssueHit[]) => {
      const ids = new Set(pruned.map((h) => h.issue.id));
      kept += full.length ? full.filter((h) => ids.has(h.issue.id)).length / full.length : 1;
      scoreKept += full.length ? Math.min(1, total(pruned) / total(full)) : 1;
      if (pruned[0]?.issue.id === full[0]?.issue.id) firstSame++;
    };
    for (const [q, options] of QUERIES)
      compare(search.search(q, options), search.search(q, { ...options, exhaustive: true }));
    for (const draft of DRAFTS)
      compare(search.suggest(draft), search.suggest(draft, { exhaustive: true }));
    const cases = QUERIES.length + DRAFTS.length;
    process.stdout.write(
      `${String(size).padStart(6)} entries: build ${buildMs.toFixed(0).padStart(5)} ms, heap ~${heap.toFixed(0)} MB\n` +
        `        search  (${query.length} queries): ${summary(query)}\n` +
        `        suggest (${suggest.length} drafts):  ${summary(suggest)}\n` +
        `        pruned vs exhaustive: top 10 entries kept ${((100 * kept) / cases).toFixed(0)}%, ` +
        `score kept ${((100 * scoreKept) / cases).toFixed(1)}%, ` +
        `same first result ${firstSame}/${cases}\n`,
    );
  }
}

await main();

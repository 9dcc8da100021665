import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../config.js';
import { ISSUE_STATUSES, type IssueStatus, type KnownIssue } from './knownIssue.js';
import { parseKb } from './loadKb.js';
import { seededRandom } from '../seededRandom.js';

// Large synthetic knowledge bases for benchmarks (1,000 / 10,000 / 50,000 entries). Entries are
// recombined from the sentences of a real corpus (the demo knowledge base) so that word
// frequencies look like support text, plus object names and error codes (the codes keep the
// vocabulary growing with the size, as a real knowledge base's does). Same seed and corpus,
// same output. Synthetic KB numbers start at KB8000000 and ids are "syn-<n>".

export interface SyntheticOptions {
  /** The entries whose titles, sentences and areas are recombined (default: the demo KB). */
  corpus?: readonly KnownIssue[];
  seed?: number;
}

const DEMO_KB = path.join(projectRoot, 'kb', 'demo.jsonl');
let demo: KnownIssue[] | undefined;

/** The demo knowledge base (kb/demo.jsonl), read once: the default corpus. */
export function demoCorpus(): KnownIssue[] {
  demo ??= parseKb(readFileSync(DEMO_KB, 'utf8'), DEMO_KB);
  return demo;
}

export const SYNTHETIC_KB_START = 8_000_000;

const PREFIXES =
  'Cust Vend Invent Ledger Whs Prod Proj Sales Purch Tax Asset Budget Bank Retail Dir Sys Batch Dmf EcoRes Req'.split(
    ' ',
  );
const MIDDLES =
  'Trans Table Line Jour Settlement Posting Entity Staging Order Header Dim Parm Calc Mapping Location Work Wave'.split(
    ' ',
  );
const SUFFIXES = [
  '',
  'V2',
  'V3',
  'Entity',
  'Service',
  'Helper',
  'Contract',
  'Controller',
  'Tmp',
  'Archive',
];
const VERSIONS = [
  '10.0.36',
  '10.0.37',
  '10.0.38',
  '10.0.39',
  '10.0.40',
  '10.0.41',
  '10.0.42',
  '10.0.43',
  '10.0.44',
];
// Roughly how often LCS shows each status: most known issues are fixed.
const STATUS_WEIGHTS: Record<IssueStatus, number> = {
  Resolved: 45,
  Workaround: 15,
  Open: 12,
  'By design': 12,
  Postponed: 5,
  'Not reproducible': 6,
  "Won't fix": 5,
};

function sentences(text: string): string[] {
  const all = text.split(/(?<=[.!?])\s+(?=[A-Z"])/).filter((s) => s.length > 10);
  return all.length ? all : [text];
}

/** Generates `count` entries, deterministic for a given seed and corpus. */
export function syntheticKb(count: number, options: SyntheticOptions = {}): KnownIssue[] {
  const { corpus = demoCorpus(), seed = 42 } = options;
  if (corpus.length === 0) throw new Error('syntheticKb needs a non-empty corpus');
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  // Sentences by area, so that a mixed-in sentence stays on topic as a real entry's would.
  const byArea = new Map<string, { symptoms: string[]; resolutions: string[] }>();
  for (const e of corpus) {
    const pools = byArea.get(e.area) ?? { symptoms: [], resolutions: [] };
    pools.symptoms.push(...sentences(e.symptoms));
    pools.resolutions.push(...sentences(e.resolution));
    byArea.set(e.area, pools);
  }
  const statusPool = ISSUE_STATUSES.flatMap((s) => Array<IssueStatus>(STATUS_WEIGHTS[s]).fill(s));
  // About 3,400 object names (CustTransEntity, WhsWorkLineV2, ...), as a code base has.
  const objectName = () => `${pick(PREFIXES)}${pick(MIDDLES)}${pick(SUFFIXES)}`;
  const errorLine = (code: string, object: string) =>
    pick([
      `The event log shows ${code} in ${object}.`,
      `Error ${code} (${object}).`,
      `Trace: ${object}, ${code}.`,
      `${object} returns ${code}.`,
    ]);
  const errorCode = () => `E${10000 + Math.floor(random() * 90000)}`;
  const day0 = Date.UTC(2021, 0, 1);

  const entries: KnownIssue[] = [];
  for (let i = 0; i < count; i++) {
    // One demo entry's own title and sentences, varied: an object name, a sentence from another
    // entry of the same area, an error code. Entries stay as long and as coherent as the demo's.
    const base = pick(corpus);
    const pools = byArea.get(base.area) as { symptoms: string[]; resolutions: string[] };
    const object = objectName();
    const title = random() < 0.6 ? `${base.title} in ${object}` : base.title;
    const own = sentences(base.symptoms);
    const symptoms = [
      ...own.slice(0, 1 + Math.floor(random() * own.length)),
      random() < 0.5 ? pick(pools.symptoms) : '',
      random() < 0.3 ? errorLine(errorCode(), object) : '',
    ]
      .filter(Boolean)
      .join(' ');
    const fix = sentences(base.resolution);
    const resolution = [
      ...fix.slice(0, 1 + Math.floor(random() * fix.length)),
      random() < 0.3 ? pick(pools.resolutions) : '',
    ]
      .filter(Boolean)
      .join(' ');
    const status = pick(statusPool);
    const first = Math.floor(random() * (VERSIONS.length - 2));
    const kb = SYNTHETIC_KB_START + i;
    entries.push({
      id: `syn-${i}`,
      kbNumber: `KB${kb}`,
      title,
      symptoms,
      resolution,
      status,
      area: base.area,
      category: base.category,
      versions: VERSIONS.slice(first, first + 1 + Math.floor(random() * 3)),
      link: `https://fix.lcs.dynamics.com/Issue/Details?kb=${kb}`,
      updated: new Date(day0 + Math.floor(random() * 1700) * 86_400_000).toISOString().slice(0, 10),
    });
  }
  return entries;
}

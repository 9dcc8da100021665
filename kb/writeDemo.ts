// Writes kb/demo.jsonl, the demo knowledge base of known issues, from the hand-written templates in
// kb/demoTemplates.ts. Run: npx tsx kb/writeDemo.ts
//
// Everything is derived from the entry id, so the output is the same on every run and an entry
// keeps its KB number, versions and date when others are added. KB numbers are fictitious, all in
// the range KB7000000 to KB7999999 (real LCS KB numbers are lower); links point at the LCS issue
// page shape but lead nowhere real.

import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KnownIssue, type IssueStatus } from '../src/search/knownIssue.js';
import { AREAS, type Template } from './demoTemplates.js';

const VERSIONS = [
  '10.0.37',
  '10.0.38',
  '10.0.39',
  '10.0.40',
  '10.0.41',
  '10.0.42',
  '10.0.43',
  '10.0.44',
];
const FIRST_DAY = Date.UTC(2023, 8, 1); // 2023-09-01
const DAYS = 790; // to early November 2025

/** FNV-1a: a stable 32-bit hash of the id, the only source of the derived fields. */
function hash(text: string, salt = ''): number {
  let h = 0x811c9dc5;
  for (const ch of salt + text) {
    h ^= ch.codePointAt(0) as number;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function fill(text: string, vars: Record<string, string | undefined>, where: string): string {
  return text.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`${where}: no value for {${name}}`);
    return value;
  });
}

// Resolved entries list the versions the fix shipped in; the others, the versions affected.
function versionsFor(id: string, status: IssueStatus): string[] {
  const length = status === 'Resolved' ? 2 + (hash(id, 'n') % 2) : 1 + (hash(id, 'n') % 4);
  const start = hash(id, 'v') % (VERSIONS.length - length + 1);
  return VERSIONS.slice(start, start + length);
}

function entriesOf(category: string, area: string, t: Template): KnownIssue[] {
  const variants = t.variants ?? [{ id: '' }];
  return variants.map((v) => {
    const id = v.id ? `${t.key}-${v.id}` : t.key;
    const status = (v.status as IssueStatus | undefined) ?? t.status;
    const day = new Date(FIRST_DAY + (hash(id, 'd') % DAYS) * 86_400_000);
    return {
      id,
      kbNumber: '', // assigned below, once every id is known
      title: fill(t.title, v, id),
      symptoms: fill(t.symptoms, v, id),
      resolution: fill(t.resolution, v, id),
      status,
      area: v.area ?? area,
      category,
      versions: versionsFor(id, status),
      link: '',
      updated: day.toISOString().slice(0, 10),
    };
  });
}

/** The demo entries, in template order, validated with the application's schema. */
export function demoEntries(): KnownIssue[] {
  const entries = AREAS.flatMap(({ category, area, issues }) =>
    issues.flatMap((t) => entriesOf(category, area, t)),
  );
  const taken = new Set<number>();
  for (const e of entries) {
    let kb = 7_000_000 + (hash(e.id, 'kb') % 1_000_000);
    while (taken.has(kb)) kb = kb === 7_999_999 ? 7_000_000 : kb + 1;
    taken.add(kb);
    e.kbNumber = `KB${kb}`;
    e.link = `https://fix.lcs.dynamics.com/Issue/Details?kb=${kb}&bugId=${800_000 + (hash(e.id, 'bug') % 200_000)}`;
  }
  // Validate what is written with the schema the application loads it with.
  return entries.map((e) => KnownIssue.parse(e));
}

/** The text of kb/demo.jsonl: one entry a line. */
export function demoJsonl(): string {
  return (
    demoEntries()
      .map((e) => JSON.stringify(e))
      .join('\n') + '\n'
  );
}

export const DEMO_FILE = fileURLToPath(new URL('demo.jsonl', import.meta.url));

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const entries = demoEntries();
  if (new Set(entries.map((e) => e.id)).size !== entries.length)
    throw new Error('duplicate ids in the templates');
  writeFileSync(DEMO_FILE, demoJsonl());
  const byStatus = new Map<string, number>();
  for (const e of entries) byStatus.set(e.status, (byStatus.get(e.status) ?? 0) + 1);
  process.stdout.write(
    `${DEMO_FILE}: ${entries.length} entries in ${new Set(entries.map((e) => e.area)).size} areas; ` +
      `${[...byStatus].map(([s, n]) => `${s} ${n}`).join(', ')}\n`,
  );
}

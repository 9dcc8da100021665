import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { KnownIssue } from './knownIssue.js';

// The knowledge base is a JSONL file named in the configuration: one entry a line, validated at
// start. Nothing is skipped silently: every bad line (bad JSON, a bad field, a duplicate id or KB
// number) is collected and the load fails with all of them, each naming its line. Blank lines
// are allowed (a trailing newline, spacing between groups); they hold no entry.

export interface KbProblem {
  line: number;
  message: string;
}

/** The knowledge-base file is invalid; `problems` names each bad line. */
export class KbFileError extends ConfigError {
  constructor(
    readonly source: string,
    readonly problems: readonly KbProblem[],
  ) {
    super(KbFileError.describe(source, problems));
    this.name = 'KbFileError';
  }

  private static describe(source: string, problems: readonly KbProblem[]): string {
    const shown = problems.slice(0, MAX_SHOWN).map((p) => `  line ${p.line}: ${p.message}`);
    const more =
      problems.length > MAX_SHOWN ? [`  ... and ${problems.length - MAX_SHOWN} more`] : [];
    const head = `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`;
    return [head, ...shown, ...more].join('\n');
  }
}

// A log line with a thousand problems helps nobody; the full list stays on `problems`.
const MAX_SHOWN = 20;

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/** Parses JSONL text into validated entries, or throws a KbFileError listing every bad line. */
export function parseKb(text: string, source = 'knowledge base'): KnownIssue[] {
  const entries: KnownIssue[] = [];
  const problems: KbProblem[] = [];
  const idLine = new Map<string, number>();
  const kbLine = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);

  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (e) {
      problems.push({ line, message: `not valid JSON (${(e as Error).message})` });
      return;
    }
    const r = KnownIssue.safeParse(json);
    if (!r.success) {
      const id = (json as { id?: unknown } | null)?.id;
      const which = typeof id === 'string' ? ` (id "${id}")` : '';
      problems.push({ line, message: `${describeIssues(r.error)}${which}` });
      return;
    }
    const entry = r.data;
    const firstId = idLine.get(entry.id);
    const firstKb = kbLine.get(entry.kbNumber);
    if (firstId !== undefined) {
      problems.push({ line, message: `duplicate id "${entry.id}" (first on line ${firstId})` });
    } else if (firstKb !== undefined) {
      problems.push({
        line,
        message: `duplicate KB number ${entry.kbNumber} (first on line ${firstKb})`,
      });
    } else {
      idLine.set(entry.id, line);
      kbLine.set(entry.kbNumber, line);
      entries.push(entry);
    }
  });

  if (problems.length === 0 && entries.length === 0)
    problems.push({ line: lines.length, message: 'the file holds no entries' });
  if (problems.length) throw new KbFileError(source, problems);
  return entries;
}

/** Reads and validates the knowledge base at `path` (from the configuration). */
export async function loadKb(path: string): Promise<KnownIssue[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${path}: cannot read the knowledge base (${(e as Error).message})`);
  }
  return parseKb(text, path);
}

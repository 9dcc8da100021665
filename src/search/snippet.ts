import { processTerm, WORD } from './terms.js';

// A short excerpt of an entry around the first word the query matched, with every matched word
// marked **bold** (Adaptive Card TextBlock markdown). Words are compared by index term, so a
// query for "posting" marks "posted" too, exactly as the index matched it.

export const SNIPPET_LENGTH = 160;
// How much text to keep before the first match, so the excerpt reads as a sentence.
const LEAD = 40;

interface Found {
  text: string;
  at: number;
}

function firstMatch(text: string, matched: ReadonlySet<string>): number {
  for (const m of text.matchAll(WORD)) {
    const term = processTerm(m[0]);
    if (term && matched.has(term)) return m.index;
  }
  return -1;
}

/** Cuts `text` to about `length` characters at word boundaries, starting a little before `at`. */
function cut(text: string, at: number, length: number): string {
  if (text.length <= length) return text;
  let start = Math.max(0, Math.min(at - LEAD, text.length - length));
  if (start > 0) {
    const space = text.indexOf(' ', start);
    start = space >= 0 && space < at ? space + 1 : start;
  }
  let end = Math.min(text.length, start + length);
  if (end < text.length) {
    const space = text.lastIndexOf(' ', end);
    end = space > start ? space : end;
  }
  return `${start > 0 ? '…' : ''}${text.slice(start, end).trim()}${end < text.length ? '…' : ''}`;
}

function bold(excerpt: string, matched: ReadonlySet<string>): string {
  return excerpt.replace(WORD, (word) => {
    const term = processTerm(word);
    return term && matched.has(term) ? `**${word}**` : word;
  });
}

/**
 * The snippet for one entry: from its symptoms, else its resolution, whichever first holds a
 * matched term; the start of the symptoms when neither does (a KB number or title-only match).
 */
export function makeSnippet(
  sources: readonly string[],
  matched: ReadonlySet<string>,
  length = SNIPPET_LENGTH,
): string {
  const texts = sources.map((s) => s.replace(/\s+/g, ' ').trim());
  let found: Found = { text: texts[0] ?? '', at: 0 };
  for (const text of texts) {
    const at = matched.size ? firstMatch(text, matched) : -1;
    if (at >= 0) {
      found = { text, at };
      break;
    }
  }
  return bold(cut(found.text, found.at, length), matched);
}

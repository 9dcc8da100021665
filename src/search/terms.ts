// How text becomes index terms, shared by indexing, querying and snippet highlighting so that all
// three agree on what "the same word" is: MiniSearch's own tokenizer (split on blanks and
// punctuation), lower case, English stop words dropped, and a light suffix stemmer so that
// "posting", "posted" and "posts" meet, as do "invoice", "invoices" and "invoicing".

/** MiniSearch's default separator: blanks and punctuation (so "dual-write" is two words). */
export const SEPARATOR = /[\n\r\p{Z}\p{P}]+/u;
/** A word as the tokenizer sees it, for finding words in text with their positions. */
export const WORD = /[^\n\r\p{Z}\p{P}]+/gu;

export function tokenize(text: string): string[] {
  return text.split(SEPARATOR);
}

// Words too common to say anything about an issue. Domain words ("error", "cannot") stay: BM25's
// inverse document frequency already weighs them down, and "cannot" in a title is a signal.
const STOP_WORDS = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have how i if in ' +
    'into is it its me my no not of on or our so than that the their them then there these they ' +
    'this those to too us was we were what when where which while who why will with would you ' +
    'your also any all after before just only get got'
  ).split(' '),
);

const DOUBLED = /([b-df-hj-km-np-rtv-z])\1$/; // a doubled consonant other than l, s (stopp -> stop)

/**
 * A deliberately small stemmer (plural, -ing, -ed, final e): enough to join the forms support
 * texts use, predictable enough that highlighting the stem in a snippet reads naturally.
 */
export function stem(word: string): string {
  let w = word;
  if (w.length <= 3 || /\d/.test(w)) return w;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (/(ss|sh|ch|x|z)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);

  if (w.endsWith('ing') && w.length > 6) w = w.slice(0, -3);
  else if (w.endsWith('ed') && w.length > 5) w = w.slice(0, -2);
  else if (w.endsWith('e') && w.length > 4) w = w.slice(0, -1);
  else return w;
  return DOUBLED.test(w) && w.length > 3 ? w.slice(0, -1) : w;
}

/** One token to its index term, or null when it carries no meaning (stop word, single letter). */
export function processTerm(token: string): string | null {
  const t = token.toLowerCase();
  if (t.length < 2 || STOP_WORDS.has(t)) return null;
  return stem(t);
}

/** The distinct index terms of a text, in order of first appearance. */
export function termsOf(text: string): string[] {
  const seen = new Set<string>();
  for (const token of tokenize(text)) {
    const term = processTerm(token);
    if (term) seen.add(term);
  }
  return [...seen];
}

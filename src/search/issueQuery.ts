import type { Query } from 'minisearch';
import { processTerm, tokenize } from './terms.js';

// The Issue search query language, parsed into KB numbers and index terms:
// - plain words form a soft group: any of them may match (OR), and MiniSearch multiplies an
//   entry's score by how many distinct query words it holds, so entries with all of them lead;
// - `a AND b` requires both sides, `a OR b` offers alternatives; AND binds tighter than OR and
//   joins soft groups: `stuck batch AND workflow` is (stuck or batch) and workflow. Only the
//   upper-case words are operators (lower-case "and"/"or" are ordinary words, and stop words);
// - a KB number ("KB4512345", "KB 4512345", "KB#4512345", or the digits alone when such a KB
//   exists) is taken out of the words, to be looked up directly.

export const MAX_QUERY_CHARS = 1000;
// Bounds on query size keep the worst case fast whatever is typed or pasted.
const MAX_QUERY_TERMS = 40;
const KB_TOKEN = /^[("'[]*(?:KB)?#?(\d{6,8})[)"'\],.;:]*$/i;

/** A parsed query: KB numbers (digits) and OR of AND of soft groups of index terms. */
export interface ParsedQuery {
  kbNumbers: string[];
  groups: string[][][];
}

/** Splits a query into KB numbers and the AND / OR structure of its words (as index terms). */
export function parseQuery(
  text: string,
  isKb: (digits: string) => boolean = () => true,
): ParsedQuery {
  const tokens = text.slice(0, MAX_QUERY_CHARS).split(/\s+/).filter(Boolean);
  const kbNumbers: string[] = [];
  const groups: string[][][] = [];
  let chain: string[][] = [];
  let soft: string[] = [];
  let count = 0;
  const closeSoft = () => {
    if (soft.length) chain.push(soft);
    soft = [];
  };
  const closeChain = () => {
    closeSoft();
    if (chain.length) groups.push(chain);
    chain = [];
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (token === 'AND' || token === '&&') closeSoft();
    else if (token === 'OR' || token === '||') closeChain();
    else {
      // "KB 4512345": the number is the next token.
      const next = tokens[i + 1];
      const joined = /^kb#?$/i.test(token) && next !== undefined ? `KB${next}` : token;
      const digits = KB_TOKEN.exec(joined)?.[1];
      if (digits !== undefined && isKb(digits)) {
        if (!kbNumbers.includes(digits)) kbNumbers.push(digits);
        if (joined !== token) i++;
        continue;
      }
      for (const word of tokenize(token)) {
        const term = processTerm(word);
        if (term && count < MAX_QUERY_TERMS && !soft.includes(term)) {
          soft.push(term);
          count++;
        }
      }
    }
  }
  closeChain();
  return { kbNumbers, groups };
}

/** The MiniSearch query tree of a parsed query (terms already processed, joined by spaces). */
export function toMiniSearchQuery(groups: string[][][]): Query {
  const anyOf = (terms: string[]): Query => ({ combineWith: 'OR', queries: [terms.join(' ')] });
  return {
    combineWith: 'OR',
    queries: groups.map((chain) =>
      chain.length === 1
        ? anyOf(chain[0] as string[])
        : { combineWith: 'AND', queries: chain.map(anyOf) },
    ),
  };
}

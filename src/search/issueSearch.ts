import type { Query, SearchOptions } from 'minisearch';
import { z } from 'zod';
import { MAX_QUERY_CHARS, parseQuery, toMiniSearchQuery } from './issueQuery.js';
import { type AmongOptions, KbIndex, type Reach } from './kbIndex.js';
import { IssueStatus, kbDigits, type KnownIssue } from './knownIssue.js';
import { makeSnippet } from './snippet.js';
import { processTerm, termsOf, tokenize } from './terms.js';

// Issue search over the known-issue knowledge base: the index is built once at start (MiniSearch,
// BM25+) and every query is served from memory. The query language is in issueQuery.ts.
//
// Default combination: OR, ranked so that entries holding all the words come first (MiniSearch
// multiplies a score by the number of distinct query words matched). Strict AND, or AND falling
// back to OR, gives one or two results for a pasted sentence or error message and none once the
// user adds a word the entry does not use; suggestions for a growing draft need the soft form.
// Explicit AND / OR are honoured as written.
//
// Ranking: field boosts title 3 > symptoms 2 > resolution 1 (area 1.5, KB number 2, category 1);
// the last word also matches as a prefix (typeahead); a word of 5+ letters that no entry holds
// matches within one typo (two from 10 letters); the user's area (x1.5) and category (x1.2)
// multiply a score, never filter; a status filter keeps only the statuses asked for.
//
// Speed: MiniSearch scores (and sorts) every entry a query word occurs in: tens of milliseconds
// over 50,000 entries for a word in a third of them. When the words occur in more than
// PRUNE.volume places (large knowledge bases only), scoring is limited to PRUNE.candidates
// entries: those holding the rarest words, which decide the top under BM25; when even the rarest
// word is common, those holding it with the most of the next two rarest, then in both title and
// symptoms, then the newest holding it in their title, then elsewhere; for an AND, only entries
// holding a word of each side; the user's area first. Below that, every entry holding a word is
// a candidate. The candidates are ranked with every word of the query by KbIndex.searchAmong(),
// which scores them exactly as MiniSearch would, without walking the postings of the others
// (MiniSearch's own search() serves `exhaustive` only); benchSearch.ts reports how much of the
// exhaustive top 10 the pruning keeps.

const FIELDS = ['title', 'symptoms', 'resolution', 'kbNumber', 'area', 'category'] as const;
const FIELD_BOOST = { title: 3, symptoms: 2, resolution: 1, kbNumber: 2, area: 1.5, category: 1 };
/** Score multipliers for entries in the user's chosen area and category (they multiply). */
export const CONTEXT_BOOST = { area: 1.5, category: 1.2 } as const;
export const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 50;
/** Pruning thresholds (see above); `exhaustive: true` in the options turns pruning off. */
export const PRUNE = { volume: 3000, candidates: 600 } as const;
// Where candidates are looked for first when a word is too common to take every entry holding it.
const FIELD_ORDER = ['title', 'kbNumber', 'symptoms', 'area', 'resolution', 'category'] as const;

// Prefixes for the word being typed: the last one, from 3 letters ("invoi" finds "invoice");
// earlier words are complete, and expanding them ("batch" to every Batch* object name) costs time
// and adds noise. Typos for words of 5+ letters that no entry holds: a word the index holds is
// taken as meant ("stuck" must not match "stock"); numbers (error codes, KB numbers) never.
const PREFIX_MIN = 3;
function typoDistance(term: string): number {
  return /\d/.test(term) || term.length < 5 ? 0 : term.length < 10 ? 1 : 2;
}

// Terms arrive already processed (parseQuery, suggest), so searching must not process them again.
const PREPARED: SearchOptions = { tokenize: (text) => text.split(' '), processTerm: (t) => t };

export interface IssueSearchOptions {
  /** Keep only these statuses (one or several); all when omitted or empty. */
  status?: IssueStatus | readonly IssueStatus[];
  /** The user's chosen category and area: entries in them rank higher. */
  category?: string;
  area?: string;
  /** How many results (default 10, at most 50). */
  limit?: number;
  /** Score every matching entry, however many (for tests and comparisons; slower). */
  exhaustive?: boolean;
}

export interface IssueHit {
  issue: KnownIssue;
  /** Relevance: higher is better; comparable only within one result list. */
  score: number;
  /** About 160 characters of symptoms or resolution around the first match, matches in **bold**. */
  snippet: string;
}

/** The request of a search endpoint (the dialog page, the message extension), validated there. */
export const IssueSearchRequest = z.object({
  q: z.string().max(MAX_QUERY_CHARS).default(''),
  status: z.array(IssueStatus).max(7).optional(),
  category: z.string().max(80).optional(),
  area: z.string().max(80).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional(),
});
export type IssueSearchRequest = z.infer<typeof IssueSearchRequest>;

/** What the incident flow knows so far; every field optional, as the draft grows. */
export const IncidentDraftText = z.object({
  category: z.string().max(80).optional(),
  area: z.string().max(80).optional(),
  title: z.string().max(300).optional(),
  details: z.string().max(8000).optional(),
  errorMessage: z.string().max(4000).optional(),
});
export type IncidentDraftText = z.infer<typeof IncidentDraftText>;

// An error message's variable parts (amounts, record ids, GUIDs, voucher numbers) say nothing
// about which known issue it is; its words and error codes (AADSTS700016, 1205) do.
function isVariable(term: string): boolean {
  const digits = term.replace(/\D/g, '').length;
  if (digits === 0) return false;
  if (digits === term.length) return digits > 5;
  if (/^[0-9a-f]{8,}$/.test(term)) return true;
  return digits >= 4 && term.length - digits <= 4;
}

// Suggestion weights: the error message is the most specific thing a user gives, the title a
// summary, the details the most words and the most noise.
const DRAFT_WEIGHT = { errorMessage: 2.5, title: 1.5, details: 1 } as const;
const MAX_DRAFT_TERMS = { errorMessage: 16, title: 12, details: 24 } as const;
// A long draft is queried with its most telling words only, as Lucene's MoreLikeThis does: the
// ones with the highest weight x rarity. Common words ("fails", "users") add little to the
// ranking of a 30-word description and most of its cost.
const MAX_SUGGEST_TERMS = 16;

interface Ranked {
  issue: KnownIssue;
  score: number;
  matched: ReadonlySet<string>;
}

/** A query term as the pruning sees it: the index terms it reaches and their posting volume. */
interface Reached {
  terms: string[];
  volume: number;
  weight: number;
}

/** The issue search service: build once at start with the loaded knowledge base, then query. */
export class IssueSearch {
  private readonly index: KbIndex;
  /** Entries newest first; an entry's position here is its id in the index. */
  private readonly entries: KnownIssue[];
  private readonly position = new Map<string, number>();
  private readonly byKbMap = new Map<string, KnownIssue>();
  private readonly areaKeys: string[];
  private readonly categoryKeys: string[];

  constructor(
    entries: readonly KnownIssue[],
    private readonly defaultLimit = DEFAULT_LIMIT,
  ) {
    // Newest first, so that when pruning caps the candidates of a common word it keeps the newest.
    this.entries = [...entries].sort((a, b) => b.updated.localeCompare(a.updated));
    this.entries.forEach((e, n) => {
      this.position.set(e.id, n);
      const digits = kbDigits(e.kbNumber);
      if (digits) this.byKbMap.set(digits, e);
    });
    this.areaKeys = this.entries.map((e) => norm(e.area));
    this.categoryKeys = this.entries.map((e) => norm(e.category));
    this.index = new KbIndex({
      idField: 'id',
      fields: [...FIELDS],
      storeFields: [],
      extractField: (doc, field) => {
        if (field === 'id') return this.position.get(doc.id);
        // The KB number is indexed as written ("KB4512345") and as digits: both prefix-match.
        if (field === 'kbNumber') return `${doc.kbNumber} ${doc.kbNumber.slice(2)}`;
        return doc[field as keyof KnownIssue];
      },
      tokenize,
      processTerm,
      searchOptions: { boost: FIELD_BOOST, maxFuzzy: 2 },
    });
    this.index.addAll(this.entries);
  }

  get size(): number {
    return this.entries.length;
  }

  byId(id: string): KnownIssue | undefined {
    const n = this.position.get(id);
    return n === undefined ? undefined : this.entries[n];
  }

  /** The entry with this KB number, written "KB4512345", "4512345" or 4512345. */
  byKb(kbNumber: string | number): KnownIssue | undefined {
    const digits = kbDigits(kbNumber);
    return digits === undefined ? undefined : this.byKbMap.get(digits);
  }

  /**
   * The top results for a query (see issueQuery.ts). An empty query lists the most recently
   * updated entries, so a message extension's first open shows something useful.
   */
  search(query: string, options: IssueSearchOptions = {}): IssueHit[] {
    const parsed = parseQuery(query, (digits) => this.byKbMap.has(digits));
    const pinned = parsed.kbNumbers.map((d) => this.byKbMap.get(d) as KnownIssue);
    if (parsed.groups.length === 0 && pinned.length === 0) return this.newest(options);
    let ranked: Ranked[] = [];
    if (parsed.groups.length) {
      const terms = parsed.groups.flat(2);
      const last = terms[terms.length - 1];
      const reach = this.reachRule(
        (t) => t === last && t.length >= PREFIX_MIN,
        () => true,
      );
      const reached = this.reachAll(terms, reach, () => 1);
      const candidates = options.exhaustive
        ? undefined
        : this.prune(parsed.groups, reached, options);
      ranked = this.run(toMiniSearchQuery(parsed.groups), reachOptions(reach), options, candidates);
    }
    return this.finish(pinned, ranked, options);
  }

  /**
   * Possible solutions for an incident draft: the top results for everything known so far, the
   * error message's distinctive words weighing most, boosted by the draft's category and area.
   */
  suggest(
    draft: IncidentDraftText,
    options: Omit<IssueSearchOptions, 'category' | 'area'> = {},
  ): IssueHit[] {
    const context = { ...options, category: draft.category, area: draft.area };
    const weight = new Map<string, number>();
    const typed = new Set<string>(); // words the user typed (the title) may hold typos
    for (const part of ['errorMessage', 'title', 'details'] as const) {
      const terms = termsOf(draft[part] ?? '').filter((t) => !isVariable(t));
      for (const term of terms.slice(0, MAX_DRAFT_TERMS[part])) {
        weight.set(term, Math.max(weight.get(term) ?? 0, DRAFT_WEIGHT[part]));
        if (part === 'title') typed.add(term);
      }
    }
    const pinned = [draft.title, draft.errorMessage, draft.details]
      .flatMap((text) => parseQuery(text ?? '', (d) => this.byKbMap.has(d)).kbNumbers)
      .map((d) => this.byKbMap.get(d) as KnownIssue);
    if (weight.size === 0 && pinned.length === 0) return this.newest(context);
    let ranked: Ranked[] = [];
    if (weight.size) {
      // Whole words from a description: no prefixes; typo tolerance for the typed title only.
      const reach = this.reachRule(
        () => false,
        (t) => typed.has(t),
      );
      const reached = this.reachAll([...weight.keys()], reach, (t) => weight.get(t) ?? 1);
      const telling = (t: string) => {
        const r = reached.get(t) as Reached;
        return r.volume === 0 ? -1 : r.weight * Math.log(1 + this.entries.length / r.volume);
      };
      const terms = [...weight.keys()]
        .filter((t) => (reached.get(t) as Reached).volume > 0)
        .sort((a, b) => telling(b) - telling(a))
        .slice(0, MAX_SUGGEST_TERMS);
      const candidates = options.exhaustive ? undefined : this.prune([[terms]], reached, context);
      const scoring = { ...reachOptions(reach), boostTerm: (t: string) => weight.get(t) ?? 1 };
      if (terms.length) ranked = this.run(terms.join(' '), scoring, context, candidates);
    }
    return this.finish([...new Set(pinned)], ranked, context);
  }

  /** How each query term reaches index terms: the one rule the pruning and MiniSearch share. */
  private reachRule(
    prefix: (term: string) => boolean,
    typos: (term: string) => boolean,
  ): (term: string) => Reach {
    return (term) => ({
      prefix: prefix(term),
      fuzzy: typos(term) && !this.index.holds(term) ? typoDistance(term) : 0,
    });
  }

  private reachAll(
    terms: readonly string[],
    how: (term: string) => Reach,
    weight: (term: string) => number,
  ): Map<string, Reached> {
    const out = new Map<string, Reached>();
    for (const term of terms) {
      if (out.has(term)) continue;
      const reached = this.index.reach(term, how(term));
      out.set(term, { terms: reached, volume: this.index.volume(reached), weight: weight(term) });
    }
    return out;
  }

  /** The entries worth scoring: every one matching when they are few (see "Speed" above). */
  private prune(
    groups: string[][][],
    reached: ReadonlyMap<string, Reached>,
    options: IssueSearchOptions,
  ): Set<number> {
    const statuses = statusSet(options.status);
    const accept = statuses
      ? (n: number) => statuses.has((this.entries[n] as KnownIssue).status)
      : () => true;
    const get = (t: string) => reached.get(t) as Reached;
    let total = 0;
    for (const r of reached.values()) total += r.volume;
    if (total <= PRUNE.volume) {
      const every = new Set<number>();
      const terms = groups.flat(2).flatMap((t) => get(t).terms);
      this.index.collect(terms, FIELDS, Infinity, accept, every);
      return every;
    }

    const inContext = this.contextTest(options);
    const preferred = inContext ? (n: number) => accept(n) && inContext(n) : undefined;
    const volume = (terms: readonly string[]) => terms.reduce((v, t) => v + get(t).volume, 0);
    const candidates = new Set<number>();
    const perBranch = Math.ceil(PRUNE.candidates / groups.length);

    for (const chain of groups) {
      const cap = candidates.size + perBranch;
      // Every entry an AND chain matches holds a word of each soft group: candidates are drawn
      // from its most selective group and must hold a word of each of the others.
      const soft = chain.reduce((a, b) => (volume(b) < volume(a) ? b : a));
      const others = chain
        .filter((g) => g !== soft)
        .map((g) => this.index.holders(g.flatMap((t) => get(t).terms)));
      const eligible = (n: number) => accept(n) && others.every((held) => held[n] === 1);
      const favoured = preferred ? (n: number) => eligible(n) && preferred(n) : undefined;
      // Its rarest words (for their weight), as many as fit the budget, at least one.
      const byRarity = soft
        .filter((t) => get(t).volume > 0)
        .sort((a, b) => get(a).volume / get(a).weight - get(b).volume / get(b).weight);
      const chosen: string[] = [];
      let used = 0;
      for (const term of byRarity) {
        if (chosen.length && used + get(term).volume > perBranch) break;
        chosen.push(...get(term).terms);
        used += get(term).volume;
      }
      const take = (terms: string[], test: (n: number) => boolean) => {
        if (favoured)
          this.index.collect(terms, FIELD_ORDER, cap, (n) => test(n) && favoured(n), candidates);
        this.index.collect(terms, FIELD_ORDER, cap, (n) => test(n) && eligible(n), candidates);
      };
      // Even the rarest word is common: first the entries holding it (as typed, before its
      // extensions) with the most of the next two rarest words, then those holding it in both
      // title and symptoms: BM25 and MiniSearch's match-count factor rank those highest.
      const [rarest, ...next] = byRarity;
      if (used > perBranch && rarest) {
        const word = get(rarest).terms[0] === rarest ? [rarest] : get(rarest).terms;
        const held = next.slice(0, 2).map((t) => this.index.holders(get(t).terms));
        const count = (n: number) => held.reduce((k, h) => k + (h[n] as number), 0);
        for (let k = held.length; k >= 1; k--) take(word, (n) => count(n) >= k);
        const inSymptoms = this.index.holders(word, ['symptoms']);
        take(word, (n) => inSymptoms[n] === 1);
        take(word, () => true);
      }
      take(chosen, () => true);
    }
    return candidates;
  }

  /** True for entries in the options' area (or category when no area is given). */
  private contextTest(options: IssueSearchOptions): ((n: number) => boolean) | undefined {
    const area = norm(options.area);
    const category = norm(options.category);
    if (area) return (n) => this.areaKeys[n] === area;
    if (category) return (n) => this.categoryKeys[n] === category;
    return undefined;
  }

  private run(
    query: Query,
    scoring: AmongOptions,
    options: IssueSearchOptions,
    candidates: ReadonlySet<number> | undefined,
  ): Ranked[] {
    const statuses = statusSet(options.status);
    const area = norm(options.area);
    const category = norm(options.category);
    const boostDocument =
      area || category
        ? (n: number) =>
            (area && this.areaKeys[n] === area ? CONTEXT_BOOST.area : 1) *
            (category && this.categoryKeys[n] === category ? CONTEXT_BOOST.category : 1)
        : undefined;
    const limit = clampLimit(options.limit, this.defaultLimit);
    // The candidates hold the statuses asked for already (prune). Room for pinned KB entries
    // that also matched the words (finish() drops the duplicates).
    const results = candidates
      ? this.index.searchAmong(candidates, query, { ...scoring, boostDocument }, limit * 2)
      : this.index.search(query, {
          ...PREPARED,
          ...scoring,
          boostDocument,
          filter: statuses
            ? (r) => statuses.has((this.entries[r.id as number] as KnownIssue).status)
            : undefined,
        });
    return results.slice(0, limit * 2).map((r) => ({
      issue: this.entries[r.id as number] as KnownIssue,
      score: r.score,
      matched: new Set(r.terms),
    }));
  }

  private finish(pinned: KnownIssue[], ranked: Ranked[], options: IssueSearchOptions): IssueHit[] {
    const statuses = statusSet(options.status);
    const limit = clampLimit(options.limit, this.defaultLimit);
    const top = ranked[0]?.score ?? 1;
    const first = pinned
      .filter((e) => !statuses || statuses.has(e.status))
      .map((issue): Ranked => {
        const hit = ranked.find((r) => r.issue === issue);
        return { issue, score: top + 1, matched: hit?.matched ?? new Set() };
      });
    const rest = ranked.filter((r) => !first.some((f) => f.issue === r.issue));
    return [...first, ...rest].slice(0, limit).map(({ issue, score, matched }) => ({
      issue,
      score: round(score),
      snippet: makeSnippet([issue.symptoms, issue.resolution], matched),
    }));
  }

  private newest(options: IssueSearchOptions): IssueHit[] {
    const statuses = statusSet(options.status);
    const limit = clampLimit(options.limit, this.defaultLimit);
    const inContext = this.contextTest(options);
    const out: IssueHit[] = [];
    const taken = new Set<number>();
    // Within the user's area (or category) first, then everything.
    for (const inScope of inContext ? [inContext, () => true] : [() => true]) {
      for (let n = 0; n < this.entries.length && out.length < limit; n++) {
        const e = this.entries[n] as KnownIssue;
        if (taken.has(n) || (statuses && !statuses.has(e.status)) || !inScope(n)) continue;
        taken.add(n);
        out.push({ issue: e, score: 0, snippet: makeSnippet([e.symptoms], new Set()) });
      }
    }
    return out;
  }
}

/** Builds the search index once, at start. */
export function buildIssueSearch(
  entries: readonly KnownIssue[],
  options: { limit?: number } = {},
): IssueSearch {
  return new IssueSearch(entries, clampLimit(options.limit, DEFAULT_LIMIT));
}

function reachOptions(reach: (term: string) => Reach): AmongOptions {
  return { prefix: (t) => reach(t).prefix, fuzzy: (t) => reach(t).fuzzy };
}

function statusSet(status: IssueSearchOptions['status']): ReadonlySet<IssueStatus> | undefined {
  if (status === undefined) return undefined;
  const list = typeof status === 'string' ? [status] : status;
  return list.length ? new Set(list) : undefined;
}

function norm(text: string | undefined): string {
  return (text ?? '').trim().toLowerCase();
}

function clampLimit(limit: number | undefined, fallback: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.min(MAX_LIMIT, Math.max(1, Math.floor(limit)));
}

function round(score: number): number {
  return Math.round(score * 1000) / 1000;
}

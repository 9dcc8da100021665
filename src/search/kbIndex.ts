import MiniSearch, { type BM25Params, type Options, type Query } from 'minisearch';
import type { KnownIssue } from './knownIssue.js';

// MiniSearch, plus read access to its postings (the protected `_index`, which MiniSearch opens to
// subclasses) so that a query can be pruned before it is scored: MiniSearch scores every entry a
// word occurs in and sorts them all, which over 50,000 entries costs tens of milliseconds for a
// word found in a third of them. This class answers "how many entries hold these words" and
// "which ones", cheaply, and scores the candidates a query keeps (searchAmong). Document ids are
// the entries' positions (numbers).
//
// searchAmong() is MiniSearch's search() restricted to the candidates: the same scores, matched
// terms and order (a test holds it to MiniSearch's own results). MiniSearch itself walks the
// whole posting list of every query word, even when a zero document boost skips all but the
// candidates, and spends about half a microsecond on each (entry, word, field) it scores, in Map
// lookups and small objects: for a pasted sentence or a draft, 600 candidates x 16 words makes
// 14,000 of those, most of the query's time. searchAmong() looks the candidates up in a posting
// list much longer than their list, and keeps scores and matched terms in typed arrays by
// candidate. It assumes an index whose entries were added and never discarded (Issue search
// builds it once): MiniSearch drops a discarded entry's postings lazily, mid-search.

/** MiniSearch's postings of one index term: field id to (short document id to term frequency). */
type FieldTermData = Map<number, Map<number, number>>;

/** How a query term reaches index terms: exactly, by prefix, within an edit distance. */
export interface Reach {
  prefix: boolean;
  /** Maximum edit distance; 0 for none. */
  fuzzy: number;
}

/** searchAmong()'s options: MiniSearch's search options of the same names, as functions. */
export interface AmongOptions {
  prefix?: (term: string) => boolean;
  fuzzy?: (term: string) => number;
  boostTerm?: (term: string) => number;
  /** A score multiplier per entry (position), called once per candidate; 0 leaves it out. */
  boostDocument?: (n: number) => number;
}

/** A scored entry, with the fields of MiniSearch's SearchResult that Issue search reads. */
export interface Scored {
  /** The entry's position. */
  id: number;
  /** MiniSearch's score: the BM25+ sum times the number of query terms matched. */
  score: number;
  /** The index terms it matched (MiniSearch's `terms`, the keys of `match`), in no set order. */
  terms: string[];
}

// A posting list at most this many times longer than the candidate list is walked (a Map's
// entries lie in one table, so a walk is a few nanoseconds an entry); a longer one is looked up
// candidate by candidate (a lookup in a large Map costs a cache miss, tens of nanoseconds).
const WALK_RATIO = 8;

/**
 * Matches over the candidates, by slot: what MiniSearch keeps in a Map by document (score, query
 * terms, index terms matched), in typed arrays. `order` is that Map's insertion order, which
 * decides the order of equal scores. Query terms are bits (`words` 32-bit words a slot): `held`
 * those matched at all, `exact` those matched as themselves; `extra` lists the other index terms
 * (prefix and typo extensions).
 */
class Matches {
  readonly order: number[] = [];
  readonly present: Uint8Array;
  readonly score: Float64Array;
  readonly held: Uint32Array;
  readonly exact: Uint32Array;
  readonly extra: (string[] | undefined)[] = [];

  constructor(
    size: number,
    readonly words: number,
  ) {
    this.present = new Uint8Array(size);
    this.score = new Float64Array(size);
    this.held = new Uint32Array(size * words);
    this.exact = new Uint32Array(size * words);
  }

  /** MiniSearch's OR combinator: `b` is added into this. */
  or(b: Matches): Matches {
    for (const slot of b.order) {
      if (!this.present[slot]) {
        this.present[slot] = 1;
        this.order.push(slot);
        this.score[slot] = b.score[slot] as number;
      } else {
        this.score[slot] = (this.score[slot] as number) + (b.score[slot] as number);
      }
      this.merge(slot, b, slot);
    }
    return this;
  }

  /** MiniSearch's AND combinator: the entries of `b` also in this, in the order of `b`. */
  and(b: Matches): Matches {
    const out = new Matches(this.present.length, this.words);
    for (const slot of b.order) {
      if (!this.present[slot]) continue;
      out.present[slot] = 1;
      out.order.push(slot);
      out.score[slot] = (this.score[slot] as number) + (b.score[slot] as number);
      out.merge(slot, this, slot);
      out.merge(slot, b, slot);
    }
    return out;
  }

  /** Adds another's query terms and index terms of a slot to this one's. */
  private merge(slot: number, from: Matches, at: number): void {
    for (let w = 0; w < this.words; w++) {
      const i = slot * this.words + w;
      const j = at * from.words + w;
      this.held[i] = (this.held[i] as number) | (from.held[j] as number);
      this.exact[i] = (this.exact[i] as number) | (from.exact[j] as number);
    }
    const extra = from.extra[at];
    if (extra) for (const term of extra) this.addExtra(slot, term);
  }

  addExtra(slot: number, term: string): void {
    const list = this.extra[slot];
    if (!list) this.extra[slot] = [term];
    else if (!list.includes(term)) list.push(term);
  }

  /** How many query terms a slot matched. */
  count(slot: number): number {
    let n = 0;
    for (let w = 0; w < this.words; w++) {
      let bits = this.held[slot * this.words + w] as number;
      for (; bits; n++) bits &= bits - 1;
    }
    return n;
  }

  /** The index terms a slot matched: the query terms matched as themselves, then the others. */
  terms(slot: number, queryTerms: readonly string[]): string[] {
    const out: string[] = [];
    queryTerms.forEach((term, k) => {
      const word = this.exact[slot * this.words + (k >>> 5)] as number;
      if (word & (1 << (k & 31))) out.push(term);
    });
    for (const term of this.extra[slot] ?? []) if (!out.includes(term)) out.push(term);
    return out;
  }
}

/** One searchAmong() call: its candidates by slot (ascending short id, as postings are). */
interface Scope {
  shortIds: number[];
  /** Field lengths (MiniSearch's `_fieldLength`), `fieldCount` a short id, by field id. */
  lengths: Uint32Array;
  fieldCount: number;
  boost: Float64Array;
  /** The fields in MiniSearch's order, with their boosts. */
  fields: { id: number; boost: number }[];
  /** The query's distinct terms, each one's bit its position here. */
  queryTerms: string[];
  words: number;
  options: AmongOptions;
}

/** KbIndex.flat(): by short id, the entry's position and field lengths; by position, short id. */
interface Flat {
  nextId: number;
  count: number;
  positionOf: Int32Array;
  shortIdOf: Int32Array;
  /** `fields.length` lengths a short id, by field id. */
  lengths: Uint32Array;
}

/** MiniSearch's BM25+ term score, computed exactly as MiniSearch computes it. */
function bm25(
  termFreq: number,
  matchingCount: number,
  totalCount: number,
  fieldLength: number,
  avgFieldLength: number,
  { k, b, d }: BM25Params,
): number {
  const invDocFreq = Math.log(1 + (totalCount - matchingCount + 0.5) / (matchingCount + 0.5));
  return (
    invDocFreq *
    (d + (termFreq * (k + 1)) / (termFreq + k * (1 - b + (b * fieldLength) / avgFieldLength)))
  );
}

/**
 * The positions of the `limit` highest scores, highest first, equal ones in their order: what a
 * stable sort of all of them would put first (as MiniSearch's does), without sorting them all.
 */
function best(scores: Float64Array, limit: number): number[] {
  const n = scores.length;
  const threshold = n > limit ? (Float64Array.from(scores).sort()[n - limit] as number) : -Infinity;
  let ties = limit;
  for (const score of scores) if (score > threshold) ties--;
  const picked: number[] = [];
  scores.forEach((score, i) => {
    if (score > threshold || (score === threshold && ties-- > 0)) picked.push(i);
  });
  return picked.sort((a, b) => (scores[b] as number) - (scores[a] as number));
}

/** The terms of a query's leaves (index terms joined by spaces), each once, in order. */
function leafTerms(query: Query, into: Set<string>): Set<string> {
  if (typeof query === 'string') {
    for (const term of query.split(' ')) if (term) into.add(term);
  } else if (typeof query === 'object') {
    for (const q of query.queries) leafTerms(q, into);
  }
  return into;
}

export class KbIndex extends MiniSearch<KnownIssue> {
  constructor(options: Options<KnownIssue>) {
    super(options);
  }

  /** MiniSearch's addAll, then the typed copies searchAmong() reads (so no query waits for them). */
  override addAll(documents: readonly KnownIssue[]): void {
    super.addAll(documents);
    this.flat();
  }

  /**
   * MiniSearch's search(query, options) over these entries (positions) only, with the index's
   * own search options (field boosts, BM25 and prefix / fuzzy weights): the same scores and the
   * same order as MiniSearch gives them, the first `limit` of them. The query's leaves are index
   * terms joined by spaces.
   */
  searchAmong(
    candidates: Iterable<number>,
    query: Query,
    options: AmongOptions = {},
    limit = Infinity,
  ): Scored[] {
    if (typeof query === 'symbol') throw new Error('searchAmong does not take the wildcard');
    const { boost, combineWith } = this._options.searchOptions;
    const flat = this.flat();
    const fieldCount = this._options.fields.length;
    const shortIds = Int32Array.from(candidates, (n) => flat.shortIdOf[n] as number).sort();
    const kept: number[] = [];
    const boosts: number[] = [];
    for (const shortId of shortIds) {
      const b = options.boostDocument
        ? options.boostDocument(flat.positionOf[shortId] as number)
        : 1;
      if (!b) continue; // MiniSearch skips an entry whose boost is 0
      kept.push(shortId);
      boosts.push(b);
    }
    const queryTerms = [...leafTerms(query, new Set())];
    const scope: Scope = {
      shortIds: kept,
      lengths: flat.lengths,
      fieldCount,
      boost: Float64Array.from(boosts),
      fields: this._options.fields.map((f) => ({
        id: this._fieldIds[f] as number,
        boost: boost[f] || 1,
      })),
      queryTerms,
      words: Math.max(1, Math.ceil(queryTerms.length / 32)),
      options,
    };
    const slotOf = this.slots(kept);
    try {
      const matches = this.matchQuery(query, combineWith, scope, slotOf);
      const { order } = matches;
      const scores = Float64Array.from(
        order,
        (slot) => (matches.score[slot] as number) * (matches.count(slot) || 1),
      );
      return best(scores, limit).map((i) => {
        const slot = order[i] as number;
        return {
          id: flat.positionOf[kept[slot] as number] as number,
          score: scores[i] as number,
          terms: matches.terms(slot, queryTerms),
        };
      });
    } finally {
      for (const shortId of kept) slotOf[shortId] = -1;
    }
  }

  private flatMaps: Flat | undefined;

  /**
   * MiniSearch's per-document Maps as typed arrays (rebuilt when documents change): a lookup in
   * a Map of 50,000 is a cache miss, and a query makes thousands.
   */
  private flat(): Flat {
    const known = this.flatMaps;
    if (known && known.nextId === this._nextId && known.count === this._documentCount) return known;
    const fieldCount = this._options.fields.length;
    let maxId = -1;
    for (const id of this._documentIds.values()) maxId = Math.max(maxId, id as number);
    const flat: Flat = {
      nextId: this._nextId,
      count: this._documentCount,
      positionOf: new Int32Array(this._nextId).fill(-1),
      shortIdOf: new Int32Array(maxId + 1).fill(-1),
      lengths: new Uint32Array(this._nextId * fieldCount),
    };
    for (const [shortId, id] of this._documentIds) {
      flat.positionOf[shortId] = id as number;
      flat.shortIdOf[id as number] = shortId;
      const byField = this._fieldLength.get(shortId) ?? [];
      for (let f = 0; f < fieldCount; f++) flat.lengths[shortId * fieldCount + f] = byField[f] ?? 0;
    }
    this.flatMaps = flat;
    return flat;
  }

  /** Slot by short id (-1: not a candidate), reused across calls and cleared after each. */
  private slotOf = new Int32Array(0);

  private slots(shortIds: readonly number[]): Int32Array {
    if (this.slotOf.length < this._nextId) this.slotOf = new Int32Array(this._nextId).fill(-1);
    shortIds.forEach((shortId, slot) => (this.slotOf[shortId] = slot));
    return this.slotOf;
  }

  /** MiniSearch's executeQuery: a leaf's terms are joined with its parent's operator. */
  private matchQuery(query: Query, combineWith: string, scope: Scope, slotOf: Int32Array): Matches {
    if (typeof query === 'symbol') throw new Error('searchAmong does not take the wildcard');
    const op = (
      typeof query === 'string' ? combineWith : (query.combineWith ?? combineWith)
    ).toLowerCase();
    if (op !== 'or' && op !== 'and') throw new Error(`searchAmong does not combine with ${op}`);
    const parts =
      typeof query === 'string'
        ? query
            .split(' ')
            .filter(Boolean)
            .map((term) => this.matchTerm(term, scope, slotOf))
        : query.queries.map((q) => this.matchQuery(q, op, scope, slotOf));
    const [first, ...rest] = parts;
    if (!first) return new Matches(scope.shortIds.length, scope.words);
    return rest.reduce((a, b) => (op === 'or' ? a.or(b) : a.and(b)), first);
  }

  /** MiniSearch's executeQuerySpec: the term itself, then its prefix and fuzzy extensions. */
  private matchTerm(term: string, scope: Scope, slotOf: Int32Array): Matches {
    const { options } = scope;
    const weights = this._options.searchOptions.weights;
    const termBoost = options.boostTerm ? options.boostTerm(term) : 1;
    const out = new Matches(scope.shortIds.length, scope.words);
    const bit = scope.queryTerms.indexOf(term);
    const match = (derived: string, data: FieldTermData | undefined, weight: number) =>
      data &&
      this.matchDerived(
        bit,
        term === derived ? undefined : derived,
        data,
        weight * termBoost,
        scope,
        slotOf,
        out,
      );
    match(term, this._index.get(term), 1);
    const prefixes = options.prefix?.(term) ? this._index.atPrefix(term) : undefined;
    const distance = options.fuzzy?.(term) ?? 0;
    const fuzzy = distance ? this._index.fuzzyGet(term, distance) : undefined;
    if (prefixes) {
      for (const [derived, data] of prefixes) {
        const extra = derived.length - term.length;
        if (!extra) continue;
        fuzzy?.delete(derived); // scored as a prefix, as MiniSearch does
        match(derived, data, (weights.prefix * derived.length) / (derived.length + 0.3 * extra));
      }
    }
    if (fuzzy) {
      for (const [derived, [data, edits]] of fuzzy) {
        if (!edits) continue;
        match(derived, data, (weights.fuzzy * derived.length) / (derived.length + edits));
      }
    }
    return out;
  }

  /**
   * MiniSearch's termResults over the candidates: query term number `bit` matched as itself, or
   * as the index term `extra`; `weight` is MiniSearch's term weight times the term boost.
   */
  private matchDerived(
    bit: number,
    extra: string | undefined,
    byField: FieldTermData,
    weight: number,
    scope: Scope,
    slotOf: Int32Array,
    out: Matches,
  ): void {
    const bm25Params = this._options.searchOptions.bm25;
    const { shortIds, lengths, fieldCount, boost, words } = scope;
    const count = shortIds.length;
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    for (const field of scope.fields) {
      const docs = byField.get(field.id);
      if (!docs) continue;
      const avgLength = this._avgFieldLength[field.id] as number;
      const hit = (slot: number, shortId: number, freq: number) => {
        const length = lengths[shortId * fieldCount + field.id] as number;
        const raw = bm25(freq, docs.size, this._documentCount, length, avgLength, bm25Params);
        const score = weight * field.boost * (boost[slot] as number) * raw;
        if (!out.present[slot]) {
          out.present[slot] = 1;
          out.order.push(slot);
          out.score[slot] = score;
        } else {
          out.score[slot] = (out.score[slot] as number) + score;
        }
        const i = slot * words + word;
        out.held[i] = (out.held[i] as number) | mask;
        if (extra === undefined) out.exact[i] = (out.exact[i] as number) | mask;
        else out.addExtra(slot, extra);
      };
      // Both run in ascending short id order (see WALK_RATIO).
      if (docs.size <= count * WALK_RATIO) {
        // forEach: iterating entries() makes an array of every entry, tens of thousands a query.
        docs.forEach((freq, shortId) => {
          const slot = slotOf[shortId] as number;
          if (slot >= 0) hit(slot, shortId, freq);
        });
      } else {
        for (let slot = 0; slot < count; slot++) {
          const shortId = shortIds[slot] as number;
          const freq = docs.get(shortId);
          if (freq !== undefined) hit(slot, shortId, freq);
        }
      }
    }
  }

  /** True when some entry holds this index term. */
  holds(term: string): boolean {
    return this._index.has(term);
  }

  /** The index terms a query term matches, as MiniSearch will match them with these settings. */
  reach(term: string, how: Reach): string[] {
    const found = new Set<string>();
    if (this._index.has(term)) found.add(term); // the word itself first, then its extensions
    if (how.prefix) for (const t of this._index.atPrefix(term).keys()) found.add(t);
    if (how.fuzzy > 0) for (const t of this._index.fuzzyGet(term, how.fuzzy).keys()) found.add(t);
    return [...found];
  }

  /** (entry, field) postings of these index terms: an upper bound on the entries holding them. */
  volume(terms: readonly string[]): number {
    let n = 0;
    for (const term of terms) {
      const fields = this._index.get(term);
      if (fields) for (const docs of fields.values()) n += docs.size;
    }
    return n;
  }

  /**
   * Which entries hold any of these index terms, in the given fields (default all): a byte per
   * entry position, 1 when it does (a typed array: far cheaper than a Set for thousands).
   */
  holders(terms: readonly string[], fields?: readonly string[]): Uint8Array {
    const only = fields && new Set(fields.map((f) => this._fieldIds[f]));
    const { positionOf } = this.flat();
    const out = new Uint8Array(this.documentCount);
    for (const term of terms) {
      const byField = this._index.get(term);
      if (!byField) continue;
      for (const [fieldId, docs] of byField) {
        if (only && !only.has(fieldId)) continue;
        for (const shortId of docs.keys()) out[positionOf[shortId] as number] = 1;
      }
    }
    return out;
  }

  /**
   * Adds to `into` the entries holding any of these index terms, field by field in the order
   * given and in index order within a field, until `into` holds `cap` entries.
   */
  collect(
    terms: readonly string[],
    fields: readonly string[],
    cap: number,
    accept: (n: number) => boolean,
    into: Set<number>,
  ): void {
    const { positionOf } = this.flat();
    for (const field of fields) {
      const fieldId = this._fieldIds[field];
      if (fieldId === undefined) continue;
      for (const term of terms) {
        const docs = this._index.get(term)?.get(fieldId);
        if (!docs) continue;
        for (const shortId of docs.keys()) {
          if (into.size >= cap) return;
          const n = positionOf[shortId] as number;
          if (!into.has(n) && accept(n)) into.add(n);
        }
      }
    }
  }
}

import MiniSearch, { type Options } from 'minisearch';
import type { KnownIssue } from './knownIssue.js';

// MiniSearch, plus read access to its postings (the protected `_index`, which MiniSearch opens to
// subclasses) so that a query can be pruned before it is scored: MiniSearch scores every entry a
// word occurs in and sorts them all, which over 50,000 entries costs tens of milliseconds for a
// word found in a third of them. Ranking stays MiniSearch's; this class only answers "how many
// entries hold these words" and "which ones", cheaply. Document ids are the entries' positions
// (numbers), so that per-entry weights can live in a typed array.

/** How a query term reaches index terms: exactly, by prefix, within an edit distance. */
export interface Reach {
  prefix: boolean;
  /** Maximum edit distance; 0 for none. */
  fuzzy: number;
}

export class KbIndex extends MiniSearch<KnownIssue> {
  constructor(options: Options<KnownIssue>) {
    super(options);
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
    const out = new Uint8Array(this.documentCount);
    for (const term of terms) {
      const byField = this._index.get(term);
      if (!byField) continue;
      for (const [fieldId, docs] of byField) {
        if (only && !only.has(fieldId)) continue;
        for (const shortId of docs.keys()) out[this._documentIds.get(shortId) as number] = 1;
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
    for (const field of fields) {
      const fieldId = this._fieldIds[field];
      if (fieldId === undefined) continue;
      for (const term of terms) {
        const docs = this._index.get(term)?.get(fieldId);
        if (!docs) continue;
        for (const shortId of docs.keys()) {
          if (into.size >= cap) return;
          const n = this._documentIds.get(shortId) as number;
          if (!into.has(n) && accept(n)) into.add(n);
        }
      }
    }
  }
}

import { expect } from 'chai';
import type { Query } from 'minisearch';
import { parseQuery, toMiniSearchQuery } from '../../src/search/issueQuery.js';
import { type AmongOptions, KbIndex } from '../../src/search/kbIndex.js';
import type { KnownIssue } from '../../src/search/knownIssue.js';
import { seededRandom } from '../../src/seededRandom.js';
import { syntheticKb } from '../../src/search/syntheticKb.js';
import { processTerm, tokenize } from '../../src/search/terms.js';

// searchAmong() must rank exactly as MiniSearch's own search() does when every entry but the
// candidates gets a zero boost: same entries, same order, bit-identical scores, same terms.

const FIELDS = ['title', 'symptoms', 'resolution', 'kbNumber', 'area', 'category'];
const PREPARED = { tokenize: (text: string) => text.split(' '), processTerm: (t: string) => t };

function buildIndex(entries: readonly KnownIssue[]): KbIndex {
  const position = new Map(entries.map((e, n) => [e.id, n]));
  return new KbIndex({
    idField: 'id',
    fields: FIELDS,
    storeFields: [],
    extractField: (doc, field) =>
      field === 'id' ? position.get(doc.id) : doc[field as keyof KnownIssue],
    tokenize,
    processTerm,
    searchOptions: { boost: { title: 3, symptoms: 2, kbNumber: 2, area: 1.5 }, maxFuzzy: 2 },
  });
}

/** What MiniSearch's search() gives for the candidates alone. */
function reference(
  index: KbIndex,
  candidates: ReadonlySet<number>,
  query: Query,
  options: AmongOptions,
) {
  return index
    .search(query, {
      ...PREPARED,
      prefix: options.prefix,
      fuzzy: options.fuzzy,
      boostTerm: options.boostTerm,
      boostDocument: (n: number) =>
        candidates.has(n) ? (options.boostDocument ? options.boostDocument(n) : 1) : 0,
    })
    .map((r) => ({ id: r.id as number, score: r.score, terms: [...r.terms].sort() }));
}

function among(
  index: KbIndex,
  candidates: ReadonlySet<number>,
  query: Query,
  options: AmongOptions,
  limit?: number,
) {
  return index
    .searchAmong(candidates, query, options, limit)
    .map((r) => ({ id: r.id, score: r.score, terms: [...r.terms].sort() }));
}

const queryOf = (text: string) => toMiniSearchQuery(parseQuery(text).groups);

describe('kbIndex', () => {
  const entries = syntheticKb(3000, { seed: 5 });
  let index: KbIndex;
  before(() => {
    index = buildIndex(entries);
    index.addAll(entries);
  });

  const random = seededRandom(11);
  const everyone = new Set(entries.map((_, n) => n));
  const some = new Set(entries.map((_, n) => n).filter(() => random() < 0.2));
  const pasted = (entries[17] as KnownIssue).symptoms.slice(0, 400);
  const cases: { name: string; query: Query; options: AmongOptions }[] = [
    { name: 'a few words', query: queryOf('batch job stuck executing'), options: {} },
    { name: 'a pasted text (one long soft group)', query: queryOf(pasted), options: {} },
    {
      name: 'AND / OR',
      query: queryOf('stuck batch AND workflow OR posting invoice AND vendor'),
      options: {},
    },
    {
      name: 'the last word as a prefix',
      query: queryOf('vendor invoi'),
      options: { prefix: (t) => t === 'invoi' },
    },
    {
      name: 'a typo within one or two edits',
      query: queryOf('wokflow aproval reconcilation'),
      options: { fuzzy: (t) => (t === 'reconcilation' ? 2 : 1) },
    },
    {
      name: 'a word that is both prefix and typo',
      query: queryOf('postin journa'),
      options: { prefix: () => true, fuzzy: () => 1 },
    },
    {
      name: 'term and document boosts',
      query: 'posting journal voucher balanc',
      options: {
        boostTerm: (t) => (t === 'voucher' ? 2.5 : 1),
        boostDocument: (n) => (n % 3 === 0 ? 1.5 : n % 7 === 0 ? 0 : 1),
      },
    },
  ];
  for (const { name, query, options } of cases) {
    it(`scores as MiniSearch does: ${name}`, () => {
      for (const candidates of [everyone, some]) {
        const expected = reference(index, candidates, query, options);
        expect(expected.length).to.be.greaterThan(0);
        expect(among(index, candidates, query, options)).to.deep.equal(expected);
      }
    });
  }

  it('keeps the best `limit`, equal scores in MiniSearch’s order', () => {
    // Recombined entries share sentences, so equal scores are common: the cut falls among them.
    const query = queryOf('batch job stuck executing');
    const expected = reference(index, everyone, query, {});
    const cut = expected.findIndex((r, i) => i > 0 && r.score === expected[i - 1]?.score);
    expect(cut).to.be.greaterThan(0);
    for (const limit of [1, cut, cut + 1, 50])
      expect(among(index, everyone, query, {}, limit)).to.deep.equal(expected.slice(0, limit));
  });

  it('scores only the candidates', () => {
    const few = new Set([...some].slice(0, 40));
    const hits = index.searchAmong(few, queryOf('posting journal workflow batch'));
    expect(hits.length).to.be.greaterThan(0);
    expect(hits.every((h) => few.has(h.id))).to.equal(true);
  });

  it('stays exact after more entries are added', () => {
    const growing = buildIndex(entries);
    growing.addAll(entries.slice(0, 1000));
    const query = queryOf('batch job stuck executing');
    const first = new Set([...some].filter((n) => n < 1000));
    expect(among(growing, first, query, {})).to.deep.equal(reference(growing, first, query, {}));
    growing.addAll(entries.slice(1000));
    expect(among(growing, some, query, {})).to.deep.equal(reference(growing, some, query, {}));
  });
});

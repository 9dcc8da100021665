import { expect } from 'chai';
import { parseQuery, toMiniSearchQuery } from '../../src/search/issueQuery.js';

describe('issueQuery', () => {
  const rows = [
    { q: 'batch job stuck', kb: [], groups: [[['batch', 'job', 'stuck']]] },
    { q: 'batch AND workflow', kb: [], groups: [[['batch'], ['workflow']]] },
    { q: 'posting OR invoice', kb: [], groups: [[['post']], [['invoic']]] },
    { q: 'stuck batch AND workflow', kb: [], groups: [[['stuck', 'batch'], ['workflow']]] },
    {
      q: 'synapse OR batch AND workflow',
      kb: [],
      groups: [[['synaps']], [['batch'], ['workflow']]],
    },
    { q: 'batch and workflow or posting', kb: [], groups: [[['batch', 'workflow', 'post']]] },
    { q: 'AND batch OR', kb: [], groups: [[['batch']]] },
    { q: 'the AND batch', kb: [], groups: [[['batch']]] },
    { q: 'KB4512345', kb: ['4512345'], groups: [] },
    { q: 'kb 4512345 posting', kb: ['4512345'], groups: [[['post']]] },
    { q: '"KB#4512345", 4512346', kb: ['4512345', '4512346'], groups: [] },
    { q: 'dual-write', kb: [], groups: [[['dual', 'writ']]] },
    { q: 'Posting posted posts', kb: [], groups: [[['post']]] },
  ];
  for (const row of rows) {
    it(`parses ${JSON.stringify(row.q)}`, () => {
      expect(parseQuery(row.q)).to.deep.equal({ kbNumbers: row.kb, groups: row.groups });
    });
  }

  it('keeps a number as a word when no such KB exists', () => {
    expect(parseQuery('7123456 deadlock', () => false)).to.deep.equal({
      kbNumbers: [],
      groups: [[['7123456', 'deadlock']]],
    });
  });

  it('bounds the number of words', () => {
    const long = Array.from({ length: 100 }, (_, i) => `word${i}x`).join(' ');
    expect(parseQuery(long).groups.flat(2)).to.have.length(40);
  });

  it('builds the MiniSearch query tree', () => {
    expect(toMiniSearchQuery([[['stuck', 'batch'], ['workflow']], [['synaps']]])).to.deep.equal({
      combineWith: 'OR',
      queries: [
        {
          combineWith: 'AND',
          queries: [
            { combineWith: 'OR', queries: ['stuck batch'] },
            { combineWith: 'OR', queries: ['workflow'] },
          ],
        },
        { combineWith: 'OR', queries: ['synaps'] },
      ],
    });
  });
});

import { expect } from 'chai';
import { makeSnippet } from '../../src/search/snippet.js';
import { processTerm, stem, termsOf } from '../../src/search/terms.js';

describe('terms', () => {
  const families = [
    ['posting', 'posted', 'posts', 'post'],
    ['invoice', 'invoices', 'invoicing', 'invoiced'],
    ['batch', 'batches'],
    ['process', 'processes', 'processing', 'processed'],
    ['setting', 'settings', 'set'],
    ['stopped', 'stop', 'stops'],
    ['entry', 'entries'],
    ['update', 'updates', 'updated', 'updating'],
  ];
  for (const words of families) {
    it(`joins ${words.join(', ')}`, () => {
      expect(new Set(words.map(stem)).size, words.map(stem).join(' ')).to.equal(1);
    });
  }

  it('leaves numbers, codes and short words alone', () => {
    for (const w of ['aadsts700016', '1205', 'kb7123456', 'tax', 'status', 'access', 'analysis'])
      expect(stem(w)).to.equal(w);
  });

  it('drops stop words and single letters, lower-cases the rest', () => {
    expect(processTerm('The')).to.equal(null);
    expect(processTerm('t')).to.equal(null);
    expect(processTerm('Ledger')).to.equal('ledger');
    expect(termsOf("Won't post the Dual-write invoices")).to.deep.equal([
      'won',
      'post',
      'dual',
      'writ',
      'invoic',
    ]);
  });
});

describe('snippet', () => {
  const symptoms =
    'After an AOS restart, a batch job stays in status Executing indefinitely although none of its tasks run. ' +
    'New runs of the job are not scheduled and the batch server shows no errors at all in the event log for hours.';
  const resolution = 'Set the job to Withhold, then back to Waiting.';

  it('marks every form of a matched word in bold', () => {
    const s = makeSnippet([symptoms, resolution], new Set(['batch', 'run']));
    expect(s).to.include('**batch** job');
    expect(s).to.include('tasks **run**');
    expect(s).to.include('New **runs**');
  });

  it('starts a little before the first match, at a word, with ellipses', () => {
    const s = makeSnippet([symptoms, resolution], new Set(['hour']));
    expect(s.startsWith('…')).to.equal(true);
    expect(s).to.include('**hours**');
    expect(s.replace(/\*\*/g, '').length).to.be.at.most(162);
    expect(s.slice(1, 2)).to.match(/\S/);
  });

  it('uses the resolution when only the resolution matches, the symptoms otherwise', () => {
    expect(makeSnippet([symptoms, resolution], new Set(['withhold']))).to.equal(
      'Set the job to **Withhold**, then back to Waiting.',
    );
    expect(makeSnippet([symptoms, resolution], new Set())).to.match(/^After an AOS restart.*…$/);
  });
});

import { expect } from 'chai';
import { KnownIssue } from '../../src/search/knownIssue.js';
import { SYNTHETIC_KB_START, syntheticKb } from '../../src/search/syntheticKb.js';

describe('syntheticKb', () => {
  it('generates the same entries for the same seed, other ones for another', () => {
    const a = syntheticKb(300, { seed: 1 });
    expect(syntheticKb(300, { seed: 1 })).to.deep.equal(a);
    expect(syntheticKb(300, { seed: 2 })).not.to.deep.equal(a);
  });

  it('generates valid entries with unique ids and KB numbers from KB8000000', () => {
    const entries = syntheticKb(2000);
    expect(entries).to.have.length(2000);
    expect(new Set(entries.map((e) => e.id)).size).to.equal(2000);
    expect(entries[0]?.kbNumber).to.equal(`KB${SYNTHETIC_KB_START}`);
    for (const e of entries) expect(KnownIssue.safeParse(e).success, e.id).to.equal(true);
  });
});

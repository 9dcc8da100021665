// planBatch indexes a value as it will be read back; isPlainJson decides when the value itself is
// that, so that it need not be parsed back from its JSON.

import { expect } from 'chai';
import { isPlainJson, planBatch, type PlanDeps } from '../../src/store/batchPlan.js';

describe('isPlainJson', () => {
  it('accepts what JSON gives back unchanged', () => {
    for (const v of ['', 'x', 0, -1.5, true, false, null, [], {}, [1, 'a', [null]], { a: { b: [{ c: 'd' }] } }, Object.create(null)])
      expect(isPlainJson(v), JSON.stringify(v)).to.equal(true);
  });

  it('refuses what JSON changes or drops', () => {
    const cases: unknown[] = [
      undefined,
      NaN,
      Infinity,
      new Date(0),
      { at: new Date(0) },
      { gone: undefined },
      [1, undefined],
      [1, , 3], // eslint-disable-line no-sparse-arrays
      { toJSON: () => 'x' },
      new Map(),
      () => 1,
      10n,
      Symbol('s'),
      new (class Thing {})(),
    ];
    for (const v of cases) expect(isPlainJson(v), String(typeof v)).to.equal(false);
  });

  it('gives up on values nested deeper than it checks', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 40; i++) deep = { next: deep };
    expect(isPlainJson(deep)).to.equal(false);
  });
});

describe('planBatch index keys', () => {
  const deps = (seen: unknown[]): PlanDeps => ({
    eTagOf: () => undefined,
    indexed: () => true,
    keysFor: (_c, value) => {
      seen.push(value);
      return { at: String((value as { at: unknown }).at) };
    },
  });

  it('indexes a plain value as it is, and any other as it reads back', () => {
    const seen: unknown[] = [];
    const plain = { at: '2026-11-21T09:00:00.000Z' };
    const dated = { at: new Date('2026-11-21T09:00:00Z'), gone: undefined };
    const planned = planBatch(
      [
        { op: 'put', collection: 't', id: 'a', value: plain },
        { op: 'put', collection: 't', id: 'b', value: dated },
      ],
      deps(seen),
    );
    expect(seen[0]).to.equal(plain);
    expect(seen[1]).to.deep.equal({ at: '2026-11-21T09:00:00.000Z' });
    expect(planned.map((p) => (p.kind === 'put' ? p.keys : undefined))).to.deep.equal([
      { at: '2026-11-21T09:00:00.000Z' },
      { at: '2026-11-21T09:00:00.000Z' },
    ]);
  });
});

import { expect } from 'chai';
import type { PlannedOp } from '../../src/store/batchPlan.js';
import { seededRandom as random } from '../../src/seededRandom.js';
import { decodeWal, encodeGroup, encodeWalRecord, type WalOp } from '../../src/store/wal.js';

const ALPHABET = ['a', 'Z', '0', '-', ':', ' ', '"', '\\', '\n', 'é', 'ß', '中', '😀', '\u2028', '\u0000'];

function text(rnd: () => number, max: number): string {
  let s = '';
  const n = Math.floor(rnd() * max);
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
  return s;
}

function value(rnd: () => number, depth = 0): unknown {
  const r = rnd();
  if (depth > 2 || r < 0.3) return text(rnd, 40);
  if (r < 0.4) return Math.floor(rnd() * 1e6) / 100;
  if (r < 0.45) return null;
  if (r < 0.5) return rnd() < 0.5;
  if (r < 0.7) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(rnd, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(rnd() * 5); i > 0; i--) o[text(rnd, 8)] = value(rnd, depth + 1);
  return o;
}

function plan(rnd: () => number): PlannedOp[] {
  return Array.from({ length: Math.floor(rnd() * 4) }, (): PlannedOp => {
    const collection = rnd() < 0.8 ? 'tickets' : text(rnd, 6) || 'x';
    const id = text(rnd, 12) || 'id';
    if (rnd() < 0.2) return { kind: 'delete', collection, id };
    return { kind: 'put', collection, id, eTag: text(rnd, 10) || 'e', json: JSON.stringify(value(rnd)), keys: undefined };
  });
}

const walOp = (op: PlannedOp): WalOp =>
  op.kind === 'put'
    ? { c: op.collection, id: op.id, e: op.eTag, v: JSON.parse(op.json) as unknown }
    : { c: op.collection, id: op.id, d: 1 };

describe('the journal encoding (wal.ts)', () => {
  it('writes a group of batches as the lines encodeWalRecord gives each, skipping empty batches', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rnd = random(seed);
      const plans = Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => plan(rnd));
      const expected = plans
        .filter((p) => p.length > 0)
        .map((p) => encodeWalRecord({ ops: p.map(walOp) }))
        .join('');
      const got = encodeGroup(plans);
      expect(got.toString('utf8'), `seed ${seed}`).to.equal(expected);
      expect(got.length, `seed ${seed}`).to.equal(Buffer.byteLength(expected));
    }
  });

  it('reads back what it wrote, op for op', () => {
    const rnd = random(42);
    const plans = Array.from({ length: 50 }, () => plan(rnd));
    const { records, validBytes } = decodeWal('journal', encodeGroup(plans));
    const written = plans.filter((p) => p.length > 0);
    expect(records).to.deep.equal(written.map((p) => ({ ops: p.map(walOp) })));
    expect(validBytes).to.equal(encodeGroup(plans).length);
  });

  it('gives an empty buffer for a group with no ops', () => {
    expect(encodeGroup([[], []]).length).to.equal(0);
    expect(encodeGroup([]).length).to.equal(0);
  });
});

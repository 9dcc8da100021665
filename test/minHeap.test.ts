import { expect } from 'chai';
import { MinHeap } from '../src/minHeap.js';
import { seededRandom } from '../src/seededRandom.js';

describe('MinHeap', () => {
  it('pops in order, ties as its comparison says', () => {
    const heap = new MinHeap<[number, string]>((a, b) =>
      a[0] !== b[0] ? a[0] < b[0] : a[1] < b[1],
    );
    for (const item of [
      [3, 'c'],
      [1, 'b'],
      [2, 'a'],
      [1, 'a'],
    ] as [number, string][])
      heap.push(item);
    expect(heap.peek()).to.deep.equal([1, 'a']);
    const out: [number, string][] = [];
    for (let item = heap.pop(); item; item = heap.pop()) out.push(item);
    expect(out).to.deep.equal([
      [1, 'a'],
      [1, 'b'],
      [2, 'a'],
      [3, 'c'],
    ]);
    expect(heap.size).to.equal(0);
    expect(heap.pop()).to.equal(undefined);
  });

  it('stays ordered through interleaved pushes, pops and a retain', () => {
    const random = seededRandom(7);
    const heap = new MinHeap<number>((a, b) => a < b);
    const shadow: number[] = [];
    for (let step = 0; step < 3_000; step++) {
      if (random() < 0.6) {
        const n = Math.floor(random() * 1_000);
        heap.push(n);
        shadow.push(n);
      } else {
        shadow.sort((a, b) => a - b);
        expect(heap.pop()).to.equal(shadow.shift());
      }
      if (step === 1_500) {
        heap.retain((n) => n % 3 !== 0);
        shadow.splice(0, shadow.length, ...shadow.filter((n) => n % 3 !== 0));
      }
      expect(heap.size).to.equal(shadow.length);
    }
  });
});

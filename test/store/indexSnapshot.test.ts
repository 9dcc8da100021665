import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSnapshot, snapshotChunks, writeSnapshot } from '../../src/store/indexSnapshot.js';
import type { DocEntry } from '../../src/store/indexTable.js';
import { silentLogger } from '../../src/store/storeLogger.js';

describe('index snapshot', () => {
  const entries = new Map<string, [string, DocEntry][]>([
    [
      'tickets',
      [
        ['T-1', { eTag: 'a', keys: { status: 'open', tag: ['x', 'y'] } }],
        ['T-2', { eTag: 'b' }],
        ['T-3', { eTag: 'c', keys: { status: 'closed' } }],
      ],
    ],
    ['drafts', [['D "1"', { eTag: 'd' }]]],
    ['empty', []],
  ]);

  it('is written in pieces that make one snapshot, read back whole', async () => {
    const chunks = [...snapshotChunks(7, 'spec-1', entries, { maxRows: 2 })];
    expect(chunks.length).to.be.above(5);
    const dir = await mkdtemp(join(tmpdir(), 'snapshot-'));
    try {
      const path = join(dir, 'index.json');
      const bytes = await writeSnapshot(path, chunks);
      expect(bytes).to.equal(Buffer.byteLength(await readFile(path, 'utf8')));
      expect(await readSnapshot(path, silentLogger)).to.deep.equal({
        walGen: 7,
        spec: 'spec-1',
        collections: {
          tickets: [
            ['T-1', 'a', { status: 'open', tag: ['x', 'y'] }],
            ['T-2', 'b'],
            ['T-3', 'c', { status: 'closed' }],
          ],
          drafts: [['D "1"', 'd']],
          empty: [],
        },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ends a piece when its time budget is spent, and the pieces still make the whole', () => {
    const many = new Map<string, [string, DocEntry][]>([
      ['tickets', Array.from({ length: 1_000 }, (_, n): [string, DocEntry] => [`T-${n}`, { eTag: `e${n}`, keys: { n: String(n) } }])],
    ]);
    let clock = 0;
    // Every look at the clock is 0.1 ms later: a budget of 1 ms is spent after 10 looks (640 rows).
    const now = () => (clock += 0.1);
    const timed = [...snapshotChunks(1, 's', many, { maxRows: 2_000, budgetMs: 1, now })];
    const untimed = [...snapshotChunks(1, 's', many, { maxRows: 2_000, budgetMs: Infinity })];
    expect(untimed).to.have.length(5); // head, collection, one piece of 1,000 rows, ']', tail...
    expect(timed.length).to.equal(untimed.length + 1); // ...which the budget cut in two
    expect(timed.join('')).to.equal(untimed.join(''));
    const rows = JSON.parse(timed.join('')).collections.tickets as unknown[];
    expect(rows).to.have.length(1_000);
  });
});

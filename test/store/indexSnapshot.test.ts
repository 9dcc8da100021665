import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSnapshot, snapshotChunks, SpecFingerprint, specFingerprint, writeSnapshot } from '../../src/store/indexSnapshot.js';
import type { IndexSpec } from '../../src/store/store.js';
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

  describe('the index spec fingerprint', () => {
    // The same extractor as tsc emits it and as tsx (esbuild) does (made from text: these tests
    // themselves run through tsx).
    type Extractor = (t: { status: string; reporter?: { id: string } }) => string | undefined;
    const asTsc = new Function("return (t) => (t.status === 'open' ? `${t.reporter?.id}|x` : undefined)")() as Extractor;
    const asTsx = new Function('return t=>t.status==="open"?`${t.reporter?.id}|x`:void 0')() as Extractor;
    const spec = (status: unknown, extra: IndexSpec = {}): IndexSpec => ({ tickets: { status, project: (t: { p: string }) => t.p } as never, ...extra });

    it('matches a snapshot written with the same extractors as the other compiler printed them', async () => {
      const written = await specFingerprint(spec(asTsc));
      const other = new SpecFingerprint(spec(asTsx));
      expect(String(asTsc)).to.not.equal(String(asTsx));
      expect(other.raw).to.not.equal(written.split(' ')[0]);
      expect(await other.matches(written)).to.equal(true);
      expect(other.recorded).to.equal(`${other.raw} ${written.split(' ')[1]}`);
    });

    it('matches a snapshot of the same text, and records the same fingerprint', async () => {
      const written = await specFingerprint(spec(asTsc));
      const same = new SpecFingerprint(spec(asTsc));
      expect(() => same.recorded).to.throw(/not known yet/);
      expect(await same.matches(written)).to.equal(true);
      expect(same.recorded).to.equal(written);
    });

    it('does not match when an extractor, an index or a collection changes, nor an old snapshot', async () => {
      const written = await specFingerprint(spec(asTsc));
      const changed = [
        spec((t: { status: string }) => (t.status === 'closed' ? 'x' : undefined)),
        { tickets: { state: asTsc, project: (t: { p: string }) => t.p } as never },
        spec(asTsc, { drafts: { a: (d: { a: string }) => d.a } as never }),
      ];
      for (const s of changed)
        expect(await new SpecFingerprint(s).matches(written), JSON.stringify(Object.keys(s))).to.equal(false);
      // Before the canonical fingerprint, a snapshot recorded one hash: its index is rebuilt once.
      expect(await new SpecFingerprint(spec(asTsc)).matches(written.split(' ')[0]!)).to.equal(false);
    });
  });
});

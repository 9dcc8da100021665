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
    const chunks = [...snapshotChunks(7, 'spec-1', entries, 2)];
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
});

import { expect } from 'chai';
import { seededRandom } from '../../src/seededRandom.js';
import { IndexTable } from '../../src/store/indexTable.js';

// The table keeps a key yielded by one document as that id and a one-key index as a string; these
// check the moves between the compact and the general forms.
describe('IndexTable', () => {
  const spec = {
    tickets: {
      status: (t: { status?: string }) => t.status,
      tag: (t: { tags?: string[] }) => t.tags,
    },
  };
  const entry = (table: IndexTable, value: object, eTag = 'e') => ({
    eTag,
    keys: table.keysFor('tickets', value),
  });

  it('keeps one key as a string and several as a list, without duplicates', () => {
    const table = new IndexTable(spec);
    expect(table.keysFor('tickets', { status: 'open', tags: ['a', 'b', 'a'] })).to.deep.equal({
      status: 'open',
      tag: ['a', 'b'],
    });
    expect(table.keysFor('tickets', { tags: ['a', 'a'] })).to.deep.equal({ tag: 'a' });
    expect(table.keysFor('tickets', { tags: [] })).to.equal(undefined);
  });

  it('finds the documents of a key as it goes from one document to several and back', () => {
    const table = new IndexTable(spec);
    table.set('tickets', 'T-1', entry(table, { status: 'open' }));
    expect(table.lookup('tickets', 'status', 'open')).to.deep.equal(['T-1']);
    table.set('tickets', 'T-1', entry(table, { status: 'open' }, 'e2')); // same key again
    expect(table.lookup('tickets', 'status', 'open')).to.deep.equal(['T-1']);
    table.set('tickets', 'T-2', entry(table, { status: 'open' }));
    table.set('tickets', 'T-3', entry(table, { status: 'open' }));
    expect(table.lookup('tickets', 'status', 'open').sort()).to.deep.equal(['T-1', 'T-2', 'T-3']);
    table.delete('tickets', 'T-2');
    table.set('tickets', 'T-1', entry(table, { status: 'closed' }));
    expect(table.lookup('tickets', 'status', 'open')).to.deep.equal(['T-3']);
    expect(table.lookup('tickets', 'status', 'closed')).to.deep.equal(['T-1']);
    table.delete('tickets', 'T-3');
    expect(table.lookup('tickets', 'status', 'open')).to.deep.equal([]);
    table.set('tickets', 'T-4', entry(table, { status: 'open', tags: ['x', 'y'] }));
    expect(table.lookup('tickets', 'status', 'open')).to.deep.equal(['T-4']);
    expect(table.entries('tickets', 'tag')).to.deep.equal([{ id: 'T-4', keys: ['x', 'y'] }]);
    expect(table.entries('tickets', 'status').map((e) => e.keys)).to.deep.equal([
      ['closed'],
      ['open'],
    ]);
  });

  it('finds exactly the documents whose current keys match, over random writes that change some indexes and keep others', () => {
    const rnd = seededRandom(11);
    const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)] as T;
    const statuses = [undefined, 'open', 'closed', 'waiting'];
    const tags = ['a', 'b', 'c', 'd'];
    const table = new IndexTable(spec);
    const values = new Map<string, { status?: string; tags?: string[] }>();
    for (let step = 0; step < 3_000; step++) {
      const id = `T-${Math.floor(rnd() * 12)}`;
      if (rnd() < 0.1) {
        table.delete('tickets', id);
        values.delete(id);
      } else {
        // Often the same keys as before in one index or both (what most writes do).
        const before = values.get(id) ?? {};
        const status = rnd() < 0.5 ? before.status : pick(statuses);
        const keep = rnd() < 0.5 && before.tags;
        const value = {
          ...(status ? { status } : {}),
          tags: keep ? before.tags! : Array.from({ length: Math.floor(rnd() * 4) }, () => pick(tags)),
        };
        table.set('tickets', id, entry(table, value));
        values.set(id, value);
      }
      for (const status of statuses.filter((x) => x !== undefined)) {
        const expected = [...values].filter(([, v]) => v.status === status).map(([k]) => k).sort();
        expect(table.lookup('tickets', 'status', status).sort(), `step ${step}, status ${status}`).to.deep.equal(expected);
      }
      for (const tag of tags) {
        const expected = [...values].filter(([, v]) => v.tags?.includes(tag)).map(([k]) => k).sort();
        expect(table.lookup('tickets', 'tag', tag).sort(), `step ${step}, tag ${tag}`).to.deep.equal(expected);
      }
    }
  });

  it('reads index keys written as lists (snapshots written before the compact form)', () => {
    const table = new IndexTable(spec);
    table.set('tickets', 'T-1', { eTag: 'e', keys: { status: ['open'], tag: ['a'] } });
    table.set('tickets', 'T-2', { eTag: 'e', keys: { status: 'open' } });
    expect(table.lookup('tickets', 'status', 'open').sort()).to.deep.equal(['T-1', 'T-2']);
    table.set('tickets', 'T-1', entry(table, { status: 'closed' }));
    expect(table.lookup('tickets', 'status', 'open')).to.deep.equal(['T-2']);
    expect(table.lookup('tickets', 'tag', 'a')).to.deep.equal([]);
  });
});

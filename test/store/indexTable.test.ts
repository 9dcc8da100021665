import { expect } from 'chai';
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

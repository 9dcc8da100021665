// The one behaviour every Store backend must show (STYLE.md §6). A backend's test file calls
// storeContract() with a factory; the PostgreSQL store will run the very same suite.

import { expect } from 'chai';
import {
  ConflictError,
  StoreUnavailableError,
  type IndexSpec,
  type Store,
  type StoredDoc,
} from '../../src/store/store.js';

/** A store under test, how to open it again on the same data (durable backends), and teardown. */
export interface StoreFixture {
  store: Store;
  /** Opens the same data again; the suite closes the previous store first. */
  reopen?: () => Promise<Store>;
  /** Removes the data; the suite has closed every store it opened by then. */
  cleanup: () => Promise<void>;
}

interface Ticket {
  title: string;
  reporter?: string;
  status?: string;
  tags?: string[];
  n?: number;
}

/** The indexes the suite declares; a factory passes them to its store. */
export const contractIndexes: IndexSpec = {
  tickets: {
    reporter: (t: Ticket) => t.reporter,
    status: (t: Ticket) => t.status,
    tag: (t: Ticket) => t.tags,
  },
};

const SPECIAL_IDS = [
  'a/b',
  '../../escape',
  'back\\slash',
  'Ab',
  'ab',
  'AB',
  'con',
  'NUL',
  '.hidden',
  '..',
  'with space',
  'per%2Fcent',
  '_2f',
  '~tilde',
  'émoji 🎫',
  ':*?"<>|',
  'line\nbreak',
  'x'.repeat(300),
  'y'.repeat(300),
];

/** Defines `describe('Store contract: <name>')`. */
export function storeContract(
  name: string,
  make: (indexes: IndexSpec) => Promise<StoreFixture>,
): void {
  describe(`Store contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;
    let opened: Store[];

    beforeEach(async () => {
      fixture = await make(contractIndexes);
      store = fixture.store;
      opened = [store];
    });

    afterEach(async () => {
      for (const s of opened) await s.close();
      await fixture.cleanup();
    });

    /** Closes the current store and opens the same data again (skips the test if not durable). */
    async function reopen(ctx: Mocha.Context): Promise<Store> {
      if (!fixture.reopen) ctx.skip();
      await store.close();
      store = await fixture.reopen!();
      opened.push(store);
      return store;
    }

    const put = (id: string, value: unknown, ifMatch?: string) =>
      store.write([{ op: 'put', collection: 'tickets', id, value, ifMatch }]);
    const ids = (docs: StoredDoc<unknown>[]) => docs.map((d) => d.id).sort();

    describe('get and put', () => {
      it('returns what was put, with its eTag', async () => {
        const [eTag] = await put('T-1', { title: 'Batch jobs stuck', n: 1 });
        const doc = await store.get<Ticket>('tickets', 'T-1');
        expect(doc).to.deep.equal({ id: 'T-1', value: { title: 'Batch jobs stuck', n: 1 }, eTag });
      });

      it('returns undefined for a document that was never put', async () => {
        expect(await store.get('tickets', 'nope')).to.equal(undefined);
        expect(await store.get('no-such-collection', 'nope')).to.equal(undefined);
      });

      it('stores a copy: mutating the written or the read value changes nothing', async () => {
        const value = { title: 'original', tags: ['a'] };
        await put('T-1', value);
        value.title = 'mutated';
        value.tags.push('b');
        const read = await store.get<Ticket>('tickets', 'T-1');
        read!.value.title = 'mutated again';
        expect((await store.get<Ticket>('tickets', 'T-1'))!.value).to.deep.equal({
          title: 'original',
          tags: ['a'],
        });
      });

      it('stores values as JSON (dates become strings, undefined fields vanish)', async () => {
        await put('T-1', { title: 't', at: new Date('2024-01-02T03:04:05Z'), gone: undefined });
        expect((await store.get('tickets', 'T-1'))!.value).to.deep.equal({
          title: 't',
          at: '2024-01-02T03:04:05.000Z',
        });
      });

      it('rejects a value that is not JSON and writes nothing', async () => {
        await expectRejection(put('T-1', undefined), TypeError);
        expect(await store.count('tickets')).to.equal(0);
      });

      it('keeps collections apart', async () => {
        await store.write([
          { op: 'put', collection: 'tickets', id: 'same', value: { title: 'ticket' } },
          { op: 'put', collection: 'drafts', id: 'same', value: { title: 'draft' } },
        ]);
        expect((await store.get<Ticket>('tickets', 'same'))!.value.title).to.equal('ticket');
        expect((await store.get<Ticket>('drafts', 'same'))!.value.title).to.equal('draft');
      });

      it('resolves an empty batch with no eTags', async () => {
        expect(await store.write([])).to.deep.equal([]);
      });
    });

    describe('eTags', () => {
      it('changes the eTag on every write, even with the same value', async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 5; i += 1) {
          const [eTag] = await put('T-1', { title: 'same' });
          seen.add(eTag!);
        }
        expect(seen.size).to.equal(5);
      });

      it('returns one eTag per op in order, empty for deletes', async () => {
        await put('old', { title: 'old' });
        const eTags = await store.write([
          { op: 'put', collection: 'tickets', id: 'a', value: { title: 'a' } },
          { op: 'delete', collection: 'tickets', id: 'old' },
          { op: 'put', collection: 'tickets', id: 'b', value: { title: 'b' } },
        ]);
        expect(eTags).to.have.length(3);
        expect(eTags[1]).to.equal('');
        expect((await store.get('tickets', 'a'))!.eTag).to.equal(eTags[0]);
        expect((await store.get('tickets', 'b'))!.eTag).to.equal(eTags[2]);
      });

      it('accepts a write whose ifMatch is the current eTag', async () => {
        const [first] = await put('T-1', { title: 'v1' });
        const [second] = await put('T-1', { title: 'v2' }, first);
        expect(second).to.not.equal(first);
        expect((await store.get<Ticket>('tickets', 'T-1'))!.value.title).to.equal('v2');
      });

      it('rejects a stale ifMatch with ConflictError and writes nothing of the batch', async () => {
        const [stale] = await put('T-1', { title: 'v1' });
        const [current] = await put('T-1', { title: 'v2' });
        const err = await expectRejection(
          store.write([
            { op: 'put', collection: 'tickets', id: 'T-2', value: { title: 'other' } },
            { op: 'put', collection: 'tickets', id: 'T-1', value: { title: 'v3' }, ifMatch: stale },
          ]),
          ConflictError,
        );
        expect(err).to.include({ collection: 'tickets', id: 'T-1', expected: stale });
        expect(await store.get('tickets', 'T-2')).to.equal(undefined);
        const doc = await store.get<Ticket>('tickets', 'T-1');
        expect(doc).to.deep.include({ eTag: current, value: { title: 'v2' } });
      });

      it('rejects an eTag ifMatch on a document that does not exist', async () => {
        await expectRejection(put('ghost', { title: 'x' }, 'some-etag'), ConflictError);
        expect(await store.get('tickets', 'ghost')).to.equal(undefined);
      });

      it('checks each op against the batch so far (put then put with its eTag is a conflict)', async () => {
        const [eTag] = await put('T-1', { title: 'v1' });
        await expectRejection(
          store.write([
            { op: 'put', collection: 'tickets', id: 'T-1', value: { title: 'v2' }, ifMatch: eTag },
            { op: 'put', collection: 'tickets', id: 'T-1', value: { title: 'v3' }, ifMatch: eTag },
          ]),
          ConflictError,
        );
        expect((await store.get<Ticket>('tickets', 'T-1'))!.value.title).to.equal('v1');
      });
    });

    describe("ifMatch 'absent' (create once)", () => {
      it('creates a document that does not exist', async () => {
        const [eTag] = await put('once', { title: 'first' }, 'absent');
        expect((await store.get('tickets', 'once'))!.eTag).to.equal(eTag);
      });

      it('rejects a second create with ConflictError and keeps the first value', async () => {
        await put('once', { title: 'first' }, 'absent');
        await expectRejection(put('once', { title: 'second' }, 'absent'), ConflictError);
        expect((await store.get<Ticket>('tickets', 'once'))!.value.title).to.equal('first');
      });

      it('lets exactly one of two concurrent creates win', async () => {
        const results = await Promise.allSettled([
          put('race', { title: 'A' }, 'absent'),
          put('race', { title: 'B' }, 'absent'),
        ]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).to.have.length(1);
        expect(lost).to.have.length(1);
        expect((lost[0] as PromiseRejectedResult).reason).to.be.instanceOf(ConflictError);
        const winner = results[0]!.status === 'fulfilled' ? 'A' : 'B';
        expect((await store.get<Ticket>('tickets', 'race'))!.value.title).to.equal(winner);
      });

      it('allows a create again after the document was deleted', async () => {
        await put('once', { title: 'first' }, 'absent');
        await store.write([{ op: 'delete', collection: 'tickets', id: 'once' }]);
        await put('once', { title: 'again' }, 'absent');
        expect((await store.get<Ticket>('tickets', 'once'))!.value.title).to.equal('again');
      });
    });

    describe('delete', () => {
      it('removes a document', async () => {
        await put('T-1', { title: 'x' });
        expect(
          await store.write([{ op: 'delete', collection: 'tickets', id: 'T-1' }]),
        ).to.deep.equal(['']);
        expect(await store.get('tickets', 'T-1')).to.equal(undefined);
        expect(await store.count('tickets')).to.equal(0);
      });

      it('treats deleting a missing document without ifMatch as done', async () => {
        expect(
          await store.write([{ op: 'delete', collection: 'tickets', id: 'never' }]),
        ).to.deep.equal(['']);
      });

      it('rejects a delete with a stale ifMatch and keeps the document', async () => {
        const [stale] = await put('T-1', { title: 'v1' });
        await put('T-1', { title: 'v2' });
        await expectRejection(
          store.write([{ op: 'delete', collection: 'tickets', id: 'T-1', ifMatch: stale }]),
          ConflictError,
        );
        expect((await store.get<Ticket>('tickets', 'T-1'))!.value.title).to.equal('v2');
      });

      it('deletes with the current eTag', async () => {
        const [eTag] = await put('T-1', { title: 'v1' });
        await store.write([{ op: 'delete', collection: 'tickets', id: 'T-1', ifMatch: eTag }]);
        expect(await store.get('tickets', 'T-1')).to.equal(undefined);
      });
    });

    describe('find', () => {
      beforeEach(async () => {
        await store.write([
          {
            op: 'put',
            collection: 'tickets',
            id: 'T-1',
            value: { title: '1', reporter: 'ana', status: 'open', tags: ['sql', 'batch'] },
          },
          {
            op: 'put',
            collection: 'tickets',
            id: 'T-2',
            value: { title: '2', reporter: 'ana', status: 'closed', tags: ['batch'] },
          },
          {
            op: 'put',
            collection: 'tickets',
            id: 'T-3',
            value: { title: '3', reporter: 'bob', status: 'open' },
          },
          { op: 'put', collection: 'tickets', id: 'T-4', value: { title: '4' } },
        ]);
      });

      it('finds documents by a string index key', async () => {
        expect(ids(await store.find('tickets', 'reporter', 'ana'))).to.deep.equal(['T-1', 'T-2']);
        expect(ids(await store.find('tickets', 'status', 'open'))).to.deep.equal(['T-1', 'T-3']);
      });

      it('finds a document under each key of an array-valued index', async () => {
        expect(ids(await store.find('tickets', 'tag', 'batch'))).to.deep.equal(['T-1', 'T-2']);
        expect(ids(await store.find('tickets', 'tag', 'sql'))).to.deep.equal(['T-1']);
      });

      it('returns whole documents with their eTags', async () => {
        const [doc] = await store.find<Ticket>('tickets', 'reporter', 'bob');
        expect(doc).to.deep.equal(await store.get('tickets', 'T-3'));
      });

      it('returns nothing for an unknown key', async () => {
        expect(await store.find('tickets', 'reporter', 'nobody')).to.deep.equal([]);
      });

      it('lists the ids and eTags of what find returns, where the backend offers findETags', async () => {
        if (!store.findETags) return;
        const listed = await store.findETags('tickets', 'reporter', 'ana');
        const found = await store.find('tickets', 'reporter', 'ana');
        const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
        expect(listed.sort(byId)).to.deep.equal(
          found.map((d) => ({ id: d.id, eTag: d.eTag })).sort(byId),
        );
      });

      it('lists every document with keys for an index, with its keys, where the backend offers indexEntries', async () => {
        if (!store.indexEntries) return;
        const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
        const tags = await store.indexEntries('tickets', 'tag');
        expect(tags.map((e) => ({ id: e.id, keys: [...e.keys].sort() })).sort(byId)).to.deep.equal([
          { id: 'T-1', keys: ['batch', 'sql'] },
          { id: 'T-2', keys: ['batch'] },
        ]);
        const t1 = await store.get<Ticket>('tickets', 'T-1');
        await put('T-1', { ...t1!.value, reporter: 'cy' }, t1!.eTag);
        await store.write([{ op: 'delete', collection: 'tickets', id: 'T-2' }]);
        const reporters = await store.indexEntries('tickets', 'reporter');
        expect(reporters.sort(byId)).to.deep.equal([
          { id: 'T-1', keys: ['cy'] },
          { id: 'T-3', keys: ['bob'] },
        ]);
        await expectRejection(store.indexEntries('tickets', 'title'), Error);
      });

      it('rejects an index that was not declared', async () => {
        await expectRejection(store.find('tickets', 'title', '1'), Error);
        await expectRejection(store.find('drafts', 'reporter', 'ana'), Error);
      });

      it('moves a document between keys when it changes', async () => {
        const t1 = await store.get<Ticket>('tickets', 'T-1');
        await put('T-1', { ...t1!.value, status: 'closed', tags: ['sql'] }, t1!.eTag);
        expect(ids(await store.find('tickets', 'status', 'open'))).to.deep.equal(['T-3']);
        expect(ids(await store.find('tickets', 'status', 'closed'))).to.deep.equal(['T-1', 'T-2']);
        expect(ids(await store.find('tickets', 'tag', 'batch'))).to.deep.equal(['T-2']);
        expect(ids(await store.find('tickets', 'tag', 'sql'))).to.deep.equal(['T-1']);
      });

      it('drops a document from its keys when it stops yielding them', async () => {
        await put('T-3', { title: '3' });
        expect(ids(await store.find('tickets', 'reporter', 'bob'))).to.deep.equal([]);
      });

      it('forgets a deleted document', async () => {
        await store.write([{ op: 'delete', collection: 'tickets', id: 'T-1' }]);
        expect(ids(await store.find('tickets', 'reporter', 'ana'))).to.deep.equal(['T-2']);
        expect(ids(await store.find('tickets', 'tag', 'sql'))).to.deep.equal([]);
      });

      it('does not change the index when a batch is rejected', async () => {
        await expectRejection(
          store.write([
            { op: 'put', collection: 'tickets', id: 'T-3', value: { title: '3', reporter: 'cy' } },
            {
              op: 'put',
              collection: 'tickets',
              id: 'T-1',
              value: { title: '1' },
              ifMatch: 'stale',
            },
          ]),
          ConflictError,
        );
        expect(ids(await store.find('tickets', 'reporter', 'bob'))).to.deep.equal(['T-3']);
        expect(await store.find('tickets', 'reporter', 'cy')).to.deep.equal([]);
      });

      it('indexes keys with special characters', async () => {
        await put('T-5', { title: '5', reporter: 'Ana Müller/«x»' });
        expect(ids(await store.find('tickets', 'reporter', 'Ana Müller/«x»'))).to.deep.equal([
          'T-5',
        ]);
      });
    });

    describe('count', () => {
      it('counts the documents of one collection', async () => {
        expect(await store.count('tickets')).to.equal(0);
        await store.write([
          { op: 'put', collection: 'tickets', id: 'a', value: { title: 'a' } },
          { op: 'put', collection: 'tickets', id: 'b', value: { title: 'b' } },
          { op: 'put', collection: 'drafts', id: 'a', value: { title: 'a' } },
        ]);
        await put('a', { title: 'a again' });
        expect(await store.count('tickets')).to.equal(2);
        expect(await store.count('drafts')).to.equal(1);
        await store.write([{ op: 'delete', collection: 'tickets', id: 'a' }]);
        expect(await store.count('tickets')).to.equal(1);
      });
    });

    describe('atomic batches', () => {
      it('applies several puts and deletes together', async () => {
        await put('gone', { title: 'gone' });
        await store.write([
          { op: 'put', collection: 'tickets', id: 'T-1', value: { title: '1', reporter: 'ana' } },
          { op: 'put', collection: 'drafts', id: 'D-1', value: { title: 'draft' } },
          { op: 'delete', collection: 'tickets', id: 'gone' },
        ]);
        expect(await store.get('tickets', 'gone')).to.equal(undefined);
        expect(await store.get('drafts', 'D-1')).to.not.equal(undefined);
        expect(ids(await store.find('tickets', 'reporter', 'ana'))).to.deep.equal(['T-1']);
      });

      it('applies ops on one document in order', async () => {
        await store.write([
          { op: 'put', collection: 'tickets', id: 'T-1', value: { title: 'first' } },
          { op: 'delete', collection: 'tickets', id: 'T-1' },
          { op: 'put', collection: 'tickets', id: 'T-2', value: { title: 'first' } },
          { op: 'put', collection: 'tickets', id: 'T-2', value: { title: 'second' } },
        ]);
        expect(await store.get('tickets', 'T-1')).to.equal(undefined);
        expect((await store.get<Ticket>('tickets', 'T-2'))!.value.title).to.equal('second');
      });

      it('never shows a reader half of a batch', async () => {
        await store.write([
          { op: 'put', collection: 'tickets', id: 'L', value: { title: 'L', n: 0 } },
          { op: 'put', collection: 'tickets', id: 'R', value: { title: 'R', n: 0 } },
        ]);
        let stop = false;
        const torn: string[] = [];
        const reader = (async () => {
          while (!stop) {
            // L is written before R in each batch: reading L and then R, a reader that could see
            // half a batch would find R behind L.
            const l = await store.get<Ticket>('tickets', 'L');
            const r = await store.get<Ticket>('tickets', 'R');
            if (r!.value.n! < l!.value.n!) torn.push(`L=${l!.value.n} R=${r!.value.n}`);
            await new Promise((done) => setImmediate(done));
          }
        })();
        for (let n = 1; n <= 30; n += 1) {
          await store.write([
            { op: 'put', collection: 'tickets', id: 'L', value: { title: 'L', n } },
            { op: 'put', collection: 'tickets', id: 'R', value: { title: 'R', n } },
          ]);
        }
        stop = true;
        await reader;
        expect(torn).to.deep.equal([]);
      });
    });

    describe('concurrency', () => {
      it('serializes concurrent read-modify-write cycles so no increment is lost', async () => {
        await put('counter', { title: 'c', n: 0 });
        const increment = async (): Promise<void> => {
          for (;;) {
            const doc = await store.get<Ticket>('tickets', 'counter');
            try {
              await put('counter', { title: 'c', n: doc!.value.n! + 1 }, doc!.eTag);
              return;
            } catch (err) {
              if (!(err instanceof ConflictError)) throw err;
            }
          }
        };
        await Promise.all(Array.from({ length: 10 }, increment));
        expect((await store.get<Ticket>('tickets', 'counter'))!.value.n).to.equal(10);
      });

      it('lets only one of several writers with the same eTag win', async () => {
        const [eTag] = await put('T-1', { title: 'v0' });
        const results = await Promise.allSettled(
          Array.from({ length: 5 }, (_, i) => put('T-1', { title: `v${i + 1}` }, eTag)),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
      });

      it('keeps every one of many concurrent writes', async () => {
        await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            put(`T-${i}`, { title: String(i), reporter: 'ana' }),
          ),
        );
        expect(await store.count('tickets')).to.equal(40);
        expect(await store.find('tickets', 'reporter', 'ana')).to.have.length(40);
      });
    });

    describe('close', function () {
      it('finishes writes in flight, then rejects calls', async function () {
        const inFlight = put('T-1', { title: 'in flight' });
        const closing = store.close();
        const [eTag] = await inFlight;
        await closing;
        expect(eTag).to.be.a('string').and.not.equal('');
        await expectRejection(store.get('tickets', 'T-1'), StoreUnavailableError);
        await expectRejection(put('T-2', { title: 'late' }), StoreUnavailableError);
        await expectRejection(store.find('tickets', 'reporter', 'x'), StoreUnavailableError);
        await expectRejection(store.count('tickets'), StoreUnavailableError);
        await store.close();
        if (fixture.reopen) {
          store = await fixture.reopen();
          opened.push(store);
          expect((await store.get('tickets', 'T-1'))!.eTag).to.equal(eTag);
        }
      });
    });

    describe('durability', () => {
      it('keeps documents, eTags, deletes, counts and indexes across a reopen', async function () {
        const [e1] = await put('T-1', { title: '1', reporter: 'ana', tags: ['sql'] });
        await store.write([
          { op: 'put', collection: 'tickets', id: 'T-2', value: { title: '2', reporter: 'ana' } },
          { op: 'put', collection: 'drafts', id: 'D-1', value: { title: 'draft' } },
        ]);
        await store.write([{ op: 'delete', collection: 'tickets', id: 'T-2' }]);
        await reopen(this);
        expect(await store.get('tickets', 'T-1')).to.deep.equal({
          id: 'T-1',
          eTag: e1,
          value: { title: '1', reporter: 'ana', tags: ['sql'] },
        });
        expect(await store.get('tickets', 'T-2')).to.equal(undefined);
        expect(await store.count('tickets')).to.equal(1);
        expect(await store.count('drafts')).to.equal(1);
        expect(ids(await store.find('tickets', 'reporter', 'ana'))).to.deep.equal(['T-1']);
        expect(ids(await store.find('tickets', 'tag', 'sql'))).to.deep.equal(['T-1']);
        await expectRejection(put('T-1', { title: 'x' }, 'absent'), ConflictError);
        await put('T-1', { title: 'x' }, e1);
      });
    });

    describe('ids', () => {
      it('stores ids with special characters as distinct documents', async function () {
        for (const id of SPECIAL_IDS) await put(id, { title: id, reporter: 'special' });
        const check = async (): Promise<void> => {
          for (const id of SPECIAL_IDS) {
            const doc = await store.get<Ticket>('tickets', id);
            expect(doc?.id, JSON.stringify(id)).to.equal(id);
            expect(doc?.value.title).to.equal(id);
          }
          expect(await store.count('tickets')).to.equal(SPECIAL_IDS.length);
          expect(ids(await store.find('tickets', 'reporter', 'special'))).to.deep.equal(
            [...SPECIAL_IDS].sort(),
          );
        };
        await check();
        if (fixture.reopen) {
          await reopen(this);
          await check();
        }
      });

      it('accepts special characters in collection names', async () => {
        await store.write([{ op: 'put', collection: 'a/../B c', id: 'x', value: { title: 'x' } }]);
        expect((await store.get<Ticket>('a/../B c', 'x'))!.value.title).to.equal('x');
        expect(await store.get('a/../b c', 'x')).to.equal(undefined);
      });

      it('rejects an empty id or collection', async () => {
        await expectRejection(put('', { title: 'x' }), TypeError);
        await expectRejection(
          store.write([{ op: 'put', collection: '', id: 'x', value: {} }]),
          TypeError,
        );
      });
    });
  });
}

/** Awaits a promise that must reject with `type`; returns the error. */
export async function expectRejection<E extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => E,
): Promise<E> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(type);
    return err as E;
  }
  expect.fail(`expected a ${type.name} rejection, but the promise resolved`);
}

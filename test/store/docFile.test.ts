// readDocFileSync: how the store reads a document that is in neither its unflushed set nor its
// cache. The value's JSON text is cut from the file, not serialised again, so it must be exactly
// the value whatever the head's strings hold.

import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docFileText, readDocFileSync } from '../../src/store/docFile.js';

describe('readDocFileSync', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'docfile-'))));
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  async function roundTrip(collection: string, id: string, value: unknown) {
    const file = join(dir, 'doc.json');
    await writeFile(file, docFileText({ collection, id, eTag: 'e1', json: JSON.stringify(value) }));
    return readDocFileSync(file);
  }

  it('reads the data and the value as the JSON text it was written with', async () => {
    const value = { title: 'Payroll down', timeline: [{ at: '2026-11-21T09:00:00Z', text: 'a}b' }], n: 1 };
    const doc = await roundTrip('tickets', 'OUT-1', value);
    expect(doc).to.deep.include({ collection: 'tickets', id: 'OUT-1', eTag: 'e1', value });
    expect(doc?.json).to.equal(JSON.stringify(value));
  });

  it('finds the value when the id or collection holds the key\'s own text', async () => {
    const id = 'x","value":{"forged":true},"y":"';
    const doc = await roundTrip('c,"value":1', id, [1, 2]);
    expect(doc?.id).to.equal(id);
    expect(doc?.json).to.equal('[1,2]');
    expect(JSON.parse(doc!.json)).to.deep.equal(doc?.value);
  });

  it('serialises the value of a file in another shape (written by hand, pretty-printed)', async () => {
    const file = join(dir, 'doc.json');
    await writeFile(file, JSON.stringify({ eTag: 'e2', id: 'A', collection: 'c', value: { a: [1, 'x'] } }, null, 2));
    const doc = readDocFileSync(file);
    expect(doc?.eTag).to.equal('e2');
    expect(doc?.json).to.equal('{"a":[1,"x"]}');
  });

  it('is undefined for a file that does not exist', () => {
    expect(readDocFileSync(join(dir, 'none.json'))).to.equal(undefined);
  });

  it('throws for a file that is not a document', async () => {
    const file = join(dir, 'doc.json');
    await writeFile(file, '{"collection":"c","id":"A"}');
    expect(() => readDocFileSync(file)).to.throw(/Malformed document file/);
    await writeFile(file, '{"collection":"c",');
    expect(() => readDocFileSync(file)).to.throw(SyntaxError);
  });
});

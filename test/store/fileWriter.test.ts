import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileWriter } from '../../src/store/fileWriter.js';

describe('FileWriter (the flusher’s writer thread)', () => {
  let dir: string;
  let writer: FileWriter;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fo-filewriter-'));
    writer = new FileWriter();
  });
  afterEach(async () => {
    await writer.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes files in new directories and removes files, leaving no temp file behind', async () => {
    const a = join(dir, 'docs', 't', '0a', 'a.json');
    const b = join(dir, 'docs', 't', '0b', 'b.json');
    expect(await writer.write([{ path: a, text: '{"v":1}\n' }, { path: b, text: '{"v":2}\n' }])).to.deep.equal([null, null]);
    expect(await writer.write([{ path: a, text: '{"v":3}\n' }, { path: b, text: null }, { path: join(dir, 'gone.json'), text: null }])).to.deep.equal([null, null, null]);
    expect(await readFile(a, 'utf8')).to.equal('{"v":3}\n');
    expect(existsSync(b)).to.equal(false);
    expect(await readdir(join(dir, 'docs', 't', '0a'))).to.deep.equal(['a.json']);
  });

  it('overwrites a file in place, shorter or longer, keeping its inode', async () => {
    const a = join(dir, 'docs', 't', '0a', 'a.json');
    await writer.write([{ path: a, text: `{"v":"${'x'.repeat(5000)}"}\n` }]);
    const inode = (await stat(a)).ino;
    expect(await writer.write([{ path: a, text: '{"v":"short é"}\n' }])).to.deep.equal([null]);
    expect(await readFile(a, 'utf8')).to.equal('{"v":"short é"}\n');
    expect(await writer.write([{ path: a, text: `{"v":"${'y'.repeat(9000)}"}\n` }])).to.deep.equal([null]);
    expect(JSON.parse(await readFile(a, 'utf8')).v).to.have.length(9000);
    expect((await stat(a)).ino).to.equal(inode);
  });

  it('writes a file given in parts, multi-byte characters included, beside whole texts and removals', async () => {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    const c = join(dir, 'c.json');
    await writeFile(c, 'to be removed');
    expect(
      await writer.write([
        { path: a, text: ['{"v":"é', '中😀', '"}\n'] },
        { path: c, text: null },
        { path: b, text: 'ß whole' },
        { path: join(dir, 'empty.json'), text: [] },
      ]),
    ).to.deep.equal([null, null, null, null]);
    expect(await readFile(a, 'utf8')).to.equal('{"v":"é中😀"}\n');
    expect(await readFile(b, 'utf8')).to.equal('ß whole');
    expect(await readFile(join(dir, 'empty.json'), 'utf8')).to.equal('');
    expect(existsSync(c)).to.equal(false);
    // A round of removals only has no bytes at all.
    expect(await writer.write([{ path: a, text: null }])).to.deep.equal([null]);
    expect(existsSync(a)).to.equal(false);
  });

  it('reports a file it cannot write by its own error, and writes the others of the round', async () => {
    await writeFile(join(dir, 'blocked'), 'a file where a directory should be');
    const [bad, good] = await writer.write([
      { path: join(dir, 'blocked', 'x.json'), text: '{"bad":1}' },
      { path: join(dir, 'ok', 'y.json'), text: '{"good":2}' },
    ]);
    expect(bad).to.match(/EEXIST|ENOTDIR/);
    expect(good).to.equal(null);
    expect(await readFile(join(dir, 'ok', 'y.json'), 'utf8')).to.equal('{"good":2}');
    // Once the way is clear, the same file is written (the thread does not trust its old answer).
    await rm(join(dir, 'blocked'));
    expect(await writer.write([{ path: join(dir, 'blocked', 'x.json'), text: '{}' }])).to.deep.equal([null]);
  });

  it('fails the round in flight if its thread dies, and starts a new thread for the next round', async () => {
    const round = writer.write([{ path: join(dir, 'a.json'), text: '{}' }]);
    await (writer as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    let failed: unknown;
    await round.catch((err: unknown) => (failed = err));
    expect(String(failed)).to.match(/exited/);
    expect(await writer.write([{ path: join(dir, 'b.json'), text: '{}' }])).to.deep.equal([null]);
    expect(existsSync(join(dir, 'b.json'))).to.equal(true);
  });
});

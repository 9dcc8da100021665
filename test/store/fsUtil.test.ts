// fsyncPath: what a checkpoint calls for every file it makes durable.

import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fsyncPath } from '../../src/store/fsUtil.js';

describe('fsyncPath', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'fsutil-'))));
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('flushes a file and a directory', async () => {
    const file = join(dir, 'doc.json');
    await writeFile(file, '{}');
    await fsyncPath(file);
    await fsyncPath(dir);
  });

  it('resolves for a path that no longer exists (nothing left to flush)', async () => {
    await fsyncPath(join(dir, 'gone.json'));
  });

  it('rejects with the system error for a path it cannot open', async () => {
    const file = join(dir, 'plain.json');
    await writeFile(file, '{}');
    const err = await fsyncPath(join(file, 'below-a-file')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(Error);
    expect((err as NodeJS.ErrnoException).code).to.equal('ENOTDIR');
  });
});

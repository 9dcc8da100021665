import { expect } from 'chai';
import { nodeCommandOf, productionCommand } from '../../bench/procs.js';

describe('bench procs', () => {
  it('reads node options and the entry from a start script', () => {
    expect(nodeCommandOf('node --v8-pool-size=1 dist/src/index.js')).to.deep.equal({
      nodeArgs: ['--v8-pool-size=1'],
      entry: 'dist/src/index.js',
    });
    expect(nodeCommandOf('node dist/src/index.js')).to.deep.equal({ nodeArgs: [], entry: 'dist/src/index.js' });
  });

  it('refuses a script it cannot run the same way', () => {
    for (const script of ['tsx src/index.ts', 'node', 'node --inspect', 'node a.js && echo done', 'FOO=1 node a.js'])
      expect(() => nodeCommandOf(script), script).to.throw(/expected "node \[--options\] <entry>"/);
  });

  it('starts the bot as npm run start:prod does', () => {
    const { nodeArgs, entry } = productionCommand();
    expect(entry).to.equal('dist/src/index.js');
    expect(nodeArgs).to.include('--v8-pool-size=1');
  });
});

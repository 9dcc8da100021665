import { expect } from 'chai';
import { cpuMsOf, nodeCommandOf, productionCommand } from '../../bench/procs.js';

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

  it('reads a process\'s CPU time and its main thread\'s, which the main thread\'s own work moves', () => {
    const [all, main] = [cpuMsOf(process.pid)!, cpuMsOf(process.pid, true)!];
    expect(main).to.be.at.most(all);
    // Busy on this thread until its CPU time has moved 100 ms (at most 10 s, on a crowded machine).
    const until = performance.now() + 10_000;
    while (cpuMsOf(process.pid, true)! - main < 100 && performance.now() < until) for (let i = 0; i < 1e6; i++);
    const mainMoved = cpuMsOf(process.pid, true)! - main;
    expect(mainMoved).to.be.at.least(100);
    expect(cpuMsOf(process.pid)! - all).to.be.at.least(mainMoved - 10); // one clock tick of slack
    expect(cpuMsOf(process.pid, true)!).to.be.at.most(cpuMsOf(process.pid)!);
    expect(cpuMsOf(2 ** 22 + 12345), 'a process that does not exist').to.equal(undefined);
  });
});

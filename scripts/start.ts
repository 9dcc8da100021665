import { spawn } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../src/config.js';
import { main, runUntilSignal } from '../src/index.js';

// `npm start`: the bot on its embedded defaults and, in local mode (no MicrosoftAppId), the
// Microsoft 365 Agents Playground wired to it, run from the repository root so it reads the demo's
// .m365agentsplayground.yml (its devTools/ log folder is git-ignored).

const PLAYGROUND_CLI = path.join(projectRoot, 'node_modules', '@microsoft', 'm365agentsplayground', 'cli.js');

await runUntilSignal(async () => {
  const bot = await main();
  if (!bot.config.localMode) {
    bot.logger.info('MicrosoftAppId is set: started the bot alone (no Playground).');
    return bot;
  }
  const port = Number(process.env.PLAYGROUND_PORT ?? 56150);
  const child = spawn(
    process.execPath,
    [PLAYGROUND_CLI, 'start', '--app-endpoint', `${bot.url}/api/messages`, '-p', String(port), '--disable-telemetry'],
    // No browser to open on a server; no telemetry leaves the machine.
    { cwd: projectRoot, env: { ...process.env, TEAMSAPPTESTER_BROWSER: 'none' }, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  let stopping = false;
  child.on('exit', (code) => {
    if (stopping) return;
    bot.logger.error({ code }, 'the Agents Playground exited; see devTools/m365agentsplayground.log');
    void bot.stop().then(() => process.exit(1));
  });
  const url = `http://localhost:${port}`;
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(url)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  process.stdout.write(
    `\n  F&O Support for Teams is running in local mode.\n` +
      `  Open the Agents Playground: ${url}\n` +
      `  You are Alex Wilber: type "report outage" in Personal Chat; the desk is the Support Desk channel.\n` +
      `  Bot endpoint: ${bot.url}/api/messages   Data: ${bot.config.DATA_DIR}   Stop: Ctrl+C\n\n`,
  );
  return {
    logger: bot.logger,
    stop: async () => {
      stopping = true;
      child.kill('SIGTERM');
      await bot.stop();
    },
  };
});

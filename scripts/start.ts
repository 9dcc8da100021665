import path from 'node:path';
import { projectRoot } from '../src/config.js';
import { main, runUntilSignal } from '../src/index.js';
import { type PlaygroundProcess, startPlayground } from './playgroundProcess.js';

// `npm start`: the bot on its embedded defaults and, in local mode (no MicrosoftAppId), the
// Microsoft 365 Agents Playground wired to it, run from the repository root so it reads the demo's
// .m365agentsplayground.yml (its devTools/ log folder is git-ignored). PLAYGROUND_PORT picks the
// Playground's port (default 56150; if it is taken the Playground picks another, printed below).
//
// The Playground runs in its own process group, so Ctrl+C reaches only this process: the bot stops
// first and finishes its in-flight turns (and their replies to the Playground) and writes, then
// the Playground stops.

await runUntilSignal(async () => {
  const bot = await main({ ownProcess: true });
  if (!bot.config.localMode) {
    bot.logger.info('MicrosoftAppId is set: started the bot alone (no Playground).');
    return bot;
  }
  const requested = Number(process.env.PLAYGROUND_PORT ?? 56150);
  let playground: PlaygroundProcess;
  try {
    playground = await startPlayground({
      botEndpoint: `${bot.url}/api/messages`,
      cwd: projectRoot,
      configPath: path.join(projectRoot, '.m365agentsplayground.yml'),
      port: requested,
    });
  } catch (err) {
    await bot.stop();
    throw err;
  }
  let stopping = false;
  void playground.exited.then((code) => {
    if (stopping) return;
    bot.logger.error({ code }, 'the Agents Playground exited; see devTools/m365agentsplayground.log');
    void bot.stop().then(() => process.exit(1));
  });
  if (playground.port !== requested) {
    bot.logger.warn({ requested, port: playground.port }, 'port taken: the Agents Playground uses another');
  }
  const config = await playground.config();
  const desk = config.teams[0]?.channels.find((c) => c.id !== config.teams[0]?.id)?.name ?? 'Support Desk';
  process.stdout.write(
    `\n  F&O Support for Teams is running in local mode.\n` +
      `  Open the Agents Playground: ${playground.url}\n` +
      `  You are ${config.currentUser.name}: type "report outage" in Personal Chat; the desk is the ${desk} channel.\n` +
      `  Bot endpoint: ${bot.url}/api/messages   Data: ${bot.config.DATA_DIR}   Stop: Ctrl+C\n` +
      `  Playground log: ${path.relative(projectRoot, playground.logFile)}\n\n`,
  );
  return {
    logger: bot.logger,
    stop: async () => {
      stopping = true;
      try {
        await bot.stop();
      } finally {
        await playground.stop();
      }
    },
  };
});

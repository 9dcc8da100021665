import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { activityHandler, createAdapter } from '../bot/adapter.js';
import { SupportBot } from '../bot/supportBot.js';
import { TeamsNotifier } from '../bot/teamsNotifier.js';
import { DeskService } from './desk/deskService.js';
import { Outbox, type OutboxPolicy } from './outbox/outbox.js';
import { OUTBOX_INDEXES } from './outbox/outboxItem.js';
import { DEADLINE_INDEXES, DeadlineScheduler } from './sla/deadlines.js';
import { type Config, loadConfig } from './config.js';
import { type Directory, loadDirectory } from './directory.js';
import { createLogger, type Logger } from './logger.js';
import { PLAN_INDEXES, PlanService } from './plans/planService.js';
import { makeServer } from './server.js';
import { INDEXES } from './services/collections.js';
import { ConversationService } from './services/conversationService.js';
import { OutageService } from './services/outageService.js';
import { openLowdbStore } from './store/lowdbStore.js';
import type { Store } from './store/store.js';
import { type Clock, systemClock } from './time.js';

// The one composition root: config, store, services, bot, server. Nothing else reads process.env
// or calls listen().

export interface Running {
  port: number;
  url: string;
  config: Config;
  directory: Directory;
  store: Store;
  logger: Logger;
  outbox: Outbox;
  deadlines: DeadlineScheduler;
  /** Stops taking requests, finishes those in flight and their writes, closes the store. */
  stop(): Promise<void>;
}

export interface MainOptions {
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  logger?: Logger;
  /** Wrap or replace the store (tests inject faults). */
  wrapStore?: (store: Store) => Store;
  /** Bot Framework authentication settings beyond the environment (tests: a local OpenID metadata URL). */
  auth?: Record<string, string>;
  /** Outbox retry and rate settings (tests shorten the waits). */
  outboxPolicy?: Partial<OutboxPolicy>;
}

export async function main(options: MainOptions = {}): Promise<Running> {
  const env = options.env ?? loadDotEnv();
  const config = loadConfig(env);
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const clock = options.clock ?? systemClock;
  if (config.localMode)
    logger.warn(
      'LOCAL MODE: MicrosoftAppId is empty, so /api/messages accepts requests WITHOUT authentication. ' +
        'Use it only with the Agents Playground on this machine; set MicrosoftAppId for Teams.',
    );
  const directory = await loadDirectory(config.DIRECTORY_FILE);
  const indexes = { ...INDEXES, ...OUTBOX_INDEXES, ...DEADLINE_INDEXES, ...PLAN_INDEXES };
  const opened = await openLowdbStore({ dir: config.DATA_DIR, indexes, logger: logger.child({ module: 'store' }) });
  const store = options.wrapStore ? options.wrapStore(opened) : opened;

  const desk = new DeskService({ store, directory, clock, logger: logger.child({ module: 'desk' }) });
  const plans = new PlanService({ store, directory, clock, logger: logger.child({ module: 'plans' }) });
  const outage = new OutageService({
    currentOrganization: async (user) => {
      const r = await plans.currentOrganization(user);
      return r.ok && r.value.remembered ? r.value.current.id : undefined;
    },
    store,
    directory,
    clock,
    logger: logger.child({ module: 'outage' }),
    newTicket: { ops: (t) => desk.newTicketOps(t), created: (t) => desk.ticketCreated(t) },
  });
  const conversations = new ConversationService({ store, logger, now: () => clock.now() });
  const adapter = createAdapter(config, logger, options.auth);
  const bot = new SupportBot({ outage, desk, conversations, plans, logger });
  const outbox = new Outbox({
    store,
    clock,
    logger,
    notifier: new TeamsNotifier({ adapter, appId: config.MicrosoftAppId, conversations, directory, logger }),
    onSent: (item, result) => desk.onSent(item, result),
    onPermanentFailure: (item, error) => desk.onPermanentFailure(item, error),
    ...(options.outboxPolicy ? { policy: options.outboxPolicy } : {}),
  });
  const deadlines = new DeadlineScheduler({
    store,
    clock,
    logger: logger.child({ module: 'sla' }),
    handle: (d, eTag) => desk.onDeadline(d, eTag),
  });
  desk.setHooks({ wakeOutbox: () => outbox.wake(), deadlinesAdded: (d) => deadlines.added(d) });
  await outbox.start();
  await deadlines.start();
  const app = makeServer({
    handleActivity: activityHandler(adapter, bot),
    logger,
    health: () => ({ store: 'lowdb', localMode: config.localMode }),
  });

  await new Promise<void>((resolve, reject) => {
    app.server.once('error', reject);
    app.server.listen(config.PORT, config.HOST, () => resolve());
  });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
  logger.info({ url: `${url}/api/messages`, dataDir: config.DATA_DIR, directory: config.DIRECTORY_FILE }, 'bot listening');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const grace = new Promise<void>((resolve) => setTimeout(resolve, config.SHUTDOWN_GRACE_SECONDS * 1000).unref());
      await Promise.race([app.drain(), grace]);
      await deadlines.stop();
      await Promise.race([outbox.stop(), grace]);
      await opened.close();
      logger.info('stopped');
    })());
  return { port, url, config, directory, store, logger, outbox, deadlines, stop };
}

/** `.env` in the working folder, if any, under the real environment (which wins). */
function loadDotEnv(): NodeJS.ProcessEnv {
  const file = path.resolve('.env');
  if (existsSync(file)) process.loadEnvFile(file);
  return process.env;
}

/** Runs main() with signal handling: SIGTERM/SIGINT finish in-flight writes, then exit. */
export async function runUntilSignal(start: () => Promise<Pick<Running, 'stop' | 'logger'>>): Promise<void> {
  const running = await start();
  let signalled = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.on(signal, () => {
      if (signalled) return;
      signalled = true;
      running.logger.info({ signal }, 'stopping');
      running.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          running.logger.error({ err }, 'stop failed');
          process.exit(1);
        },
      );
    });
}

const isEntry = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isEntry) {
  runUntilSignal(() => main()).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}


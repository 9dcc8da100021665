import { existsSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import { pathToFileURL } from 'node:url';
import { activityHandler, createAdapter } from '../bot/adapter.js';
import { IncidentDialogs, TicketFilesDialog } from '../bot/dialogs.js';
import { SupportBot } from '../bot/supportBot.js';
import { TeamsNotifier } from '../bot/teamsNotifier.js';
import { AttachmentFiles } from './attachments/attachmentFiles.js';
import { TeamsSso } from './auth/teamsSso.js';
import { DeskService } from './desk/deskService.js';
import { Outbox, type OutboxPolicy } from './outbox/outbox.js';
import { DeadlineScheduler } from './sla/deadlines.js';
import { type Config, loadConfig } from './config.js';
import { type Directory, loadDirectory } from './directory.js';
import type { UserContext } from './domain/user.js';
import { IncidentList } from './incidents/incidentList.js';
import { createLogger, type Logger } from './logger.js';
import { PlanService } from './plans/planService.js';
import { buildIssueSearch, type IssueSearch } from './search/issueSearch.js';
import { loadKb } from './search/loadKb.js';
import { makeServer } from './server.js';
import { APP_INDEXES, APP_PACKS } from './services/appIndexes.js';
import { ConversationService } from './services/conversationService.js';
import { IncidentService } from './services/incidentService.js';
import { OutageService } from './services/outageService.js';
import { openLowdbStore } from './store/lowdbStore.js';
import type { Store } from './store/store.js';
import { type Clock, systemClock } from './time.js';
import { WebBundler } from './web/bundle.js';
import { DialogSessions } from './web/dialogSessions.js';
import { incidentDraftValues } from './web/draftPrefill.js';
import { incidentRoutes } from './web/incidentRoutes.js';
import { searchRoutes } from './web/searchRoutes.js';
import { countSolved } from './web/solvedCounter.js';
import { tabRoutes } from './web/tabRoutes.js';
import { TicketFiles } from './web/ticketFiles.js';
import { webUserResolver } from './web/webUser.js';
import { webRoutes } from './web/webRoutes.js';

// The one composition root: config, store, services, bot, server. Nothing else reads process.env
// or calls listen().

export interface Running {
  port: number;
  url: string;
  config: Config;
  directory: Directory;
  search: IssueSearch;
  /** Submit an incident: the card flow, files, and the dialog page's formOptions/submitForm. */
  incidentService: IncidentService;
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
  /** How long a turn waits for the user's Teams profile (tests shorten it; default PROFILE_WAIT_MS). */
  profileWaitMs?: number;
  /** The process is the bot's own (not a test's): apply process-wide settings such as the heap's. */
  ownProcess?: boolean;
}

export async function main(options: MainOptions = {}): Promise<Running> {
  const env = options.env ?? loadDotEnv();
  const config = loadConfig(env);
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const clock = options.clock ?? systemClock;
  if (options.ownProcess) limitHeapGrowth(config.HEAP_GROWING_PERCENT, logger);
  if (config.localMode)
    logger.warn(
      'LOCAL MODE: MicrosoftAppId is empty, so /api/messages accepts requests WITHOUT authentication. ' +
        'Use it only with the Agents Playground on this machine; set MicrosoftAppId for Teams.',
    );
  const directory = await loadDirectory(config.DIRECTORY_FILE);
  // Issue search: loaded and indexed once, here; a bad line fails the start naming its line number.
  const kbLoadStart = performance.now();
  const kb = await loadKb(config.KB_FILE);
  const kbBuildStart = performance.now();
  const search = buildIssueSearch(kb);
  logger.info(
    { file: config.KB_FILE, entries: search.size, loadMs: Math.round(kbBuildStart - kbLoadStart), buildMs: Math.round(performance.now() - kbBuildStart) },
    'knowledge base indexed',
  );
  const opened = await openLowdbStore({ dir: config.DATA_DIR, indexes: APP_INDEXES, packs: APP_PACKS, logger: logger.child({ module: 'store' }) });
  const store = options.wrapStore ? options.wrapStore(opened) : opened;

  const desk = new DeskService({ store, directory, clock, logger: logger.child({ module: 'desk' }) });
  const attachmentFiles = new AttachmentFiles(path.join(config.DATA_DIR, 'attachments'));
  const plans = new PlanService({ store, directory, clock, logger: logger.child({ module: 'plans' }) });
  const incidentService = new IncidentService({
    store,
    directory,
    clock,
    logger: logger.child({ module: 'incident' }),
    plans,
    search,
    files: attachmentFiles,
    newTicket: { ops: (t) => desk.newTicketOps(t), created: (t, written) => desk.ticketCreated(t, written) },
  });
  const outage = new OutageService({
    currentOrganization: async (user) => {
      const r = await plans.currentOrganization(user);
      return r.ok && r.value.remembered ? r.value.current.id : undefined;
    },
    store,
    directory,
    clock,
    logger: logger.child({ module: 'outage' }),
    newTicket: { ops: (t) => desk.newTicketOps(t), created: (t, written) => desk.ticketCreated(t, written) },
    notListed: (user, draft) => incidentService.startFromOutage(user, draft),
  });
  const conversations = new ConversationService({ store, logger, now: () => clock.now() });
  const adapter = createAdapter(config, logger, options.auth);
  const incidents = new IncidentList({
    store,
    directory,
    clock,
    currentOrganization: async (user) => {
      const r = await plans.currentOrganization(user);
      return r.ok ? r.value.current.id : undefined;
    },
  });
  // The incident dialog (web/incidentDialog.html): opened by the bot, served by this server.
  const dialogSessions = new DialogSessions({ store, clock, logger });
  const solved = (user: UserContext, kbNumber: string, formKey: string) =>
    countSolved({ store, search, clock }, user, kbNumber, formKey);
  let ownUrl: string | undefined; // known once listening; the dialogs' default host in local mode
  const publicBaseUrl = () => config.PUBLIC_BASE_URL ?? (config.localMode ? ownUrl : undefined);
  const dialogs = new IncidentDialogs({
    incidents: incidentService,
    countSolved: solved,
    sessions: dialogSessions,
    draftValues: (user, draftId) => incidentDraftValues(store, user, draftId),
    publicBaseUrl,
    logger,
  });
  // The web pages' users: the demo user in local mode, else the user of a Teams SSO token.
  const webUsers = webUserResolver({
    directory,
    localMode: config.localMode,
    ...(config.localMode
      ? {}
      : {
          sso: new TeamsSso({
            appId: config.MicrosoftAppId,
            ...(config.PUBLIC_BASE_URL ? { host: new URL(config.PUBLIC_BASE_URL).host } : {}),
            ...(config.MicrosoftAppType === 'SingleTenant' ? { tenantId: config.MicrosoftAppTenantId } : {}),
            metadataUrl: config.TEAMS_SSO_OPENID_METADATA_URL,
            clock,
            logger,
          }),
        }),
  });
  // A ticket's attachments (the desk card's button): a dialog on this server, for those who may see the ticket.
  const ticketFiles = new TicketFiles({ store, files: attachmentFiles, sessions: dialogSessions, canSee: (u, t) => desk.canSee(u, t), logger });
  const ticketFilesDialog = new TicketFilesDialog({
    files: ticketFiles,
    publicBaseUrl,
    logger,
  });
  const bot = new SupportBot({
    outage,
    desk,
    conversations,
    plans,
    search,
    incidents,
    newIncident: incidentService,
    dialogs,
    ticketFiles: ticketFilesDialog,
    logger,
    ...(options.profileWaitMs !== undefined ? { profileWaitMs: options.profileWaitMs } : {}),
  });
  const outbox = new Outbox({
    store,
    clock,
    logger,
    notifier: new TeamsNotifier({ adapter, appId: config.MicrosoftAppId, conversations, directory, logger }),
    onPermanentFailure: (item, error) => desk.onPermanentFailure(item, error),
    render: (payload) => desk.render(payload),
    ...(options.outboxPolicy ? { policy: options.outboxPolicy } : {}),
  });
  const deadlines = new DeadlineScheduler({
    store,
    clock,
    logger: logger.child({ module: 'sla' }),
    handle: (d) => desk.onDeadline(d),
  });
  desk.setHooks({ wakeOutbox: (ids) => outbox.wake(ids), deadlinesChanged: (id, pending) => deadlines.track(id, pending) });
  await outbox.start();
  await deadlines.start();
  const app = makeServer({
    handleActivity: activityHandler(adapter, bot),
    logger,
    health: () => ({ store: 'lowdb', localMode: config.localMode }),
    routes: [
      // Pages in web/, bundled on first request.
      webRoutes({
        bundler: new WebBundler(),
        pages: [
          { route: '/dialogs/incident', page: 'incidentDialog' },
          { route: '/tab/incidents', page: 'incidentsTab' },
          // The manifest's websiteUrl, privacyUrl and termsOfUseUrl.
          { route: '/', page: 'about' },
          { route: '/privacy', page: 'privacy' },
          { route: '/terms', page: 'terms' },
        ],
        logger,
      }),
      searchRoutes({ search, logger }),
      incidentRoutes({
        incidents: incidentService,
        countSolved: solved,
        sessions: dialogSessions,
        users: webUsers,
        logger,
      }),
      tabRoutes({ incidents, store, directory, clock, users: webUsers, botId: config.MicrosoftAppId || undefined, files: ticketFiles, logger }),
      ticketFiles.routes(),
    ],
  });

  await new Promise<void>((resolve, reject) => {
    app.server.once('error', reject);
    app.server.listen(config.PORT, config.HOST, () => resolve());
  });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
  ownUrl = url;
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
  return { port, url, config, directory, search, incidentService, store, logger, outbox, deadlines, stop };
}

/** `.env` in the working folder, if any, under the real environment (which wins). */
function loadDotEnv(): NodeJS.ProcessEnv {
  const file = path.resolve('.env');
  if (existsSync(file)) process.loadEnvFile(file);
  return process.env;
}

/**
 * Caps how far V8 grows the heap past the live data after each full collection. Left to itself it
 * grows the heap up to four times the live data while turns allocate fast, and keeps it: the bot
 * held 460-570 MB after a load whose live data was 80-110 MB. The tighter the cap, the more often
 * the heap is marked whole: under the acknowledgement load, 20 % meant a full collection every
 * second. V8 reads the flag at every full collection, so setting it once at start is enough.
 */
function limitHeapGrowth(percent: number, logger: Logger): void {
  if (percent <= 0) return;
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  logger.info({ heapGrowingPercent: percent }, 'heap growth limited');
}

/** Runs main() with signal handling: SIGTERM/SIGINT finish in-flight writes, then exit. */
export async function runUntilSignal(start: () => Promise<Pick<Running, 'stop' | 'logger'>>): Promise<void> {
  const running = await start();
  // How long callbacks waited for the event loop while the bot served: a long task shows here.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let signalled = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.on(signal, () => {
      if (signalled) return;
      signalled = true;
      // Memory as the process ends its life: what it held (heap used) against what it kept (RSS).
      const mb = (n: number) => Math.round(n / 1024 / 1024);
      const m = process.memoryUsage();
      running.logger.info(
        {
          signal,
          rssMb: mb(m.rss),
          heapUsedMb: mb(m.heapUsed),
          heapTotalMb: mb(m.heapTotal),
          externalMb: mb(m.external),
          loopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e6),
          loopDelayMaxMs: Math.round(loopDelay.max / 1e6),
        },
        'stopping',
      );
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
  runUntilSignal(() => main({ ownProcess: true })).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}


import restify from 'restify';
import type { Logger } from './logger.js';

export interface ActivityResult {
  status: number;
  body?: unknown;
}

/** Runs one activity (the Teams layer provides it): authentication, the turn, the invoke response. */
export type ActivityHandlerFn = (authHeader: string, body: unknown) => Promise<ActivityResult>;

export interface ServerDeps {
  handleActivity: ActivityHandlerFn;
  logger: Logger;
  /** Extra facts for /healthz (store kind, local mode). */
  health?: () => Record<string, unknown>;
  /** More routes (web pages, their APIs), each registered by its own module. */
  routes?: ((server: restify.Server) => void)[];
}

export interface AppServer {
  server: restify.Server;
  /** Stops accepting requests and resolves when those in flight have answered. */
  drain(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024; // Teams activities are far smaller; this bounds a hostile body

/**
 * restify 11's body reader starts every request's body with the deprecated `new Buffer(0)`. Until
 * DEP0005 has been emitted once, Node walks the caller's stack on each such call, for the first
 * 10,000 calls, to see whether it comes from node_modules (about 2 % of a turn's time in the
 * benchmarks). Emitting it once, silenced, from here ends the checks; every other deprecation
 * still warns. Done once per process.
 */
let bufferDeprecationSettled = false;
function settleBufferDeprecation(): void {
  if (bufferDeprecationSettled) return;
  bufferDeprecationSettled = true;
  const noDeprecation = process.noDeprecation;
  process.noDeprecation = true;
  try {
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    new Buffer(0); // NOSONAR: called on purpose, see above
  } finally {
    process.noDeprecation = noDeprecation;
  }
}

/** Builds the HTTP server as a value; the caller listens (tests on port 0). */
export function makeServer(deps: ServerDeps): AppServer {
  const log = deps.logger.child({ module: 'server' });
  settleBufferDeprecation();
  const server = restify.createServer({ name: 'fo-support-teams', handleUncaughtExceptions: false });
  let inFlight = 0;
  let draining = false;
  let idle: (() => void) | undefined;

  // restify limits the compressed size only, then inflates without a limit: a 50 KB gzip body can
  // become gigabytes. Teams never compresses activities, so refuse any encoding before parsing.
  server.pre((req, res, next) => {
    const encoding = (req.header('content-encoding') ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity' && encoding !== '') {
      res.send(415, { error: 'unsupported_encoding', message: 'Send the activity uncompressed.' });
      return next(false);
    }
    return next();
  });
  server.use(restify.plugins.bodyParser({ maxBodySize: MAX_BODY_BYTES, mapParams: false, rejectUnknown: true }));

  // restify 11 rejects a handler that is neither async nor takes next().
  server.get('/healthz', async (_req, res) => {
    res.send(draining ? 503 : 200, { status: draining ? 'draining' : 'ok', ...(deps.health?.() ?? {}) });
  });

  for (const register of deps.routes ?? []) register(server);

  server.post('/api/messages', async (req, res) => {
    if (draining) {
      res.send(503, { error: 'shutting_down' });
      return;
    }
    if (!req.is('json') || req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
      res.send(400, { error: 'bad_request', message: 'Expected a JSON activity.' });
      return;
    }
    inFlight++;
    try {
      const auth = req.header('authorization') ?? '';
      const result = await deps.handleActivity(auth, req.body);
      if (result.body === undefined) {
        res.status(result.status);
        res.end();
      } else res.send(result.status, result.body);
    } catch (err) {
      log.error({ err }, 'activity failed');
      if (!res.headersSent) res.send(500, { error: 'internal_error' });
    } finally {
      inFlight--;
      if (draining && inFlight === 0) idle?.();
    }
  });

  return {
    server,
    drain: () =>
      new Promise<void>((resolve) => {
        draining = true;
        server.close();
        if (inFlight === 0) resolve();
        else idle = resolve;
      }),
  };
}

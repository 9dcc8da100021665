// A local Bot-Connector-like HTTP server for delivery tests: records every request, and answers
// 429 (with Retry-After), 500 or 403 on demand, per conversation, or at a seeded random rate.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../src/time.js';
import { seededRandom } from '../../src/seededRandom.js';

export interface Fault {
  status: number;
  /** Retry-After header value, e.g. '2' or an HTTP-date. */
  retryAfter?: string;
}

export interface ConnectorRequest {
  n: number;
  /** Arrival time by the server's clock (ms). */
  at: number;
  kind: 'post' | 'reply' | 'update';
  conversationId: string;
  /** reply: the thread (replyToId); update: the activity updated. */
  activityId?: string;
  /** The outbox item id the notifier put in channelData. */
  itemId?: string;
  body: Record<string, unknown>;
  /** What the server answered. */
  status: number;
  /** The id of the activity created (post, reply). */
  createdId?: string;
}

const ROUTE = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?\/?$/;

export class ConnectorServer {
  /** Every request, in arrival order, with the answer given. */
  readonly requests: ConnectorRequest[] = [];
  private readonly activities = new Map<string, { conversationId: string; body: unknown }>();
  private readonly scripted: (Fault | 'pass')[] = [];
  private readonly perConversation = new Map<string, Fault>();
  private random?: { rate: number; faults: Fault[]; next: () => number };
  private hangNext = 0;
  private readonly hung: ServerResponse[] = [];
  private ids = 0;

  private constructor(
    private readonly server: Server,
    private readonly clock: Clock,
  ) {}

  /** Listens on 127.0.0.1 on a free port. */
  static async start(options: { clock?: Clock } = {}): Promise<ConnectorServer> {
    let self!: ConnectorServer;
    const server = createServer((req, res) => void self.handle(req, res));
    self = new ConnectorServer(server, options.clock ?? systemClock);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Requests that were accepted (2xx): what the users saw. */
  delivered(): ConnectorRequest[] {
    return this.requests.filter((r) => r.status < 300);
  }

  /** Answers the next requests (any conversation) with these faults, in order ('pass': normally). */
  failNext(...faults: (Fault | 'pass')[]): this {
    this.scripted.push(...faults);
    return this;
  }

  /** Answers every request for this conversation with `fault` (e.g. 403: the bot was removed). */
  failConversation(conversationId: string, fault: Fault): this {
    this.perConversation.set(conversationId, fault);
    return this;
  }

  /** Fails `rate` of requests with one of `faults`, chosen by a PRNG seeded with `seed`. */
  failRandomly(rate: number, faults: Fault[], seed: number): this {
    this.random = { rate, faults, next: seededRandom(seed) };
    return this;
  }

  /** Never answers the next `n` requests (until close), and does not count them as delivered. */
  hang(n = 1): this {
    this.hangNext += n;
    return this;
  }

  /** Stops failing. */
  heal(): this {
    this.scripted.length = 0;
    this.perConversation.clear();
    this.random = undefined;
    return this;
  }

  async close(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const match = ROUTE.exec(new URL(req.url ?? '/', 'http://x').pathname);
    if (!match || (req.method !== 'POST' && req.method !== 'PUT'))
      return reply(res, 404, { error: 'no route' });
    const conversationId = decodeURIComponent(match[1]!);
    const activityId = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
    const kind = req.method === 'PUT' ? 'update' : activityId ? 'reply' : 'post';
    if (kind === 'update' && !activityId) return reply(res, 404, { error: 'no route' });
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return reply(res, 400, { error: 'bad json' }); // the answer is the handling
    }
    const channelData = body.channelData as { outboxItemId?: string } | undefined;
    const record: ConnectorRequest = {
      n: this.requests.length + 1,
      at: this.clock.now().getTime(),
      kind,
      conversationId,
      activityId,
      itemId: channelData?.outboxItemId,
      body,
      status: 0,
    };
    this.requests.push(record);
    if (this.hangNext > 0) {
      this.hangNext -= 1;
      record.status = 599; // never answered
      this.hung.push(res);
      return;
    }
    const fault = this.faultFor(conversationId);
    if (fault) {
      record.status = fault.status;
      const headers: Record<string, string> =
        fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter };
      return reply(res, fault.status, { error: { code: `HTTP${fault.status}` } }, headers);
    }
    if (kind === 'update') {
      const existing = this.activities.get(activityId!);
      if (!existing || existing.conversationId !== conversationId) {
        record.status = 404;
        return reply(res, 404, { error: { code: 'ActivityNotFound' } });
      }
      existing.body = body;
      record.status = 200;
      return reply(res, 200, { id: activityId });
    }
    const id = `act-${++this.ids}`;
    this.activities.set(id, { conversationId, body });
    record.status = 201;
    record.createdId = id;
    return reply(res, 201, { id });
  }

  private faultFor(conversationId: string): Fault | undefined {
    const pinned = this.perConversation.get(conversationId);
    if (pinned) return pinned;
    const scripted = this.scripted.shift();
    if (scripted) return scripted === 'pass' ? undefined : scripted;
    if (this.random && this.random.next() < this.random.rate) {
      const { faults, next } = this.random;
      return faults[Math.floor(next() * faults.length)];
    }
    return undefined;
  }
}

function reply(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

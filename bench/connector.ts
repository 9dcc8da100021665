// A local Bot Connector for the benchmark: answers what the bot calls back (the member lookup that
// prefills the contact card, posts, thread replies and card updates), counts them, and can answer
// a seeded share of posts with 429 + Retry-After. It keeps counters, not bodies, so a long run
// does not grow the runner's memory.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from '../src/seededRandom.js';

export interface Delivery {
  /** Arrival, epoch ms with sub-millisecond precision. */
  at: number;
  kind: 'post' | 'reply' | 'update';
  conversationId: string;
  itemId?: string;
  text?: string;
  status: number;
}

const PROFILES: Record<string, { name: string; email: string; aadObjectId: string }> = {
  'user-id-0': { name: 'Alex Wilber', email: 'alexw@example.com', aadObjectId: '00000000-0000-0000-0000-0000000000020' },
  'user-id-4': { name: 'Patti Fernandez', email: 'pattif@example.com', aadObjectId: '00000000-0000-0000-0000-0000000000024' },
};

const ACTIVITIES = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?\/?$/;
const MEMBER = /^\/v3\/conversations\/([^/]+)\/members\/([^/?]+)$/;

export const epochNow = () => performance.timeOrigin + performance.now();

export class BenchConnector {
  memberLookups = 0;
  /** Answered 2xx, by kind. */
  delivered = { post: 0, reply: 0, update: 0 };
  throttled = 0;
  private listeners: ((d: Delivery) => void)[] = [];
  private fail: { rate: number; retryAfter: string; next: () => number } | undefined;
  private ids = 0;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<BenchConnector> {
    let self!: BenchConnector;
    const server = createServer((req, res) => void self.handle(req, res));
    server.keepAliveTimeout = 60_000;
    self = new BenchConnector(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  get deliveredTotal(): number {
    return this.delivered.post + this.delivered.reply + this.delivered.update;
  }

  /** Answers `rate` of activity requests with 429 and this Retry-After (seconds). */
  failRandomly(rate: number, retryAfter: string, seed = 7): void {
    this.fail = { rate, retryAfter, next: seededRandom(seed) };
  }

  heal(): void {
    this.fail = undefined;
  }

  reset(): void {
    this.memberLookups = 0;
    this.delivered = { post: 0, reply: 0, update: 0 };
    this.throttled = 0;
  }

  /** Called for every activity request, with the answer given. Returns an unsubscribe. */
  onActivity(fn: (d: Delivery) => void): () => void {
    this.listeners.push(fn);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== fn);
    };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const at = epochNow();
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const member = MEMBER.exec(path);
    if (req.method === 'GET' && member) {
      this.memberLookups += 1;
      const p = PROFILES[decodeURIComponent(member[2]!)];
      if (!p) return reply(res, 404, { error: { code: 'MemberNotFound' } });
      return reply(res, 200, { id: member[2], name: p.name, email: p.email, userPrincipalName: p.email, aadObjectId: p.aadObjectId });
    }
    const match = ACTIVITIES.exec(path);
    if (!match || (req.method !== 'POST' && req.method !== 'PUT')) return reply(res, 404, { error: 'no route' });
    const kind = req.method === 'PUT' ? 'update' : match[2] ? 'reply' : 'post';
    let body: { text?: string; channelData?: { outboxItemId?: string } } = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return reply(res, 400, { error: 'bad json' }); // the answer is the handling
    }
    const delivery: Delivery = {
      at,
      kind,
      conversationId: decodeURIComponent(match[1]!),
      itemId: body.channelData?.outboxItemId,
      text: typeof body.text === 'string' ? body.text : undefined,
      status: 0,
    };
    if (this.fail && this.fail.next() < this.fail.rate) {
      this.throttled += 1;
      delivery.status = 429;
      for (const l of this.listeners) l(delivery);
      return reply(res, 429, { error: { code: 'TooManyRequests' } }, { 'retry-after': this.fail.retryAfter });
    }
    this.delivered[kind] += 1;
    delivery.status = kind === 'update' ? 200 : 201;
    for (const l of this.listeners) l(delivery);
    return reply(res, delivery.status, { id: kind === 'update' ? decodeURIComponent(match[2]!) : `act-${++this.ids}` });
  }
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

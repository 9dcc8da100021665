import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { main, type MainOptions, type Running } from '../../src/index.js';
import { silentLogger } from '../../src/logger.js';
import { DEMO_DIRECTORY_FILE, TENANT } from './fixtures.js';

// Turn-level tests over real HTTP: the bot on port 0 with its real store in a temp folder, and a
// local connector server (the Bot Connector API the bot calls back) that records every call.

export interface RecordedCall {
  method: string;
  path: string;
  body: any;
  headers: http.IncomingHttpHeaders;
}

export interface Connector {
  url: string;
  calls: RecordedCall[];
  /** Answer the next calls matching `match` with this status (e.g. 429, 500, 403). */
  failNext(match: RegExp, status: number, times?: number, headers?: Record<string, string>): void;
  /** Never answer the next calls matching `match` (until stop): a service that hangs. */
  stallNext(match: RegExp, times?: number): void;
  /** Answer normally again: drops what failNext and stallNext still had to do. */
  heal(): void;
  /** Resolves once every stalled call's client has given up on it (closed its connection). */
  stalledDropped(): Promise<void>;
  stop(): Promise<void>;
}

const PROFILES: Record<string, { name: string; email: string; aadObjectId: string }> = {
  'user-id-0': { name: 'Alex Wilber', email: 'alexw@example.com', aadObjectId: '00000000-0000-0000-0000-0000000000020' },
  'user-id-1': { name: 'Megan Bowen', email: 'meganb@example.com', aadObjectId: '00000000-0000-0000-0000-0000000000021' },
};

export async function startConnector(): Promise<Connector> {
  const calls: RecordedCall[] = [];
  const failures: { match: RegExp; status: number; times: number; headers: Record<string, string> }[] = [];
  const stalls: { match: RegExp; times: number }[] = [];
  const stalled: { res: http.ServerResponse; closed: Promise<void> }[] = [];
  let counter = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = raw ? JSON.parse(raw) : undefined;
      const url = req.url ?? '';
      calls.push({ method: req.method ?? '', path: url, body, headers: req.headers });
      const stall = stalls.find((f) => f.times > 0 && f.match.test(url));
      if (stall) {
        stall.times--;
        stalled.push({ res, closed: new Promise<void>((r) => res.on('close', () => r())) });
        return;
      }
      const failure = failures.find((f) => f.times > 0 && f.match.test(url));
      if (failure) {
        failure.times--;
        res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers });
        res.end(JSON.stringify({ error: { code: 'Injected', message: `injected ${failure.status}` } }));
        return;
      }
      res.setHeader('content-type', 'application/json');
      const member = /\/v3\/conversations\/[^/]+\/members\/([^/?]+)/.exec(url);
      if (req.method === 'GET' && member) {
        const p = PROFILES[decodeURIComponent(member[1]!)];
        if (!p) {
          res.writeHead(404);
          res.end(JSON.stringify({ error: { code: 'MemberNotFound' } }));
          return;
        }
        res.end(JSON.stringify({ id: member[1], name: p.name, email: p.email, userPrincipalName: p.email, aadObjectId: p.aadObjectId }));
        return;
      }
      res.end(JSON.stringify({ id: `activity-${++counter}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    calls,
    failNext: (match, status, times = 1, headers = {}) => failures.push({ match, status, times, headers }),
    stallNext: (match, times = 1) => stalls.push({ match, times }),
    stalledDropped: async () => void (await Promise.all(stalled.map((s) => s.closed))),
    heal: () => {
      failures.splice(0);
      stalls.splice(0);
    },
    stop: () => {
      for (const { res } of stalled.splice(0)) res.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

export interface BotUnderTest {
  running: Running;
  url: string;
  dataDir: string;
  post(body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export async function startBot(
  opts: { dataDir?: string; env?: NodeJS.ProcessEnv } & Omit<MainOptions, 'env'> = {},
): Promise<BotUnderTest> {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'fo-bot-'));
  const running = await main({
    ...opts,
    logger: opts.logger ?? silentLogger,
    env: { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, DIRECTORY_FILE: DEMO_DIRECTORY_FILE, LOG_LEVEL: 'silent', ...opts.env },
  });
  return {
    running,
    url: running.url,
    dataDir,
    post: async (body, headers = {}) => {
      const res = await fetch(`${running.url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text, the test asserts on it
      }
      return { status: res.status, body: parsed };
    },
    stop: () => running.stop(),
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface Who {
  id: string;
  name: string;
  aadObjectId: string;
}
export const ALEX: Who = { id: 'user-id-0', name: 'Alex Wilber', aadObjectId: '00000000-0000-0000-0000-0000000000020' };
export const MEGAN: Who = { id: 'user-id-1', name: 'Megan Bowen', aadObjectId: '00000000-0000-0000-0000-0000000000021' };
export const ISAIAH: Who = { id: 'user-id-3', name: 'Isaiah Langer', aadObjectId: '00000000-0000-0000-0000-0000000000023' };
export const PATTI: Who = { id: 'user-id-4', name: 'Patti Fernandez', aadObjectId: '00000000-0000-0000-0000-0000000000024' };
/** The demo desk channel (config/directory.demo.json), as a thread in it. */
export const deskThread = (rootId = 'desk-root'): Conv => ({ id: `channel-support-desk-id;messageid=${rootId}`, conversationType: 'channel' });

export interface Conv {
  id: string;
  conversationType: 'personal' | 'groupChat' | 'channel';
}
export const personal = (id = `a:personal-${randomUUID()}`): Conv => ({ id, conversationType: 'personal' });

function base(serviceUrl: string, who: Who, conv: Conv) {
  return {
    id: randomUUID(),
    channelId: 'msteams',
    serviceUrl,
    timestamp: new Date().toISOString(),
    localTimezone: 'America/New_York',
    from: { id: who.id, name: who.name, aadObjectId: who.aadObjectId },
    recipient: { id: '28:bot', name: 'F&O Support' },
    conversation: { id: conv.id, conversationType: conv.conversationType, tenantId: TENANT },
    channelData: { tenant: { id: TENANT } },
  };
}

export function message(serviceUrl: string, who: Who, conv: Conv, text: string) {
  return { ...base(serviceUrl, who, conv), type: 'message', text, deliveryMode: 'expectReplies' };
}

export function invoke(serviceUrl: string, who: Who, conv: Conv, verb: string, data: Record<string, unknown>, replyToId = 'card-1') {
  return {
    ...base(serviceUrl, who, conv),
    type: 'invoke',
    name: 'adaptiveCard/action',
    replyToId,
    value: { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' },
  };
}

/** The Adaptive Card in an expectReplies response or an invoke response. */
export function cardOf(body: any): any {
  if (body?.type === 'application/vnd.microsoft.card.adaptive') return body.value;
  const activity = body?.activities?.find((a: any) => a.attachments?.length);
  return activity?.attachments?.[0]?.content;
}

/** All text a person would read on a card: TextBlocks, facts, input labels and values, buttons. */
export function cardText(card: any): string {
  const out: string[] = [];
  const walk = (n: any) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    if (n.type === 'TextBlock') out.push(n.text);
    if (n.type === 'FactSet') n.facts.forEach((f: any) => out.push(`${f.title}: ${f.value}`));
    if (typeof n.type === 'string' && n.type.startsWith('Input.')) out.push(`[${n.label ?? n.title ?? n.id}=${n.value ?? ''}]`);
    if (typeof n.type === 'string' && n.type.startsWith('Action.')) out.push(`(${n.title})`);
    Object.values(n).forEach(walk);
  };
  walk(card);
  return out.join('\n');
}

/** The data an Action.Execute button carries (draftId, rev), wherever it is (ShowCard included). */
export function actionData(card: any, verb: string): Record<string, unknown> {
  let found: any;
  const walk = (n: any) => {
    if (found || !n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(walk);
    if (n.type === 'Action.Execute' && n.verb === verb) found = n;
    Object.values(n).forEach(walk);
  };
  walk(card);
  if (!found) throw new Error(`no ${verb} button on card:\n${cardText(card)}`);
  return found.data;
}

/** Current value of each input on the card, as Teams would send them with an Action.Execute. */
export function inputValues(card: any): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (n: any) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    if (typeof n.type === 'string' && n.type.startsWith('Input.') && n.id) out[n.id] = n.value ?? '';
    Object.values(n).forEach(walk);
  };
  walk(card.body);
  walk(card.actions);
  return out;
}

// The load generator, run by bench/run.ts in its own process so that it never shares a CPU budget
// or an event loop with the bot it measures:
//   node --import tsx bench/loadgen.ts '{"scenario":"help","url":"http://127.0.0.1:3978",...}'
// It prints one JSON line. Two drivers run the same scenario steps:
//   - as fast as the bot answers: autocannon (keep-alive connections, one request in flight per
//     connection); latency is timed per request from the moment autocannon builds it (just before
//     writing it to the socket) to the moment the whole response is parsed, in fractional ms;
//   - paced (`ratePerS`): each connection a conversation sending its next turn on a timetable, over
//     node:http with keep-alive (see paced()).
//
// Scenarios:
//   echo    "hello" to the echo bot
//   help    "help" to our bot (it answers with a card)
//   outage  each connection is one conversation at a time, going report outage -> confirm ->
//           details -> contact; draftId and rev are threaded from each response to the next
//           request (autocannon `requests` with setupRequest/onResponse and a per-connection
//           context); a finished report frees its conversation for the next cycle
//   ack     desk.acknowledge, each pre-created ticket exactly once, by a desk member

import http from 'node:http';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { ALEX, actionData, cardOf, cardText, type Conv, DESK_THREAD, invoke, message, PATTI } from './activities.js';
import { readArg } from './procs.js';
import { type Percentiles, percentiles } from './stats.js';

export type { Percentiles };

export interface LoadSpec {
  scenario: 'echo' | 'help' | 'outage' | 'ack';
  url: string;
  /** The local connector the bot calls back (member lookup, proactive posts). */
  serviceUrl: string;
  connections: number;
  durationS: number;
  /** ack: the tickets to acknowledge, each once. */
  ticketIds?: string[];
  /** Stop after this many requests instead of after durationS. */
  amount?: number;
  /**
   * Paced instead of as fast as the bot answers: this many turns per second in all, each
   * connection one conversation sending a turn every connections / ratePerS seconds (its next turn
   * waits for the answer, and goes at once if the answer came later than its time).
   */
  ratePerS?: number;
  /** Return every latency sample too (`samples`), so that several runs can be pooled. */
  keepSamples?: boolean;
}

export interface LoadResult {
  scenario: string;
  connections: number;
  durationS: number;
  /** Responses that were 2xx and carried what the step should show. */
  ok: number;
  rps: number;
  latency: Percentiles;
  steps: Record<string, Percentiles>;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** 2xx answers that did not show what they should (an error card, a missing button). */
  wrong: number;
  wrongSamples: string[];
  /** outage: reports that reached "Outage reported". */
  completedReports?: number;
  /** Paced: turns that went out more than one interval after their time (the previous answer was that late). */
  late?: number;
  /** Every latency in ms, in no particular order (with keepSamples). */
  samples?: number[];
}

type Recorder = (step: string, ctx: Ctx, status: number, good: boolean, body: string) => void;
type Counts = Pick<LoadResult, 'non2xx' | 'errors' | 'timeouts' | 'late'>;

interface Step {
  name: string;
  build: (c: Ctx) => unknown | null;
  check: (status: number, body: string, c: Ctx) => boolean;
}

const PATH = '/api/messages';

/**
 * As fast as the bot answers: autocannon, one request in flight per connection. The first request
 * of each connection is answered and counted, but its latency is left out of the samples: it
 * carries the connection's setup, and when autocannon opens its 50 connections at once, their
 * first requests came back one after another, the last up to 200 ms late, from a plain node:http
 * server that answers in 0.4 ms as from either bot (2026-11-22). In a run of 400 requests that was
 * an eighth of the samples, and it decided the p99.
 */
async function saturate(spec: LoadSpec, steps: Step[], record: Recorder): Promise<Counts> {
  // autocannon builds every connection's first request before any other.
  let built = 0;
  const requests: autocannon.Request[] = steps.map((step) => ({
    setupRequest: (req: any, context: Ctx) => {
      const activity = step.build(context);
      if (activity === null) return null as never; // autocannon starts the cycle over
      context.setup = built++ < spec.connections;
      context.t0 = performance.now();
      return { ...req, method: 'POST', path: PATH, body: JSON.stringify(activity) };
    },
    onResponse: (status: number, body: string, context: Ctx) => record(step.name, context, status, step.check(status, body, context), body),
  }));
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    duration: spec.durationS,
    ...(spec.amount ? { amount: spec.amount } : {}),
    timeout: 30,
    headers: { 'content-type': 'application/json' },
    requests,
  });
  return { non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts };
}

/**
 * At a fixed rate: each connection is a conversation that sends its next turn on a timetable
 * (every connections / ratePerS seconds, the conversations spread evenly over that interval), over
 * keep-alive HTTP. Latency is timed from the moment a request is written to the end of its answer.
 * (autocannon's own rate limit sends each second's requests back to back at the start of the
 * second, which would measure bursts, not a steady load.)
 */
async function paced(spec: LoadSpec, steps: Step[], record: Recorder): Promise<Counts> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const target = new URL(PATH, spec.url);
  const intervalMs = (spec.connections / spec.ratePerS!) * 1000;
  const end = performance.now() + spec.durationS * 1000;
  const counts = { non2xx: 0, errors: 0, timeouts: 0, late: 0 };
  let sent = 0;
  const send = (body: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(target, { method: 'POST', agent, headers: { 'content-type': 'application/json' }, timeout: 30_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', reject);
      req.end(body);
    });
  const conversation = async (i: number) => {
    const context: Ctx = {};
    let at = performance.now() + (i * intervalMs) / spec.connections;
    let step = 0;
    while (at < end && (!spec.amount || sent < spec.amount)) {
      const wait = at - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else if (wait < -intervalMs) counts.late += 1;
      const activity = steps[step]!.build(context);
      if (activity === null) {
        step = 0; // start the cycle over, at once
        continue;
      }
      at = Math.max(at + intervalMs, performance.now());
      sent += 1;
      const name = steps[step]!.name;
      context.t0 = performance.now();
      try {
        const res = await send(JSON.stringify(activity));
        if (res.status < 200 || res.status >= 300) counts.non2xx += 1;
        record(name, context, res.status, steps[step]!.check(res.status, res.body, context), res.body);
      } catch (err) {
        if ((err as { code?: string }).code === 'TIMEOUT') counts.timeouts += 1;
        else counts.errors += 1;
        context.failed = true;
      }
      step = (step + 1) % steps.length;
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, (_, i) => conversation(i)));
  agent.destroy();
  return counts;
}

interface Ctx {
  t0?: number;
  /** The connection's first request: counted, its latency not sampled (see saturate()). */
  setup?: boolean;
  conv?: Conv;
  draft?: Record<string, unknown>;
  failed?: boolean;
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const all: number[] = [];
  const byStep: Record<string, number[]> = {};
  const wrongSamples: string[] = [];
  let wrong = 0;
  let ok = 0;
  let completedReports = 0;
  const record = (step: string, ctx: Ctx, status: number, good: boolean, body: string) => {
    const ms = performance.now() - (ctx.t0 ?? performance.now());
    if (status >= 200 && status < 300) {
      if (good) {
        ok += 1;
        if (!ctx.setup) {
          all.push(ms);
          (byStep[step] ??= []).push(ms);
        }
      } else {
        wrong += 1;
        if (wrongSamples.length < 3) wrongSamples.push(`${step}: ${body.slice(0, 400)}`);
      }
    }
  };
  const parse = (body: string): any => {
    try {
      return JSON.parse(body);
    } catch {
      return undefined;
    }
  };
  // Each scenario is a cycle of steps: what the step sends (null: start the cycle over, with a new
  // conversation) and whether its answer showed what it should. Both drivers below run the same
  // steps: autocannon as fast as the bot answers, or paced at a fixed rate.
  let steps: Step[];
  let convCounter = 0;
  const freshConv = (): Conv => ({ id: `a:bench-${process.pid}-${++convCounter}`, conversationType: 'personal' });
  const pool: Conv[] = Array.from({ length: spec.connections }, freshConv);
  const roundRobin = () => pool[convCounter++ % pool.length]!;

  switch (spec.scenario) {
    case 'echo':
    case 'help': {
      const text = spec.scenario === 'echo' ? 'hello' : 'help';
      const expect = spec.scenario === 'echo' ? 'Echo: hello' : 'report outage';
      steps = [
        {
          name: spec.scenario,
          build: () => message(spec.serviceUrl, ALEX, roundRobin(), text),
          check: (_status, body) => {
            const parsed = parse(body);
            const shown = spec.scenario === 'echo' ? (parsed?.activities?.[0]?.text ?? '') : cardText(cardOf(parsed));
            return shown.includes(expect);
          },
        },
      ];
      break;
    }
    case 'outage': {
      // Each step: the request it sends, and what its answer must carry for the next step.
      const flow: { name: string; build: (c: Ctx) => unknown; next?: string; expect?: string }[] = [
        { name: 'report outage', build: (c) => message(spec.serviceUrl, ALEX, c.conv!, 'report outage'), next: 'outage.confirm' },
        {
          name: 'confirm',
          build: (c) => invoke(spec.serviceUrl, ALEX, c.conv!, 'outage.confirm', { ...c.draft, confirmed: 'true', scenarioId: 'process-blocked' }),
          next: 'outage.details',
        },
        {
          name: 'details',
          build: (c) =>
            invoke(spec.serviceUrl, ALEX, c.conv!, 'outage.details', {
              ...c.draft,
              title: 'Nobody can post sales invoices',
              details: 'Posting fails for every user since 9:00 with a SQL timeout.',
            }),
          next: 'outage.contact',
        },
        {
          name: 'contact',
          build: (c) =>
            invoke(spec.serviceUrl, ALEX, c.conv!, 'outage.contact', { ...c.draft, name: 'Alex Wilber', email: 'alexw@example.com', phone: '+1 425 555 0100' }),
          expect: 'Outage reported',
        },
      ];
      steps = flow.map((step, i) => ({
        name: step.name,
        build: (context: Ctx) => {
          if (i === 0) {
            context.failed = false;
            context.conv = pool.pop() ?? freshConv();
          } else if (context.failed || !context.draft) return null; // start over, new conversation
          return step.build(context);
        },
        check: (status: number, body: string, context: Ctx) => {
          const card = cardOf(parse(body));
          let good: boolean;
          if (step.next) {
            const data = card ? actionData(card, step.next) : undefined;
            good = data !== undefined && typeof data.draftId === 'string';
            context.draft = good ? { draftId: data!.draftId, rev: data!.rev } : undefined;
          } else {
            good = cardText(card).includes(step.expect!);
            if (good) {
              completedReports += 1;
              pool.push(context.conv!); // finished cleanly: the conversation can report again
            }
          }
          if (!good || status >= 300) context.failed = true;
          return good;
        },
      }));
      break;
    }
    case 'ack': {
      const ids = spec.ticketIds ?? [];
      let next = 0;
      const desk: Conv = { id: DESK_THREAD, conversationType: 'channel' };
      steps = [
        {
          name: 'acknowledge',
          // Past the pool the same tickets come round again: counted apart, as `wrong`.
          build: () => invoke(spec.serviceUrl, PATTI, desk, 'desk.acknowledge', { ticketId: ids[next++ % ids.length]!, rev: 0 }),
          check: (_status, body) => next <= ids.length && cardText(cardOf(parse(body))).includes('Acknowledgement met'),
        },
      ];
      break;
    }
  }

  for (const step of steps) byStep[step.name] ??= []; // the report lists the steps in this order
  const started = performance.now();
  const counts = spec.ratePerS ? await paced(spec, steps, record) : await saturate(spec, steps, record);
  const elapsedS = (performance.now() - started) / 1000;
  return {
    scenario: spec.scenario,
    connections: spec.connections,
    durationS: elapsedS,
    ok,
    rps: ok / elapsedS,
    latency: percentiles(all),
    steps: Object.fromEntries(Object.entries(byStep).map(([k, v]) => [k, percentiles(v)])),
    ...counts,
    wrong,
    wrongSamples,
    ...(spec.scenario === 'outage' ? { completedReports } : {}),
    ...(spec.keepSamples ? { samples: all } : {}),
  };
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2]) {
  const spec = readArg<LoadSpec>(process.argv[2]);
  const result = await run(spec);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// The load generator, run by bench/run.ts in its own process so that it never shares a CPU budget
// or an event loop with the bot it measures:
//   node --import tsx bench/loadgen.ts '{"scenario":"help","url":"http://127.0.0.1:3978",...}'
// It drives autocannon (keep-alive connections, one request in flight per connection) and prints
// one JSON line. Latency is timed per request from the moment autocannon builds it (just before
// writing it to the socket) to the moment the whole response is parsed, in fractional ms.
//
// Scenarios:
//   echo    "hello" to the echo bot
//   help    "help" to our bot (it answers with a card)
//   outage  each connection is one conversation at a time, going report outage -> confirm ->
//           details -> contact; draftId and rev are threaded from each response to the next
//           request (autocannon `requests` with setupRequest/onResponse and a per-connection
//           context); a finished report frees its conversation for the next cycle
//   ack     desk.acknowledge, each pre-created ticket exactly once, by a desk member

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
}

interface Ctx {
  t0?: number;
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
        all.push(ms);
        (byStep[step] ??= []).push(ms);
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
  const post = (activity: unknown) => ({ method: 'POST' as const, path: '/api/messages', body: JSON.stringify(activity) });

  let requests: autocannon.Request[];
  let convCounter = 0;
  const freshConv = (): Conv => ({ id: `a:bench-${process.pid}-${++convCounter}`, conversationType: 'personal' });
  const pool: Conv[] = Array.from({ length: spec.connections }, freshConv);
  const roundRobin = () => pool[convCounter++ % pool.length]!;

  switch (spec.scenario) {
    case 'echo':
    case 'help': {
      const text = spec.scenario === 'echo' ? 'hello' : 'help';
      const expect = spec.scenario === 'echo' ? 'Echo: hello' : 'report outage';
      requests = [
        {
          setupRequest: (req, context: Ctx) => {
            context.t0 = performance.now();
            return { ...req, ...post(message(spec.serviceUrl, ALEX, roundRobin(), text)) };
          },
          onResponse: (status, body, context: Ctx) => {
            const parsed = parse(body);
            const shown = spec.scenario === 'echo' ? (parsed?.activities?.[0]?.text ?? '') : cardText(cardOf(parsed));
            record(spec.scenario, context, status, shown.includes(expect), body);
          },
        },
      ];
      break;
    }
    case 'outage': {
      // Each step: the request it sends, and what its answer must carry for the next step.
      const steps: { name: string; build: (c: Ctx) => unknown; next?: string; expect?: string }[] = [
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
      requests = steps.map((step, i) => ({
        setupRequest: (req: any, context: Ctx) => {
          if (i === 0) context.conv = pool.pop() ?? freshConv();
          else if (context.failed || !context.draft) return null as never; // start over, new conversation
          context.t0 = performance.now();
          return { ...req, ...post(step.build(context)) };
        },
        onResponse: (status: number, body: string, context: Ctx) => {
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
          record(step.name, context, status, good, body);
        },
      }));
      break;
    }
    case 'ack': {
      const ids = spec.ticketIds ?? [];
      let next = 0;
      const desk: Conv = { id: DESK_THREAD, conversationType: 'channel' };
      requests = [
        {
          setupRequest: (req, context: Ctx) => {
            context.t0 = performance.now();
            // Past the pool the same tickets come round again: counted apart, as `wrong`.
            const ticketId = ids[next++ % ids.length]!;
            return { ...req, ...post(invoke(spec.serviceUrl, PATTI, desk, 'desk.acknowledge', { ticketId, rev: 0 })) };
          },
          onResponse: (status, body, context: Ctx) => {
            const text = cardText(cardOf(parse(body)));
            record('acknowledge', context, status, next <= ids.length && text.includes('Acknowledgement met'), body);
          },
        },
      ];
      break;
    }
  }

  const started = performance.now();
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
  const elapsedS = (performance.now() - started) / 1000;
  return {
    scenario: spec.scenario,
    connections: spec.connections,
    durationS: elapsedS,
    ok,
    rps: ok / elapsedS,
    latency: percentiles(all),
    steps: Object.fromEntries(Object.entries(byStep).map(([k, v]) => [k, percentiles(v)])),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    wrong,
    wrongSamples,
    ...(spec.scenario === 'outage' ? { completedReports } : {}),
  };
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2]) {
  const spec = readArg<LoadSpec>(process.argv[2]);
  const result = await run(spec);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

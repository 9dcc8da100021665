// The baseline: a plain botbuilder echo bot on the same stack as ours (restify 11 with its body
// parser, CloudAdapter in local mode, an ActivityHandler), nothing else. Run as a child process:
//   PORT=4000 node --import tsx bench/echoBot.ts
// It answers GET /healthz so the runner can time its start like the product's.
//
// ECHO_FLOOR adds to each turn the least an acknowledgement must do besides answering, so that the
// benchmark can tell what share of the echo bot's throughput any bot doing that work could reach
// on this machine (the "floor" rows of section 1):
//   send     one proactive message (a small card) to another conversation, the way the product
//            sends one (bot/connectorSender.ts over a connector client kept for the service URL),
//            not awaited by the turn and at most 16 at a time (as the outbox sends);
//   journal  one record of about 2 KB made durable before the answer: appended to a file opened
//            with O_DSYNC, the records of all turns waiting at that moment in one write (group
//            commit, as the product's journal does);
//   both     the two: the least a desk acknowledgement does besides answering the click.

import { constants, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ActivityHandler,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type ConfigurationBotFrameworkAuthenticationOptions,
  MessageFactory,
  type Activity,
  type TurnContext,
} from 'botbuilder';
import restify from 'restify';
import type { ConnectorClient } from '../bot/adapter.js';
import { type ConnectorSender, operationsSender, pipelineSender } from '../bot/connectorSender.js';

const floor = process.env.ECHO_FLOOR ?? '';
if (!['', 'send', 'journal', 'both'].includes(floor)) throw new Error(`ECHO_FLOOR must be send, journal or both, not "${floor}"`);
const sends = floor === 'send' || floor === 'both';
const journals = floor === 'journal' || floor === 'both';

/** Group commit: every record waiting when a write starts goes into that write. */
class Journal {
  /** Records made durable so far. */
  durable = 0;
  private waiting: { bytes: Buffer; done: () => void; failed: (e: unknown) => void }[] = [];
  private writing = false;
  private constructor(
    private readonly file: Awaited<ReturnType<typeof open>>,
    readonly dir: string,
  ) {}

  /** In a temp folder of its own (under ECHO_FLOOR_DIR if set), removed when the bot stops. */
  static async open(): Promise<Journal> {
    const dir = mkdtempSync(path.join(process.env.ECHO_FLOOR_DIR ?? tmpdir(), 'echo-floor-'));
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_DSYNC;
    return new Journal(await open(path.join(dir, 'journal.log'), flags), dir);
  }

  append(record: unknown): Promise<void> {
    return new Promise((done, failed) => {
      this.waiting.push({ bytes: Buffer.from(`${JSON.stringify(record)}\n`), done, failed });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.waiting.length) {
      const group = this.waiting;
      this.waiting = [];
      try {
        await this.file.write(Buffer.concat(group.map((g) => g.bytes)));
        this.durable += group.length;
        for (const g of group) g.done();
      } catch (err) {
        for (const g of group) g.failed(err);
      }
    }
    this.writing = false;
  }
}

const journal = journals ? await Journal.open() : undefined;
const filler = 'x'.repeat(1800);
let sender: ConnectorSender | undefined;
let sent = 0;
let sendFailures = 0;

/** The product's sender (bot/connectorSender.ts) over the first turn's connector client, kept. */
function senderOf(context: TurnContext): ConnectorSender {
  const client = context.turnState.get(context.adapter.ConnectorClientKey) as ConnectorClient;
  return pipelineSender(client, context.activity.serviceUrl) ?? operationsSender(client);
}

// As the outbox sends: at most 16 at a time, the rest wait their turn.
const MAX_SENDS = 16;
const queued: Partial<Activity>[] = [];
let sending = 0;
function pump(): void {
  while (sending < MAX_SENDS && queued.length) {
    const activity = queued.shift()!;
    sending += 1;
    void sender!
      .post('floor-news', activity)
      .then(() => void sent++, () => void sendFailures++)
      .finally(() => {
        sending -= 1;
        pump();
      });
  }
}

class EchoBot extends ActivityHandler {
  constructor() {
    super();
    this.onMessage(async (context, next) => {
      const text = context.activity.text ?? '';
      if (journal) await journal.append({ id: context.activity.id, from: context.activity.from?.id, text, filler });
      if (sends) {
        sender ??= senderOf(context);
        const news = MessageFactory.attachment({
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: {
            type: 'AdaptiveCard',
            version: '1.5',
            body: [
              { type: 'TextBlock', text: 'Your outage report was acknowledged', weight: 'Bolder', wrap: true },
              { type: 'TextBlock', text: `Patti Fernandez is working on it (${text})`, wrap: true },
              { type: 'FactSet', facts: [{ title: 'Incident', value: 'FO-000123' }, { title: 'Severity', value: 'A' }] },
            ],
          },
        });
        queued.push(news);
        pump();
      }
      await context.sendActivity(MessageFactory.text(`Echo: ${text}`));
      await next();
    });
  }
}

const auth = new ConfigurationBotFrameworkAuthentication({
  MicrosoftAppId: '', // local mode, as the product runs in this benchmark
} as ConfigurationBotFrameworkAuthenticationOptions);
const adapter = new CloudAdapter(auth);
adapter.onTurnError = async (context, error) => {
  process.stderr.write(`echo bot turn failed: ${error.message}\n`);
  await context.sendActivity('error');
};
const bot = new EchoBot();

const server = restify.createServer({ name: 'echo-bot', handleUncaughtExceptions: false });
server.use(restify.plugins.bodyParser({ maxBodySize: 1024 * 1024, mapParams: false }));
server.get('/healthz', async (_req, res) => {
  res.send(200, { status: 'ok', floor, durable: journal?.durable ?? 0, sent, sendFailures });
});
server.post('/api/messages', async (req, res) => {
  await adapter.process(req, res, (context) => bot.run(context));
});

const port = Number(process.env.PORT ?? 3979);
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () =>
  server.close(() => {
    if (journal) rmSync(journal.dir, { recursive: true, force: true });
    process.exit(0);
  }),
);

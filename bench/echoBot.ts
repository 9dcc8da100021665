// The baseline: a plain botbuilder echo bot on the same stack as ours (restify 11 with its body
// parser, CloudAdapter in local mode, an ActivityHandler), nothing else. Run as a child process:
//   PORT=4000 node --import tsx bench/echoBot.ts
// It answers GET /healthz so the runner can time its start like the product's.

import {
  ActivityHandler,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type ConfigurationBotFrameworkAuthenticationOptions,
  MessageFactory,
} from 'botbuilder';
import restify from 'restify';

class EchoBot extends ActivityHandler {
  constructor() {
    super();
    this.onMessage(async (context, next) => {
      await context.sendActivity(MessageFactory.text(`Echo: ${context.activity.text ?? ''}`));
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
  res.send(200, { status: 'ok' });
});
server.post('/api/messages', async (req, res) => {
  await adapter.process(req, res, (context) => bot.run(context));
});

const port = Number(process.env.PORT ?? 3979);
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));

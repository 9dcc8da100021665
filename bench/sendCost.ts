// What one proactive send costs the bot's process, three ways, against a local server in the same
// process (its own share is in all three figures):
//   operations  botbuilder's conversations.sendToConversation (its operation layer: the Activity
//               serializer, the URL template, the deserializer, then the client's HTTP pipeline);
//   pipeline    the outbox's way (bot/connectorSender.ts): the same client's pipeline, the request
//               built by hand, through TeamsNotifier.send;
//   plain       node:http with a keep-alive agent, the request alone (no proxy settings, no token, and
//               none of the notifier's own work: the conversation's reference, the activity).
// Sends 4,000 of each, 16 at a time, three rounds after a warm-up, and prints µs of CPU per send.
//   npx tsx bench/sendCost.ts

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createAdapter } from '../bot/adapter.js';
import { operationsSender } from '../bot/connectorSender.js';
import { TeamsNotifier } from '../bot/teamsNotifier.js';
import { loadConfig, projectRoot } from '../src/config.js';
import { loadDirectory } from '../src/directory.js';
import { silentLogger } from '../src/logger.js';
import { newOutboxItem } from '../src/outbox/outboxItem.js';
import { INDEXES } from '../src/services/collections.js';
import { ConversationService } from '../src/services/conversationService.js';
import { MemoryStore } from '../src/store/memoryStore.js';

const SENDS = 4_000;
const AT_ONCE = 16;

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end('{"id":"activity-1"}');
  });
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const serviceUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

const adapter = createAdapter(loadConfig({}), silentLogger);
const directory = await loadDirectory(path.join(projectRoot, 'config/directory.demo.json'));
const conversations = new ConversationService({ store: new MemoryStore({ indexes: INDEXES }), logger: silentLogger, now: () => new Date() });
await conversations.remember({
  id: 'c1',
  kind: 'personal',
  reference: { channelId: 'msteams', serviceUrl, conversation: { id: 'c1' }, bot: { id: '28:bot' }, user: { id: 'user-1' } },
});
const notifier = () => new TeamsNotifier({ adapter, appId: '', conversations, directory, logger: silentLogger });
const viaPipeline = notifier();
const viaOperations = notifier();
// The notifier's own fallback, forced: the same notifier with the client's operations.
(viaOperations as unknown as { senderOf: (c: never) => unknown }).senderOf = (c: never) => operationsSender(c);

let n = 0;
const item = () =>
  newOutboxItem({ id: `i${n++}`, op: 'post', target: { conversationId: 'c1' }, payload: { kind: 'text', text: 'OUT-100001 acknowledged by Patti Fernandez' } }, new Date());

const agent = new http.Agent({ keepAlive: true });
const plainBody = JSON.stringify({ type: 'message', text: 'OUT-100001 acknowledged by Patti Fernandez', conversation: { id: 'c1' }, from: { id: '28:bot' }, recipient: { id: 'user-1' } });
function plain(): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${serviceUrl}v3/conversations/c1/activities`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(plainBody) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          JSON.parse(Buffer.concat(chunks).toString('utf8'));
          resolve();
        });
      },
    );
    req.on('error', reject);
    req.end(plainBody);
  });
}

const ways: Record<string, () => Promise<unknown>> = {
  operations: () => viaOperations.send(item()),
  pipeline: () => viaPipeline.send(item()),
  plain,
};

async function round(send: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: AT_ONCE }, async () => {
      while (next++ < SENDS) await send();
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / SENDS;
}

for (const send of Object.values(ways)) await round(send); // warm-up
const results: Record<string, number[]> = {};
for (let i = 0; i < 3; i++) for (const [name, send] of Object.entries(ways)) (results[name] ??= []).push(await round(send));
for (const [name, us] of Object.entries(results)) console.log(`${name.padEnd(10)} ${us.map((u) => u.toFixed(0).padStart(4)).join(' ')} µs of CPU per send`);
agent.destroy();
server.close();
process.exit(0);

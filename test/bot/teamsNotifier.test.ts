import { expect } from 'chai';
import { createAdapter } from '../../bot/adapter.js';
import { removeRetryPolicy, TeamsNotifier } from '../../bot/teamsNotifier.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { DeliveryError } from '../../src/outbox/notifier.js';
import { Outbox } from '../../src/outbox/outbox.js';
import { enqueueOps, newOutboxItem, OUTBOX_INDEXES } from '../../src/outbox/outboxItem.js';
import { ManualTimers } from '../../src/outbox/timers.js';
import { INDEXES } from '../../src/services/collections.js';
import { ConversationService } from '../../src/services/conversationService.js';
import { MemoryStore } from '../../src/store/memoryStore.js';
import { ManualClock } from '../../src/time.js';
import { type Connector, startConnector } from '../helpers/botHarness.js';
import { demoDirectory } from '../helpers/fixtures.js';
import { ConnectorServer } from '../outbox/connectorServer.js';
import { drain } from '../outbox/drive.js';

describe('TeamsNotifier', () => {
  let connector: Connector;
  let notifier: TeamsNotifier;
  before(async () => {
    connector = await startConnector();
    const conversations = new ConversationService({ store: new MemoryStore({ indexes: INDEXES }), logger: silentLogger, now: () => new Date() });
    for (const id of ['conv-1', 'conv-throttled'])
      await conversations.remember({
        id,
        kind: 'personal',
        reference: { channelId: 'msteams', serviceUrl: connector.url, conversation: { id }, bot: { id: 'bot' } },
      });
    notifier = new TeamsNotifier({ adapter: createAdapter(loadConfig({}), silentLogger), appId: '', conversations, directory: demoDirectory(), logger: silentLogger });
  });
  after(() => connector.stop());

  const item = (id: string) =>
    newOutboxItem({ id, op: 'post', target: { conversationId: 'conv-1' }, payload: { kind: 'text', text: 'hello' } }, new Date());
  const throttled = (id: string, op: 'post' | 'update') =>
    newOutboxItem(
      { id, op, target: { conversationId: 'conv-throttled', ...(op === 'update' ? { activityId: 'activity-1' } : {}) }, payload: { kind: 'text', text: 'hello' } },
      new Date(),
    );

  it('posts and returns the activity id Teams gave', async () => {
    const r = await notifier.send(item('a'));
    expect(r.activityId).to.match(/^activity-/);
    expect(connector.calls.at(-1)?.body.channelData).to.deep.equal({ outboxItemId: 'a' });
  });

  it('reports a refusal (403: the bot was removed) as a permanent failure, never as delivered', async () => {
    connector.failNext(/conv-1/, 403);
    try {
      await notifier.send(item('b'));
      expect.fail('should reject');
    } catch (err) {
      expect(err).to.be.instanceOf(DeliveryError);
      expect(err).to.include({ status: 403, permanent: true });
    }
  });

  // botbuilder's connector client would retry these itself (3 times, waiting out Retry-After),
  // holding one of the outbox's send slots all along: the outbox does the waiting instead.
  it('makes one request for a throttled post and hands the 429 and its Retry-After to the outbox', async () => {
    connector.failNext(/conv-throttled/, 429, 1, { 'retry-after': '1' });
    const before = connector.calls.length;
    const err = await notifier.send(throttled('d', 'post')).then(() => 'delivered', (e: unknown) => e);
    expect(err).to.be.instanceOf(DeliveryError).and.include({ status: 429, retryAfterMs: 1_000, permanent: false });
    expect(connector.calls.length - before).to.equal(1);
  });

  it('makes one request for an update the service cannot take now (503)', async () => {
    connector.failNext(/conv-throttled/, 503, 1);
    const before = connector.calls.length;
    const err = await notifier.send(throttled('e', 'update')).then(() => 'delivered', (e: unknown) => e);
    expect(err).to.be.instanceOf(DeliveryError).and.include({ status: 503, permanent: false });
    expect(connector.calls.slice(before).map((c) => c.method)).to.deep.equal(['PUT']);
  });

  it('says a conversation it cannot reach yet is a transient failure', async () => {
    const unknown = newOutboxItem({ id: 'c', op: 'post', target: { conversationId: 'nowhere' }, payload: { kind: 'text', text: 'x' } }, new Date());
    try {
      await notifier.send(unknown);
      expect.fail('should reject');
    } catch (err) {
      expect(err).to.include({ permanent: false });
    }
  });
});

describe('removeRetryPolicy', () => {
  it('takes only the retry policy out of a proactive turn’s connector client: token signing stays', async () => {
    const appId = '00000000-0000-0000-0000-0000000000b7';
    const adapter = createAdapter(loadConfig({ MicrosoftAppId: appId, MicrosoftAppPassword: 'secret' }), silentLogger);
    const reference = { channelId: 'msteams', serviceUrl: 'http://127.0.0.1:9/', conversation: { id: 'c' }, bot: { id: appId } };
    let before: string[] = [];
    let after: string[] = [];
    let removed = false;
    await adapter.continueConversationAsync(appId, reference as never, async (context) => {
      // The pipeline is not public in botbuilder's types: read it as removeRetryPolicy does.
      const client = context.turnState.get(adapter.ConnectorClientKey);
      const names = (): string[] => client.client.pipeline.getOrderedPolicies().map((p: { name: string }) => p.name);
      before = names();
      removed = removeRetryPolicy(client);
      after = names();
    });
    expect(removed).to.equal(true);
    expect(before).to.include('defaultRetryPolicy');
    expect(after).to.deep.equal(before.filter((n) => n !== 'defaultRetryPolicy'));
    expect(after).to.include('ServiceClientContext_Credentials_SignRequest');
  });

  it('says false for a client it cannot change', () => {
    expect(removeRetryPolicy(undefined)).to.equal(false);
    expect(removeRetryPolicy({ client: {} })).to.equal(false);
  });
});

describe('TeamsNotifier under the outbox', () => {
  it('lets other conversations go on while a throttled one waits out its Retry-After', async () => {
    const clock = new ManualClock();
    const timers = new ManualTimers(clock);
    const server = await ConnectorServer.start({ clock });
    const store = new MemoryStore({ indexes: { ...INDEXES, ...OUTBOX_INDEXES } });
    const conversations = new ConversationService({ store, logger: silentLogger, now: () => clock.now() });
    for (const id of ['a', 'b'])
      await conversations.remember({
        id,
        kind: 'personal',
        reference: { channelId: 'msteams', serviceUrl: server.url, conversation: { id }, bot: { id: 'bot' } },
      });
    const notifier = new TeamsNotifier({ adapter: createAdapter(loadConfig({}), silentLogger), appId: '', conversations, directory: demoDirectory(), logger: silentLogger });
    // One send slot: a send that sat out the Retry-After inside botbuilder would hold up b.
    const outbox = new Outbox({ store, notifier, clock, timers, logger: silentLogger, random: () => 0.5, policy: { maxConcurrentSends: 1 } });
    try {
      await outbox.start();
      server.failNext({ status: 429, retryAfter: '1' });
      const post = (id: string, conversationId: string) =>
        newOutboxItem({ id, op: 'post', target: { conversationId }, payload: { kind: 'text', text: id } }, clock.now());
      await store.write(enqueueOps([post('a1', 'a'), post('b1', 'b')]));
      outbox.wake();
      await drain(outbox, timers);
      expect(server.requests.map((r) => [r.itemId, r.status])).to.deep.equal([
        ['a1', 429],
        ['b1', 201],
        ['a1', 201],
      ]);
      expect(server.requests[2]!.at - server.requests[0]!.at).to.equal(1_000);
    } finally {
      await outbox.stop();
      await server.close();
    }
  });
});

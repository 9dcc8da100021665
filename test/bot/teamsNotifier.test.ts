import { expect } from 'chai';
import { ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import { MsalServiceClientCredentialsFactory } from 'botframework-connector';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter, SupportAdapter } from '../../bot/adapter.js';
import { operationsSender, pipelineSender } from '../../bot/connectorSender.js';
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
  const CHANNEL = '19:desk@thread.tacv2';
  const clientsMade: string[] = [];
  const operationCalls: string[] = [];
  let failNextClient = false;
  let connector: Connector;
  let adapter: SupportAdapter;
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
    await conversations.remember({
      id: CHANNEL,
      kind: 'channel',
      reference: {
        channelId: 'msteams',
        serviceUrl: connector.url,
        locale: 'en-GB',
        conversation: { id: CHANNEL, conversationType: 'channel', isGroup: true, tenantId: 'tenant-1' },
        bot: { id: '28:bot', name: 'F&O Support' },
        user: { id: 'user-id-0', name: 'Alex Wilber' },
      },
    });
    adapter = createAdapter(loadConfig({}), silentLogger);
    // Counts connector clients made through the adapter's auth, as botbuilder's proactive turns make them.
    const createConnectorFactory = adapter.auth.createConnectorFactory.bind(adapter.auth);
    adapter.auth.createConnectorFactory = (identity) => {
      const factory = createConnectorFactory(identity);
      const create = factory.create.bind(factory);
      factory.create = async (serviceUrl, audience) => {
        clientsMade.push(serviceUrl);
        if (failNextClient) {
          failNextClient = false;
          throw new Error('Invalid appId.');
        }
        // Counts calls of botbuilder's operation layer, which sends are meant to go around.
        const client = await create(serviceUrl, audience);
        for (const name of ['sendToConversation', 'replyToActivity', 'updateActivity'] as const) {
          const operation = client.conversations[name].bind(client.conversations) as (...args: unknown[]) => Promise<never>;
          (client.conversations as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
            operationCalls.push(name);
            return operation(...args);
          };
        }
        return client;
      };
      return factory;
    };
    notifier = new TeamsNotifier({ adapter, appId: '', conversations, directory: demoDirectory(), logger: silentLogger });
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
      // What the connector said, for the log: its error code and message.
      expect((err as Error).message).to.equal('HTTP 403: Injected: injected 403');
    }
  });

  it('sends through the connector client’s own pipeline (its user agent), not botbuilder’s operation layer', async () => {
    const before = connector.calls.length;
    operationCalls.length = 0;
    await notifier.send(newOutboxItem({ id: 'pl1', op: 'post', target: { conversationId: CHANNEL }, payload: { kind: 'text', text: 'a' } }, new Date()));
    await notifier.send(
      newOutboxItem({ id: 'pl2', op: 'reply', target: { conversationId: CHANNEL, threadId: '17' }, payload: { kind: 'text', text: 'b' } }, new Date()),
    );
    await notifier.send(
      newOutboxItem({ id: 'pl3', op: 'update', target: { conversationId: CHANNEL, activityId: 'activity-1' }, payload: { kind: 'text', text: 'c' } }, new Date()),
    );
    const calls = connector.calls.slice(before);
    expect(calls.map((c) => c.method)).to.deep.equal(['POST', 'POST', 'PUT']);
    expect(operationCalls).to.deep.equal([]);
    for (const call of calls) {
      expect(call.headers['user-agent']).to.match(/Microsoft-BotFramework/);
      expect(call.headers['content-type']).to.equal('application/json; charset=utf-8');
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

  it('makes one connector client per service URL and reuses it for every send', async () => {
    const notifierOf = (conversations: ConversationService) =>
      new TeamsNotifier({ adapter, appId: '', conversations, directory: demoDirectory(), logger: silentLogger });
    const conversations = new ConversationService({ store: new MemoryStore({ indexes: INDEXES }), logger: silentLogger, now: () => new Date() });
    const other = await startConnector();
    try {
      for (const [id, serviceUrl] of [['x', connector.url], ['y', connector.url], ['z', other.url]] as const)
        await conversations.remember({ id, kind: 'personal', reference: { channelId: 'msteams', serviceUrl, conversation: { id }, bot: { id: 'bot' } } });
      const fresh = notifierOf(conversations);
      const post = (id: string, conversationId: string) =>
        newOutboxItem({ id, op: 'post', target: { conversationId }, payload: { kind: 'text', text: id } }, new Date());
      clientsMade.length = 0;
      // The first sends race for the client: still one.
      await Promise.all([post('x1', 'x'), post('y1', 'y'), post('x2', 'x')].map((i) => fresh.send(i)));
      for (let n = 0; n < 5; n++) await fresh.send(post(`y-${n}`, 'y'));
      await fresh.send(post('z1', 'z'));
      await fresh.send(post('z2', 'z'));
      expect(clientsMade).to.deep.equal([connector.url, other.url]);
    } finally {
      await other.stop();
    }
  });

  it('makes the client again on the next send when it could not be made', async () => {
    const conversations = new ConversationService({ store: new MemoryStore({ indexes: INDEXES }), logger: silentLogger, now: () => new Date() });
    await conversations.remember({ id: 'w', kind: 'personal', reference: { channelId: 'msteams', serviceUrl: connector.url, conversation: { id: 'w' }, bot: { id: 'bot' } } });
    const fresh = new TeamsNotifier({ adapter, appId: '', conversations, directory: demoDirectory(), logger: silentLogger });
    const post = (id: string) => newOutboxItem({ id, op: 'post', target: { conversationId: 'w' }, payload: { kind: 'text', text: id } }, new Date());
    clientsMade.length = 0;
    failNextClient = true;
    const err = await fresh.send(post('w1')).then(() => 'delivered', (e: unknown) => e);
    expect(err).to.be.instanceOf(DeliveryError).and.include({ permanent: false, message: 'Invalid appId.' });
    expect((await fresh.send(post('w2'))).activityId).to.match(/^activity-/);
    await fresh.send(post('w3'));
    expect(clientsMade).to.have.length(2);
  });

  it('sends what TurnContext would send: the bot to the user, in the conversation, with the locale', async () => {
    const post = newOutboxItem({ id: 'p1', op: 'post', target: { conversationId: CHANNEL }, payload: { kind: 'text', text: 'new thread' } }, new Date());
    const before = connector.calls.length;
    const { activityId } = await notifier.send(post);
    const [call] = connector.calls.slice(before);
    expect(call).to.include({ method: 'POST', path: `/v3/conversations/${encodeURIComponent(CHANNEL)}/activities` });
    expect(call!.body).to.deep.include({
      type: 'message',
      text: 'new thread',
      channelId: 'msteams',
      serviceUrl: connector.url,
      locale: 'en-GB',
      from: { id: '28:bot', name: 'F&O Support' },
      recipient: { id: 'user-id-0', name: 'Alex Wilber' },
      conversation: { id: CHANNEL, conversationType: 'channel', isGroup: true, tenantId: 'tenant-1' },
      channelData: { outboxItemId: 'p1' },
    });
    expect(call!.body).not.to.have.any.keys('replyToId', 'id');
    expect(activityId).to.match(/^activity-/);
  });

  it('replies in a channel thread: to its root, in the conversation ";messageid=<root>"', async () => {
    const reply = newOutboxItem(
      { id: 'r1', op: 'reply', target: { conversationId: CHANNEL, threadId: '1711111111111' }, payload: { kind: 'text', text: 'in the thread' } },
      new Date(),
    );
    const before = connector.calls.length;
    const { activityId } = await notifier.send(reply);
    const [call] = connector.calls.slice(before);
    const thread = `${CHANNEL};messageid=1711111111111`;
    expect(call).to.include({ method: 'POST', path: `/v3/conversations/${encodeURIComponent(thread)}/activities/1711111111111` });
    expect(call!.body).to.deep.include({ replyToId: '1711111111111', conversation: { id: thread, conversationType: 'channel', isGroup: true, tenantId: 'tenant-1' } });
    expect(activityId).to.match(/^activity-/);
  });

  it('updates the message named for everyone and returns its id', async () => {
    const update = newOutboxItem(
      { id: 'u1', op: 'update', target: { conversationId: CHANNEL, activityId: 'activity-7' }, payload: { kind: 'text', text: 'changed' } },
      new Date(),
    );
    const before = connector.calls.length;
    expect(await notifier.send(update)).to.deep.equal({ activityId: 'activity-7' });
    const [call] = connector.calls.slice(before);
    expect(call).to.include({ method: 'PUT', path: `/v3/conversations/${encodeURIComponent(CHANNEL)}/activities/activity-7` });
    expect(call!.body).to.deep.include({ id: 'activity-7', text: 'changed', from: { id: '28:bot', name: 'F&O Support' } });
  });

  it('stops a request the outbox no longer waits for: the connection closes and the send fails, for a retry', async () => {
    const closed: string[] = [];
    let received = 0;
    const silent = http.createServer((req) => {
      received += 1;
      req.resume(); // never answers
      req.socket.on('close', () => closed.push(req.url ?? ''));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const serviceUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    try {
      const conversations = new ConversationService({ store: new MemoryStore({ indexes: INDEXES }), logger: silentLogger, now: () => new Date() });
      await conversations.remember({ id: 'hang', kind: 'personal', reference: { channelId: 'msteams', serviceUrl, conversation: { id: 'hang' }, bot: { id: 'bot' } } });
      const fresh = new TeamsNotifier({ adapter, appId: '', conversations, directory: demoDirectory(), logger: silentLogger });
      const controller = new AbortController();
      const sending = fresh
        .send(newOutboxItem({ id: 'h1', op: 'post', target: { conversationId: 'hang' }, payload: { kind: 'text', text: 'x' } }, new Date()), controller.signal)
        .then(() => 'delivered', (e: unknown) => e);
      const until = Date.now() + 2_000;
      while (received === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20));
      expect(received).to.equal(1);
      expect(closed).to.deep.equal([]);
      controller.abort(new DeliveryError('no answer in 60000 ms', { permanent: false }));
      const err = await sending;
      expect(err).to.be.instanceOf(DeliveryError).and.include({ permanent: false });
      while (closed.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      expect(closed).to.deep.equal(['/v3/conversations/hang/activities']);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('refuses an update that names no activity for good, sending nothing', async () => {
    const update = { ...item('v'), op: 'update' as const };
    const before = connector.calls.length;
    const err = await notifier.send(update).then(() => 'delivered', (e: unknown) => e);
    expect(err).to.be.instanceOf(DeliveryError).and.include({ permanent: true });
    expect(connector.calls.length).to.equal(before);
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

describe('connector senders', () => {
  it('has no pipeline sender for a client without the pipeline where botbuilder keeps it', () => {
    expect(pipelineSender({ conversations: {} } as never, 'http://127.0.0.1:1/')).to.equal(undefined);
    expect(pipelineSender({ client: {} } as never, 'http://127.0.0.1:1/')).to.equal(undefined);
  });

  it('falls back to the client’s operations with the same arguments', async () => {
    const seen: unknown[][] = [];
    const record = (name: string) => async (...args: unknown[]) => {
      seen.push([name, ...args]);
      return { id: `${name}-id` };
    };
    const client = { conversations: { sendToConversation: record('post'), replyToActivity: record('reply'), updateActivity: record('update') } };
    const sender = operationsSender(client as never);
    expect(await sender.post('c', { text: 'a' })).to.deep.equal({ id: 'post-id' });
    await sender.reply('c', 'root', { text: 'b' });
    await sender.update('c', 'm1', { text: 'c' });
    expect(seen).to.deep.equal([
      ['post', 'c', { text: 'a' }],
      ['reply', 'c', 'root', { text: 'b' }],
      ['update', 'c', 'm1', { text: 'c' }],
    ]);
  });
});

describe('removeRetryPolicy', () => {
  it('takes only the retry policy out of the connector client the notifier keeps: token signing stays', async () => {
    const appId = '00000000-0000-0000-0000-0000000000b7';
    const adapter = createAdapter(loadConfig({ MicrosoftAppId: appId, MicrosoftAppPassword: 'secret' }), silentLogger);
    const client = await adapter.connectorClientFor(appId, 'http://127.0.0.1:9/');
    // The pipeline is not public in botbuilder's types: read it as removeRetryPolicy does.
    const names = (): string[] => (client as any).client.pipeline.getOrderedPolicies().map((p: { name: string }) => p.name);
    const before = names();
    const removed = removeRetryPolicy(client);
    const after = names();
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

describe('TeamsNotifier with an app id', () => {
  // Offline: MSAL's client application stands in for Microsoft Entra ID, and botbuilder's own
  // credentials (MsalAppCredentials: token cache, refresh 5 minutes before expiry) sign requests.
  const appId = '00000000-0000-0000-0000-00000000a11d'; // botbuilder caches tokens per app id: one for this test only
  const MARGIN_MS = 5 * 60_000; // botbuilder refreshes this long before a token expires

  it('signs every request of its kept connector client with the bot’s current token', async () => {
    const tokenRequests: { scopes: string[] }[] = [];
    let lifetimeMs = MARGIN_MS + 60_000;
    const msal = {
      acquireTokenByClientCredential: async (request: { scopes: string[] }) => {
        tokenRequests.push(request);
        return { accessToken: `token-${tokenRequests.length}`, expiresOn: new Date(Date.now() + lifetimeMs) };
      },
    };
    const auth = new ConfigurationBotFrameworkAuthentication({ MicrosoftAppId: appId }, new MsalServiceClientCredentialsFactory(appId, msal as never));
    const adapter = new SupportAdapter(auth, silentLogger);
    const seen: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      req.resume().on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: `activity-${seen.length}` }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const serviceUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const conversations = new ConversationService({ store: new MemoryStore({ indexes: INDEXES }), logger: silentLogger, now: () => new Date() });
      await conversations.remember({ id: 'c', kind: 'personal', reference: { channelId: 'msteams', serviceUrl, conversation: { id: 'c' }, bot: { id: appId } } });
      const notifier = new TeamsNotifier({ adapter, appId, conversations, directory: demoDirectory(), logger: silentLogger });
      const post = (id: string) => newOutboxItem({ id, op: 'post', target: { conversationId: 'c' }, payload: { kind: 'text', text: id } }, new Date());
      lifetimeMs = MARGIN_MS + 300; // the first token is good for 0.3 s
      await notifier.send(post('a'));
      await notifier.send(post('b'));
      await new Promise((r) => setTimeout(r, 400));
      lifetimeMs = MARGIN_MS + 60_000;
      await notifier.send(post('c'));
      expect(seen).to.deep.equal(['Bearer token-1', 'Bearer token-1', 'Bearer token-2']);
      expect(tokenRequests.map((r) => r.scopes)).to.deep.equal([['https://api.botframework.com/.default'], ['https://api.botframework.com/.default']]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
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

import { expect } from 'chai';
import { createAdapter } from '../../bot/adapter.js';
import { TeamsNotifier } from '../../bot/teamsNotifier.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { DeliveryError } from '../../src/outbox/notifier.js';
import { newOutboxItem } from '../../src/outbox/outboxItem.js';
import { INDEXES } from '../../src/services/collections.js';
import { ConversationService } from '../../src/services/conversationService.js';
import { MemoryStore } from '../../src/store/memoryStore.js';
import { type Connector, startConnector } from '../helpers/botHarness.js';
import { demoDirectory } from '../helpers/fixtures.js';

describe('TeamsNotifier', () => {
  let connector: Connector;
  let notifier: TeamsNotifier;
  before(async () => {
    connector = await startConnector();
    const conversations = new ConversationService({ store: new MemoryStore({ indexes: INDEXES }), logger: silentLogger, now: () => new Date() });
    await conversations.remember({
      id: 'conv-1',
      kind: 'personal',
      reference: { channelId: 'msteams', serviceUrl: connector.url, conversation: { id: 'conv-1' }, bot: { id: 'bot' } },
    });
    notifier = new TeamsNotifier({ adapter: createAdapter(loadConfig({}), silentLogger), appId: '', conversations, directory: demoDirectory(), logger: silentLogger });
  });
  after(() => connector.stop());

  const item = (id: string) =>
    newOutboxItem({ id, op: 'post', target: { conversationId: 'conv-1' }, payload: { kind: 'text', text: 'hello' } }, new Date());

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

import { expect } from 'chai';
import { silentLogger } from '../../src/logger.js';
import { COLLECTIONS, INDEXES } from '../../src/services/collections.js';
import { type ConversationRecord, ConversationService } from '../../src/services/conversationService.js';
import { MemoryStore } from '../../src/store/memoryStore.js';
import type { Store, WriteOp } from '../../src/store/store.js';

type Turn = Omit<ConversationRecord, 'updatedAt'>;

/** A turn's record as bot/supportBot.ts builds it: a fresh object each time, activityId cleared. */
function turn(changes: { serviceUrl?: string; conversationName?: string; userName?: string } = {}): Turn {
  return {
    id: 'a:conv-1',
    kind: 'personal',
    tenantId: 'tenant-1',
    reference: {
      activityId: undefined,
      user: { id: 'user-id-0', name: changes.userName ?? 'Alex Wilber', aadObjectId: 'aad-1' },
      bot: { id: 'bot-id', name: 'F&O Support' },
      conversation: { id: 'a:conv-1', conversationType: 'personal', tenantId: 'tenant-1', ...(changes.conversationName ? { name: changes.conversationName } : {}) },
      channelId: 'msteams',
      locale: 'en-US',
      serviceUrl: changes.serviceUrl ?? 'https://smba.trafficmanager.net/emea/',
    },
  };
}

/** A MemoryStore that records the ids of every document written. */
function recordingStore(inner = new MemoryStore({ indexes: INDEXES })): { store: Store; written: string[]; inner: MemoryStore } {
  const written: string[] = [];
  const store: Store = Object.assign(Object.create(inner), {
    write: (ops: WriteOp[]) => {
      written.push(...ops.map((o) => o.id));
      return inner.write(ops);
    },
  });
  return { store, written, inner };
}

const service = (store: Store) => new ConversationService({ store, logger: silentLogger, now: () => new Date('2026-03-02T09:00:00Z') });

describe('ConversationService', () => {
  it('stores the reference and the service URL on the first turn, then writes nothing while they stay the same', async () => {
    const { store, written } = recordingStore();
    const conversations = service(store);
    await conversations.remember(turn());
    expect(written).to.have.members(['~last-service-url', 'a:conv-1']);
    for (let i = 0; i < 5; i++) await conversations.remember(turn());
    expect(written).to.have.length(2);
    expect((await conversations.get('a:conv-1'))?.reference).to.deep.include({ serviceUrl: 'https://smba.trafficmanager.net/emea/' });
  });

  it('writes the reference and the service URL again when the service URL changes', async () => {
    const { store, written } = recordingStore();
    const conversations = service(store);
    await conversations.remember(turn());
    written.length = 0;
    await conversations.remember(turn({ serviceUrl: 'https://smba.trafficmanager.net/amer/' }));
    expect(written).to.have.members(['~last-service-url', 'a:conv-1']);
    expect(await conversations.lastServiceUrl()).to.equal('https://smba.trafficmanager.net/amer/');
    expect((await conversations.get('a:conv-1'))?.reference.serviceUrl).to.equal('https://smba.trafficmanager.net/amer/');
  });

  for (const [what, changes] of [
    ["the conversation's name", { conversationName: 'Contoso F&O team' }],
    ["the user's name", { userName: 'Alex W.' }],
  ] as const)
    it(`writes the reference again when ${what} changes, and only once`, async () => {
      const { store, written } = recordingStore();
      const conversations = service(store);
      await conversations.remember(turn());
      written.length = 0;
      await conversations.remember(turn(changes));
      await conversations.remember(turn(changes));
      expect(written).to.deep.equal(['a:conv-1']);
      expect((await conversations.get('a:conv-1'))?.reference).to.deep.equal(JSON.parse(JSON.stringify(turn(changes).reference)));
    });

  it('writes nothing after a restart when the store already holds the same reference', async () => {
    const { store: first, inner } = recordingStore();
    await service(first).remember(turn());
    const { store, written } = recordingStore(inner);
    const restarted = service(store);
    await restarted.remember(turn());
    await restarted.remember(turn());
    expect(written).to.deep.equal([]);
  });

  it('writes the service URL once when the first turns after a start arrive together', async () => {
    const { store, written } = recordingStore();
    const conversations = service(store);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const t = turn();
        return conversations.remember({ ...t, id: `a:conv-${i}`, reference: { ...t.reference, conversation: { id: `a:conv-${i}` } } });
      }),
    );
    expect(written.filter((id) => id === '~last-service-url')).to.have.length(1);
    expect(written.filter((id) => id !== '~last-service-url')).to.have.length(20);
  });

  it('tries the service URL again on the next turn when writing it failed', async () => {
    const inner = new MemoryStore({ indexes: INDEXES });
    let failNext = true;
    const store: Store = Object.assign(Object.create(inner), {
      write: (ops: WriteOp[]) => {
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('disk full'));
        }
        return inner.write(ops);
      },
    });
    const conversations = service(store);
    await conversations.remember(turn()).then(
      () => expect.fail('the write failed'),
      (err: Error) => expect(err.message).to.equal('disk full'),
    );
    await conversations.remember(turn());
    expect((await inner.get<{ serviceUrl: string }>(COLLECTIONS.conversations, '~last-service-url'))?.value.serviceUrl).to.equal(
      'https://smba.trafficmanager.net/emea/',
    );
  });
});

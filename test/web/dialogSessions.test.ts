import { expect } from 'chai';
import { silentLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/store/memoryStore.js';
import { ManualClock } from '../../src/time.js';
import {
  boundValues,
  DIALOG_SESSION_INDEXES,
  DIALOG_SESSIONS,
  DialogSessions,
} from '../../src/web/dialogSessions.js';
import { demoUser } from '../helpers/fixtures.js';

describe('dialogSessions', () => {
  const conversation = { id: 'a:chat', kind: 'personal' as const };
  let clock: ManualClock;
  let store: MemoryStore;
  let sessions: DialogSessions;

  beforeEach(() => {
    clock = new ManualClock(new Date('2026-11-21T09:30:00Z'));
    store = new MemoryStore({ indexes: DIALOG_SESSION_INDEXES });
    sessions = new DialogSessions({ store, clock, logger: silentLogger, ttlMs: 60 * 60 * 1000 });
  });

  it('finds a session by its id with the user, the conversation and the draft', async () => {
    const id = await sessions.create(demoUser('alex'), conversation, {
      values: { title: 'Batch stuck' },
      errors: { details: 'Describe the steps.' },
    });
    expect(id).to.match(/^[A-Za-z0-9_-]{24}$/);
    const found = await sessions.get(id);
    expect(found?.user.name).to.equal('Alex Wilber');
    expect(found?.conversation).to.deep.equal(conversation);
    expect(found?.values).to.deep.equal({ title: 'Batch stuck' });
    expect(found?.errors).to.deep.equal({ details: 'Describe the steps.' });
  });

  it('gives each session its own unguessable id', async () => {
    const ids = new Set(await Promise.all([1, 2, 3].map(() => sessions.create(demoUser('alex'), conversation))));
    expect(ids.size).to.equal(3);
  });

  it('forgets a session once it has expired, and ignores malformed ids', async () => {
    const id = await sessions.create(demoUser('alex'), conversation);
    clock.advance(59 * 60 * 1000);
    expect(await sessions.get(id)).to.not.equal(undefined);
    clock.advance(60 * 1000);
    expect(await sessions.get(id)).to.equal(undefined);
    expect(await sessions.get('../../etc/passwd')).to.equal(undefined);
    expect(await sessions.get('')).to.equal(undefined);
  });

  it('sweeps sessions whose expiry hour has passed and keeps the live ones', async () => {
    await sessions.create(demoUser('alex'), conversation); // expires 10:30
    clock.set('2026-11-21T10:50:00Z');
    const live = await sessions.create(demoUser('alex'), conversation); // expires 11:50
    expect(await store.count(DIALOG_SESSIONS)).to.equal(2);
    expect(await sessions.sweep(new Date('2026-11-21T11:05:00Z'))).to.equal(1);
    expect(await store.count(DIALOG_SESSIONS)).to.equal(1);
    expect((await sessions.get(live))?.id).to.equal(live);
  });

  it('keeps only the form fields of a posted draft, cut to the form limits', () => {
    const bounded = boundValues({
      title: 'x'.repeat(5000),
      projectId: 'p1',
      evil: { nested: true },
      contact: { name: 'Alex', email: 'alexw@example.com', extra: 'dropped' },
      confirmCritical: 'true',
      confirm24x7: 'yes',
      severity: 42,
    });
    expect(bounded).to.deep.equal({
      title: 'x'.repeat(1000),
      projectId: 'p1',
      contact: { name: 'Alex', email: 'alexw@example.com' },
      confirmCritical: true,
    });
  });
});

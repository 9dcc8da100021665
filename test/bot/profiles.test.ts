import { expect } from 'chai';
import type { TurnContext } from 'botbuilder';
import type { MemberProfile } from '../../bot/connectorSender.js';
import { type MemberLookup, ProfileLookups } from '../../bot/profiles.js';
import { recordingLogger } from '../plans/planFixtures.js';

// The profile lookups a report shares between its steps: asked once per user and conversation,
// kept for a while, asked again after a failure, and never more than `max` kept.

const turn = (userId: string | undefined, conversationId: string, teamId?: string) =>
  ({
    activity: {
      from: userId === undefined ? undefined : { id: userId },
      conversation: { id: conversationId, tenantId: 't1' },
      ...(teamId ? { channelData: { team: { id: teamId } } } : {}),
    },
  }) as unknown as TurnContext;

function fakeLookup() {
  const asked: string[] = [];
  const answers: ((p: MemberProfile) => void)[] = [];
  const failures: ((e: Error) => void)[] = [];
  const lookup: MemberLookup = (context, userId) => {
    const team = (context.activity.channelData as { team?: { id: string } } | undefined)?.team?.id;
    asked.push(`${userId}@${team ?? context.activity.conversation.id}`);
    return new Promise<MemberProfile>((resolve, reject) => {
      answers.push(resolve);
      failures.push(reject);
    });
  };
  return { lookup, asked, answer: (i: number, p: MemberProfile) => answers[i]!(p), fail: (i: number, e: Error) => failures[i]!(e) };
}

describe('ProfileLookups', () => {
  it('asks once for a user in a conversation: the start asks, a later step takes the answer', async () => {
    const f = fakeLookup();
    const profiles = new ProfileLookups({ lookup: f.lookup, waitMs: 100, log: recordingLogger().logger });
    profiles.start(turn('u1', 'c1'));
    profiles.start(turn('u1', 'c1')); // a double "report outage"
    const later = profiles.get(turn('u1', 'c1'));
    f.answer(0, { email: 'u1@contoso.com' });
    expect(await later).to.deep.equal({ email: 'u1@contoso.com' });
    expect(await profiles.get(turn('u1', 'c1'))).to.deep.equal({ email: 'u1@contoso.com' });
    // Another user, another conversation, a team's channel (asked of the team): each its own.
    void profiles.get(turn('u2', 'c1'));
    void profiles.get(turn('u1', 'c2'));
    void profiles.get(turn('u1', '19:channel', '19:team'));
    expect(f.asked).to.deep.equal(['u1@c1', 'u2@c1', 'u1@c2', 'u1@19:team']);
  });

  it('answers undefined for a failed lookup, says so in the log, and asks again next time', async () => {
    const f = fakeLookup();
    const log = recordingLogger();
    const profiles = new ProfileLookups({ lookup: f.lookup, waitMs: 100, log: log.logger });
    const first = profiles.get(turn('u1', 'c1'));
    f.fail(0, new Error('no answer in 100 ms'));
    expect(await first).to.equal(undefined);
    expect(log.text()).to.include('could not read the Teams profile; contact not prefilled').and.include('no answer in 100 ms');
    const second = profiles.get(turn('u1', 'c1'));
    f.answer(1, { email: 'u1@contoso.com' });
    expect(await second).to.deep.equal({ email: 'u1@contoso.com' });
    expect(f.asked).to.deep.equal(['u1@c1', 'u1@c1']);
  });

  it('keeps an answer for keepMs, then asks again', async () => {
    const f = fakeLookup();
    let now = 1_000;
    const profiles = new ProfileLookups({ lookup: f.lookup, waitMs: 100, log: recordingLogger().logger, keepMs: 60_000, now: () => now });
    const first = profiles.get(turn('u1', 'c1'));
    f.answer(0, { email: 'old@contoso.com' });
    await first;
    now += 59_999;
    expect(await profiles.get(turn('u1', 'c1'))).to.deep.equal({ email: 'old@contoso.com' });
    now += 1;
    const again = profiles.get(turn('u1', 'c1'));
    f.answer(1, { email: 'new@contoso.com' });
    expect(await again).to.deep.equal({ email: 'new@contoso.com' });
  });

  it('keeps at most `max` answers, dropping the oldest', async () => {
    const f = fakeLookup();
    const profiles = new ProfileLookups({ lookup: f.lookup, waitMs: 100, log: recordingLogger().logger, max: 2 });
    for (const c of ['c1', 'c2', 'c3']) profiles.start(turn('u1', c));
    profiles.start(turn('u1', 'c3'));
    profiles.start(turn('u1', 'c2'));
    profiles.start(turn('u1', 'c1')); // dropped: asked again
    expect(f.asked).to.deep.equal(['u1@c1', 'u1@c2', 'u1@c3', 'u1@c1']);
  });

  it('does not ask without a user or conversation to ask about', async () => {
    const f = fakeLookup();
    const profiles = new ProfileLookups({ lookup: f.lookup, waitMs: 100, log: recordingLogger().logger });
    expect(await profiles.get(turn(undefined, 'c1'))).to.equal(undefined);
    expect(f.asked).to.deep.equal([]);
  });
});

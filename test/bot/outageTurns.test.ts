import { expect } from 'chai';
import { renderCardJson } from '../../bot/cards.js';
import { helpView } from '../../src/flows/views.js';
import { COLLECTIONS } from '../../src/services/collections.js';
import { FaultyStore } from '../../src/store/faultyStore.js';
import type { Store } from '../../src/store/store.js';
import { ManualClock } from '../../src/time.js';
import { recordingLogger } from '../plans/planFixtures.js';
import {
  actionData,
  ALEX,
  type BotUnderTest,
  cardOf,
  cardText,
  type Connector,
  type Conv,
  inputValues,
  invoke,
  MEGAN,
  message,
  personal,
  removeDir,
  startBot,
  startConnector,
  type Who,
} from '../helpers/botHarness.js';

// The outage report turn by turn, over real HTTP against the real embedded store.

describe('outage report over HTTP', () => {
  let connector: Connector;
  let bot: BotUnderTest;
  let faulty: FaultyStore | undefined;
  const clock = new ManualClock(new Date('2026-11-21T14:00:00Z'));

  before(async () => {
    connector = await startConnector();
  });
  after(async () => connector.stop());
  beforeEach(async () => {
    faulty = undefined;
    bot = await startBot({ clock, wrapStore: (s: Store) => (faulty = new FaultyStore(s)) });
  });
  afterEach(async () => {
    await bot.stop();
    removeDir(bot.dataDir);
  });

  async function say(who: Who, conv: Conv, text: string, target = bot) {
    const res = await target.post(message(connector.url, who, conv, text));
    expect(res.status).to.equal(200);
    return cardOf(res.body);
  }
  async function press(who: Who, conv: Conv, card: any, verb: string, inputs: Record<string, string> = {}, target = bot) {
    const res = await target.post(invoke(connector.url, who, conv, verb, { ...inputValues(card), ...inputs, ...actionData(card, verb) }));
    expect(res.status).to.equal(200);
    expect(res.body.statusCode).to.equal(200);
    return cardOf(res.body);
  }
  const details = { title: 'Nobody can post sales invoices', details: 'Posting fails for every user since 9:00 with a SQL timeout.' };

  async function toContactOn(conv: Conv, target: BotUnderTest) {
    let card = await say(ALEX, conv, 'report outage', target);
    card = await press(ALEX, conv, card, 'outage.confirm', { confirmed: 'true', scenarioId: 'process-blocked' }, target);
    return press(ALEX, conv, card, 'outage.details', details, target);
  }
  const toContact = (conv: Conv) => toContactOn(conv, bot);

  it('goes from "report outage" to a ticket with its acknowledgement deadline in the user’s zone', async () => {
    const conv = personal();
    let card = await say(ALEX, conv, 'report outage');
    let text = cardText(card);
    expect(text).to.include('A production outage is one or more system-wide issues');
    expect(text).to.include('Project: Contoso Finance and Operations');
    expect(text).to.include('CONTOSO-PROD');
    expect(text).to.include('on-premises project'); // the ineligible project is explained
    card = await press(ALEX, conv, card, 'outage.confirm', { confirmed: 'true', scenarioId: 'process-blocked' });
    expect(cardText(card)).to.include('Scenario: A critical business process is blocked for all users');
    card = await press(ALEX, conv, card, 'outage.details', details);
    text = cardText(card);
    expect(text).to.include('[Name=Alex Wilber]');
    expect(text).to.include('[E-mail=alexw@example.com]'); // from the Teams profile
    card = await press(ALEX, conv, card, 'outage.contact', { phone: '+1 425 555 0100' });
    text = cardText(card);
    expect(text).to.include('Outage reported: OUT-100001');
    expect(text).to.include('Severity: A (Critical)');
    // 14:00Z is 9:00 AM in New York; acknowledgement due 30 minutes later
    expect(text).to.include('by **9:30 AM EST**');
    expect(text).to.include('Submitted: Sat, Nov 21, 2026, 9:00 AM EST');
    const stored = await bot.running.store.get<any>(COLLECTIONS.tickets, 'OUT-100001');
    expect(stored?.value).to.include({ severity: 'A', kind: 'outage', projectId: 'contoso-fo', ackDueAt: '2026-11-21T14:30:00.000Z' });
    expect(stored?.value.contact).to.deep.equal({ name: 'Alex Wilber', email: 'alexw@example.com', phone: '+1 425 555 0100' });
    expect(stored?.value.origin).to.deep.include({ conversationId: conv.id, conversationKind: 'personal' });
  });

  it('asks Teams for the reporter’s profile of the team in a team’s channel, of the chat elsewhere, and goes on without it', async () => {
    const profileCalls = () => connector.calls.filter((c) => c.method === 'GET' && c.path.includes('/members/'));
    const before = profileCalls().length;
    const chat: Conv = { id: '19:chat/with?odd#chars@thread.v2', conversationType: 'groupChat' };
    let card = await toContact(chat);
    expect(cardText(card)).to.include('[E-mail=alexw@example.com]');
    const channel: Conv = { id: '19:channel@thread.tacv2', conversationType: 'channel' };
    const inTeam = (body: any) => ({ ...body, channelData: { ...body.channelData, team: { id: '19:team@thread.tacv2' } } });
    let res = await bot.post(inTeam(message(connector.url, ALEX, channel, 'report outage')));
    card = cardOf(res.body);
    res = await bot.post(
      inTeam(invoke(connector.url, ALEX, channel, 'outage.confirm', { ...inputValues(card), confirmed: 'true', scenarioId: 'process-blocked', ...actionData(card, 'outage.confirm') })),
    );
    card = cardOf(res.body);
    res = await bot.post(inTeam(invoke(connector.url, ALEX, channel, 'outage.details', { ...inputValues(card), ...details, ...actionData(card, 'outage.details') })));
    expect(cardText(cardOf(res.body))).to.include('[E-mail=alexw@example.com]');
    expect(profileCalls().slice(before).map((c) => c.path)).to.deep.equal([
      `/v3/conversations/${encodeURIComponent(chat.id)}/members/user-id-0`,
      `/v3/conversations/${encodeURIComponent('19:team@thread.tacv2')}/members/user-id-0`,
    ]);
    // No profile (every lookup fails): the contact is left for the user to type.
    connector.failNext(/\/members\//, 404, Number.POSITIVE_INFINITY);
    try {
      card = await toContact(personal());
    } finally {
      connector.heal();
    }
    expect(cardText(card)).to.include('[E-mail=]');
    expect(cardText(card)).to.include('[Name=Alex Wilber]');
  });

  it('answers "report outage" without the profile when Teams does not answer the lookup', async () => {
    const log = recordingLogger();
    const slow = await startBot({ clock, logger: log.logger, profileWaitMs: 200 });
    try {
      connector.stallNext(/\/members\//, Number.POSITIVE_INFINITY);
      const conv = personal();
      let card = await say(ALEX, conv, 'report outage', slow);
      expect(cardText(card)).to.include('A production outage is one or more system-wide issues');
      card = await press(ALEX, conv, card, 'outage.confirm', { confirmed: 'true', scenarioId: 'process-blocked' }, slow);
      card = await press(ALEX, conv, card, 'outage.details', details, slow);
      expect(cardText(card)).to.include('[E-mail=]'); // left for the user to type
      expect(cardText(card)).to.include('[Name=Alex Wilber]'); // from the activity itself
      expect(log.text()).to.include('could not read the Teams profile; contact not prefilled').and.include('no answer in 200 ms');
      await connector.stalledDropped(); // the bot gave up on the request, not only on its answer
      connector.heal();
      // The next lookup is answered again, and prefills as before.
      card = await toContactOn(personal(), slow);
      expect(cardText(card)).to.include('[E-mail=alexw@example.com]');
    } finally {
      connector.heal();
      await slow.stop();
      removeDir(slow.dataDir);
    }
  });

  it('shows an invalid value beside its field and keeps the rest', async () => {
    const conv = personal();
    let card = await say(ALEX, conv, 'report outage');
    card = await press(ALEX, conv, card, 'outage.confirm', { confirmed: 'true', scenarioId: 'sign-in' });
    card = await press(ALEX, conv, card, 'outage.details', { title: '', details: details.details });
    const text = cardText(card);
    expect(text).to.include('Enter a short title for the outage.');
    expect(text).to.include(`[Details=${details.details}]`);
    expect(card.body.findIndex((b: any) => b.id === 'title')).to.equal(
      card.body.findIndex((b: any) => b.text === 'Enter a short title for the outage.') - 1,
    );
  });

  it('makes one ticket from a double click, a replay and two clicks at once', async () => {
    const conv = personal();
    const card = await toContact(conv);
    const submit = invoke(connector.url, ALEX, conv, 'outage.contact', { ...inputValues(card), phone: '+1 425 555 0100', ...actionData(card, 'outage.contact') });
    const [a, b] = await Promise.all([bot.post(submit), bot.post({ ...submit, id: 'another-id' })]);
    const c = await bot.post(submit);
    for (const r of [a, b, c]) expect(cardText(cardOf(r.body))).to.include('Outage reported: OUT-100001');
    expect(await bot.running.store.count(COLLECTIONS.tickets)).to.equal(1);
  });

  it('tells a member of an ineligible project why, with the way forward', async () => {
    const text = cardText(await say(MEGAN, personal(), 'report an outage'));
    expect(text).to.include("You can't report a production outage here");
    expect(text).to.include('Project team member (prospect)');
    expect(text).to.include('has no production environment deployed yet');
    expect(text).to.include('+1 (800) 555-0199');
  });

  it('does not let someone else move a reporter’s draft', async () => {
    const conv: Conv = { id: '19:channel@thread.tacv2', conversationType: 'channel' };
    const card = await say(ALEX, conv, 'report outage');
    const res = await bot.post(invoke(connector.url, MEGAN, conv, 'outage.confirm', { confirmed: 'true', scenarioId: 'sign-in', ...actionData(card, 'outage.confirm') }));
    expect(cardText(cardOf(res.body))).to.include('belongs to Alex Wilber');
    const again = await press(ALEX, conv, card, 'outage.confirm', { confirmed: 'true', scenarioId: 'sign-in' });
    expect(cardText(again)).to.include('title and details');
  });

  it('shows phone support and keeps everything when the ticket cannot be saved, then saves it', async () => {
    const conv = personal();
    const card = await toContact(conv);
    faulty!.failAllWrites();
    const failed = await press(ALEX, conv, card, 'outage.contact', { phone: '+44 20 7946 0001' });
    const text = cardText(failed);
    expect(text).to.include("We couldn't save your report just now");
    expect(text).to.include('United States and Canada: +1 (800) 555-0199');
    expect(text).to.include('[Phone=+44 20 7946 0001]');
    expect(await bot.running.store.count(COLLECTIONS.tickets)).to.equal(0);
    faulty!.heal();
    const done = await press(ALEX, conv, failed, 'outage.contact');
    expect(cardText(done)).to.include('Outage reported: OUT-100001');
  });

  it('resumes a draft where it stopped when "report outage" is typed again', async () => {
    const conv = personal();
    let card = await say(ALEX, conv, 'report outage');
    await press(ALEX, conv, card, 'outage.confirm', { confirmed: 'true', scenarioId: 'sign-in' });
    card = await say(ALEX, conv, 'report outage');
    expect(cardText(card)).to.include('Continuing the outage report you started');
    expect(cardText(card)).to.include('title and details');
  });

  it('answers help and unknown text with what it can do', async () => {
    const help = await say(ALEX, personal(), 'help');
    expect(cardText(help)).to.include('report outage');
    expect(await say(MEGAN, personal(), 'help'), 'the same card for everyone, every time').to.deep.equal(help);
    expect(help).to.deep.equal(renderCardJson(helpView()));
    const text = cardText(await say(ALEX, personal(), 'order pizza'));
    expect(text).to.include('I didn\'t understand “order pizza”.');
    expect(text).to.include('report outage');
  });

  it('answers an unknown verb or bad data with a clear card, not an error', async () => {
    const conv = personal();
    for (const [verb, data] of [
      ['pizza.order', {}],
      ['outage.details', { draftId: 'x', rev: 'not a number' }],
      ['outage.details', { draftId: 'x', rev: 1, title: 'x'.repeat(5000) }],
    ] as const) {
      const res = await bot.post(invoke(connector.url, ALEX, conv, verb, data));
      expect(res.status).to.equal(200);
      expect(cardText(cardOf(res.body))).to.include("That button didn't work");
    }
    const missing = await bot.post(invoke(connector.url, ALEX, conv, 'outage.details', { draftId: 'nope', rev: 0 }));
    expect(cardText(cardOf(missing.body))).to.include('no longer available');
  });

  it('answers a card action invoke that is not an Action.Execute with a 400 Adaptive Card error', async () => {
    const conv = personal();
    const good: any = invoke(connector.url, ALEX, conv, 'pizza.order', {});
    for (const [value, code] of [
      [undefined, 'BadRequest'],
      ['text', 'BadRequest'],
      [{}, 'NotSupported'],
      [{ action: 'pizza.order' }, 'NotSupported'],
      [{ action: { ...good.value.action, type: 'Action.Submit' } }, 'NotSupported'],
    ] as const) {
      const res = await bot.post({ ...good, value });
      expect(res.status, JSON.stringify(value)).to.equal(400);
      expect(res.body).to.deep.include({ statusCode: 400, type: 'application/vnd.microsoft.error' });
      expect(res.body.value.code, JSON.stringify(value)).to.equal(code);
    }
    const answered = await bot.post(good);
    expect(answered.status, 'the same invoke with its Action.Execute').to.equal(200);
    expect(cardText(cardOf(answered.body))).to.include("That button didn't work");
  });
});

describe('outage report across a restart', () => {
  it('loses nothing when the process stops mid-flow', async () => {
    const connector = await startConnector();
    const first = await startBot();
    const conv = personal();
    try {
      const say = async (b: BotUnderTest, text: string) => cardOf((await b.post(message(connector.url, ALEX, conv, text))).body);
      const press = async (b: BotUnderTest, card: any, verb: string, inputs: Record<string, string>) =>
        cardOf((await b.post(invoke(connector.url, ALEX, conv, verb, { ...inputValues(card), ...inputs, ...actionData(card, verb) }))).body);
      let card = await say(first, 'report outage');
      card = await press(first, card, 'outage.confirm', { confirmed: 'true', scenarioId: 'batch-stopped' });
      card = await press(first, card, 'outage.details', { title: 'Batch stopped', details: 'No batch job has run since 02:00 UTC.' });
      await first.stop();

      const second = await startBot({ dataDir: first.dataDir });
      try {
        // the card from before the restart still works
        const resumed = await press(second, card, 'outage.back', {});
        expect(cardText(resumed)).to.include('[Title=Batch stopped]');
        expect(cardText(resumed)).to.include('No batch job has run since 02:00 UTC.');
        const again = await say(second, 'report outage');
        expect(cardText(again)).to.include('Continuing the outage report');
        const contact = await press(second, again, 'outage.details', {});
        const done = await press(second, contact, 'outage.contact', { phone: '+1 425 555 0100' });
        expect(cardText(done)).to.include('Outage reported: OUT-100001');
      } finally {
        await second.stop();
      }
    } finally {
      removeDir(first.dataDir);
      await connector.stop();
    }
  });
});

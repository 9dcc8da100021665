import { expect } from 'chai';
import { ManualClock } from '../../src/time.js';
import {
  actionData,
  ALEX,
  type BotUnderTest,
  cardOf,
  cardText,
  type Connector,
  type Conv,
  deskThread,
  inputValues,
  invoke,
  ISAIAH,
  MEGAN,
  message,
  PATTI,
  personal,
  removeDir,
  startBot,
  startConnector,
  type Who,
} from '../helpers/botHarness.js';

// The desk loop over real HTTP: the bot posts to a local connector that records every call.

describe('support desk over HTTP', () => {
  let connector: Connector;
  let bot: BotUnderTest;
  const clock = new ManualClock(new Date('2026-11-21T14:00:00Z'));

  beforeEach(async () => {
    connector = await startConnector();
    clock.set('2026-11-21T14:00:00Z');
    bot = await startBot({ clock });
  });
  afterEach(async () => {
    await bot.stop();
    removeDir(bot.dataDir);
    await connector.stop();
  });

  const say = async (who: Who, conv: Conv, text: string) => cardOf((await bot.post(message(connector.url, who, conv, text))).body);
  async function press(who: Who, conv: Conv, card: any, verb: string, inputs: Record<string, string> = {}) {
    const res = await bot.post(invoke(connector.url, who, conv, verb, { ...inputValues(card), ...inputs, ...actionData(card, verb) }));
    expect(res.status).to.equal(200);
    return cardOf(res.body);
  }
  const posts = (conversation: string) =>
    connector.calls.filter((c) => c.method === 'POST' && decodeURIComponent(c.path).startsWith(`/v3/conversations/${conversation}/activities`));
  const updates = () => connector.calls.filter((c) => c.method === 'PUT');
  const cardsIn = (calls: typeof connector.calls) => calls.map((c) => cardText(c.body.attachments?.[0]?.content ?? {}) + (c.body.text ?? ''));

  async function report(conv: Conv) {
    let card = await say(ALEX, conv, 'report outage');
    card = await press(ALEX, conv, card, 'outage.confirm', { confirmed: 'true', scenarioId: 'sign-in' });
    card = await press(ALEX, conv, card, 'outage.details', { title: 'Nobody can sign in', details: 'Every user gets an error page since 8:50.' });
    return press(ALEX, conv, card, 'outage.contact', { phone: '+1 425 555 0100' });
  }

  it('posts the ticket to the desk, and relays acknowledgement, update and resolution to the reporter', async () => {
    const alexChat = personal();
    await report(alexChat);
    await bot.running.outbox.idle();
    const deskPosts = posts('channel-support-desk-id');
    expect(deskPosts).to.have.length(1);
    const deskCard = deskPosts[0]!.body.attachments[0].content;
    let text = cardText(deskCard);
    expect(text).to.include('OUT-100001: Nobody can sign in');
    expect(text).to.include('Acknowledgement due by 9:30 AM EST (30 minutes, 24x7)');
    expect(text).to.include('Reporter: Alex Wilber');
    expect(text).to.include('Contact: Alex Wilber, alexw@example.com, +1 425 555 0100');

    clock.advance(12 * 60_000);
    const desk = deskThread();
    let card = await press(PATTI, desk, deskCard, 'desk.acknowledge');
    expect(cardText(card)).to.include('Acknowledgement met: 12 minutes after submission');
    await bot.running.outbox.idle();
    expect(updates()).to.have.length(1); // the card changes for everyone, not only for Patti
    expect(cardsIn(updates())[0]).to.include('Acknowledgement met');
    const toAlex = posts(alexChat.id);
    expect(cardsIn(toAlex).join('\n')).to.match(/Patti Fernandez from Microsoft Support acknowledged your outage .* 12 minutes after submission, within the 30 minutes target/);

    card = await press(PATTI, desk, card, 'desk.update', { updateText: 'Failover to the secondary region is running.' });
    card = await press(PATTI, desk, card, 'desk.resolve', { resolution: 'The expired certificate was renewed.' });
    expect(cardText(card)).to.include('Resolution: The expired certificate was renewed.');
    await bot.running.outbox.idle();
    const news = cardsIn(posts(alexChat.id));
    expect(news).to.have.length(3);
    expect(news[1]).to.include('Failover to the secondary region is running.');
    expect(news[2]).to.include('The expired certificate was renewed.');

    text = cardText(await say(ALEX, alexChat, 'status OUT-100001'));
    expect(text).to.match(/Acknowledged 12 minutes after submission/);
    expect(text).to.include('Failover to the secondary region is running.');
    expect(cardText(await say(ALEX, alexChat, 'my tickets'))).to.include('OUT-100001 · Outage · Severity A · Resolved');
  });

  it('refuses desk actions from someone outside the desk, changing nothing', async () => {
    await report(personal());
    await bot.running.outbox.idle();
    const deskCard = posts('channel-support-desk-id')[0]!.body.attachments[0].content;
    const card = await press(MEGAN, deskThread(), deskCard, 'desk.acknowledge');
    expect(cardText(card)).to.include('Only members of Microsoft Support (demo desk) can act on tickets. Nothing was changed.');
    await bot.running.outbox.idle();
    expect(updates()).to.have.length(0);
    // not a member of the ticket's project, nor of the desk
    expect(cardText(await say(ISAIAH, personal(), 'status OUT-100001'))).to.include("I can't find OUT-100001");
  });

  it('makes one acknowledgement when two engineers press together', async () => {
    const alexChat = personal();
    await report(alexChat);
    await bot.running.outbox.idle();
    const deskCard = posts('channel-support-desk-id')[0]!.body.attachments[0].content;
    const data = { ...actionData(deskCard, 'desk.acknowledge') };
    const LYNNE = { id: 'user-id-5', name: 'Lynne Robbins', aadObjectId: '00000000-0000-0000-0000-0000000000025' };
    await Promise.all([
      bot.post(invoke(connector.url, PATTI, deskThread(), 'desk.acknowledge', data)),
      bot.post(invoke(connector.url, LYNNE, deskThread(), 'desk.acknowledge', data)),
    ]);
    await bot.running.outbox.idle();
    expect(cardsIn(posts(alexChat.id)).filter((t) => t.includes('acknowledged your outage'))).to.have.length(1);
  });
});

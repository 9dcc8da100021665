import { expect } from 'chai';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Activity } from 'botbuilder';
import { CardFactory } from 'botbuilder';
import { projectRoot } from '../../src/config.js';
import { CARD_TITLE, issueCard, type RunningCardBot, startCardBot } from '../fixtures/playground/cardBot.js';
import {
  openPlayground,
  type PlaygroundConfig,
  type PlaygroundPage,
  type RunningPlayground,
  startPlayground,
} from './playground.js';

// The harness itself, against a minimal card bot rather than the product: what the Agents
// Playground sends a bot, and that a person can drive cards, chats, channels and proactive
// messages through it in headless Chromium.

const shots = path.join(projectRoot, 'test-results');
const TIME_ZONE = 'Asia/Kolkata'; // no daylight saving: a fixed +05:30

/** The zone's UTC offset at `at`, as "+05:30". */
function offsetAt(timeZone: string, at: Date): string {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName')!.value; // "GMT+05:30"
  return name === 'GMT' ? '+00:00' : name.slice(3);
}

describe('@browser Agents Playground harness', function () {
  this.timeout(90_000);
  let bot: RunningCardBot;
  let playground: RunningPlayground;
  let pg: PlaygroundPage;
  let config: PlaygroundConfig;

  const lastMessage = (conversationId: (id: string) => boolean): Partial<Activity> => {
    const found = bot.received.filter((a) => a.type === 'message' && conversationId(a.conversation?.id ?? '')).at(-1);
    if (!found) throw new Error('the bot received no such message');
    return found;
  };

  before(async () => {
    mkdirSync(shots, { recursive: true });
    bot = await startCardBot();
    playground = await startPlayground({ botEndpoint: bot.endpoint, timeZone: TIME_ZONE });
    config = await playground.config();
    pg = await openPlayground(playground.url);
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && pg) {
      await pg.screenshot(path.join(shots, `failed-harness-${this.currentTest.title.slice(0, 40).replace(/\W+/g, '-')}.png`));
    }
  });
  after(async () => {
    await pg?.close();
    await playground?.stop();
    await bot?.stop();
  });

  it('fills a card, and Action.Execute replaces the card in place with the invoke response', async () => {
    await pg.switchTo('personal');
    await pg.send('card please');
    expect(await pg.waitForCard(CARD_TITLE)).to.include('Severity');
    const cardsBefore = await pg.cards().count();

    await pg.fill('Summary', 'Printer on fire');
    await pg.choose('Severity', 'Critical');
    await pg.click('Submit');

    const text = await pg.waitForCard('Issue received');
    expect(text).to.include('Summary: Printer on fire');
    expect(text).to.include('Severity: critical (issue.submit)');
    expect(text).not.to.include(CARD_TITLE);
    expect(await pg.cards().count()).to.equal(cardsBefore); // replaced, not a new message
    expect(await pg.invokeMessage()).to.equal('Your response was sent to the app');

    const invoke = bot.received.filter((a) => a.type === 'invoke').at(-1)!;
    expect(invoke.name).to.equal('adaptiveCard/action');
    expect(invoke.value).to.deep.equal({
      action: {
        type: 'Action.Execute',
        title: 'Submit',
        verb: 'issue.submit',
        data: { form: 'issue', summary: 'Printer on fire', severity: 'critical' },
      },
    });
    expect(invoke.replyToId).to.be.a('string').and.not.be.empty;
    expect(invoke.channelData).to.deep.include({ source: { name: 'message' } });
  });

  it('sends a personal-chat message as Teams does: serviceUrl, ids, tenant, user and local time', async () => {
    await pg.send('hello there');
    await pg.waitForText('You said: hello there');
    const m = lastMessage((id) => id === config.personalChat.id);
    expect(m.text).to.equal('hello there');
    expect(m.channelId).to.equal('msteams');
    expect(m.serviceUrl).to.equal(playground.serviceUrl);
    expect(m.conversation).to.deep.equal({ conversationType: 'personal', tenantId: config.tenantId, id: config.personalChat.id });
    expect(m.from).to.deep.equal({ id: config.currentUser.id, name: config.currentUser.name, aadObjectId: config.currentUser.aadObjectId });
    expect(m.recipient).to.deep.equal({ id: config.bot.id, name: config.bot.name });
    expect(m.channelData).to.deep.equal({ tenant: { id: config.tenantId } });
    // The Playground process's zone, not the browser's; ICU may answer with the old name.
    expect(['Asia/Kolkata', 'Asia/Calcutta']).to.include(m.localTimezone);
    const timestamp = new Date(m.timestamp as unknown as string);
    const local = m.localTimestamp as unknown as string;
    expect(local.slice(-6)).to.equal(offsetAt(TIME_ZONE, timestamp));
    expect(new Date(local).getTime()).to.equal(timestamp.getTime());
  });

  it('reaches the bot in the group chat only with an @mention', async () => {
    await pg.switchTo('group');
    await pg.send('no mention here', { mention: false });
    await pg.send('hello group');
    await pg.waitForText('You said: hello group');
    const m = lastMessage((id) => id === config.groupChats[0]!.id);
    expect(m.text).to.equal(`<at>${config.bot.name}</at> hello group`);
    expect(m.conversation).to.deep.include({ isGroup: true, conversationType: 'groupChat', tenantId: config.tenantId });
    expect(m.entities).to.deep.include({
      type: 'mention',
      mentioned: { id: config.bot.id, name: config.bot.name },
      text: `<at>${config.bot.name}</at>`,
    });
    expect(bot.received.some((a) => a.text?.includes('no mention here'))).to.equal(false);
  });

  it('posts in a channel as a new thread, and replies in that thread', async () => {
    const team = config.teams[0]!;
    const channel = team.channels[1]!; // [0] is General, whose id is the team id
    await pg.switchTo('channel', channel.name);
    await pg.send('hello channel');
    await pg.waitForText('You said: hello channel');
    const post = lastMessage((id) => id.startsWith(`${channel.id};messageid=`));
    expect(post.conversation).to.deep.include({ isGroup: true, conversationType: 'channel', tenantId: config.tenantId });
    expect(post.channelData).to.deep.equal({
      teamsChannelId: channel.id,
      teamsTeamId: team.id,
      tenant: { id: config.tenantId },
      team: { id: team.id },
      channel: { id: channel.id },
    });

    await pg.reply('and a reply');
    await pg.waitForText('You said: and a reply');
    const reply = lastMessage((id) => id.startsWith(`${channel.id};messageid=`));
    expect(reply.conversation?.id).to.equal(post.conversation?.id); // same thread
    expect(await pg.posts().first().innerText()).to.include('You said: and a reply');
  });

  it('shows proactive messages, and updateActivity changes the card in place', async () => {
    await pg.switchTo('personal');
    const id = config.personalChat.id;
    await bot.sendProactive(id, 'A proactive hello');
    await pg.waitForText('A proactive hello');

    const sent = await bot.sendProactive(id, { attachments: [CardFactory.adaptiveCard(issueCard('Proactive card'))] });
    await pg.waitForCard('Proactive card');
    const cardsBefore = await pg.cards().count();
    await bot.updateProactive(id, { id: sent!.id, attachments: [CardFactory.adaptiveCard(issueCard('Updated card'))] });
    await pg.waitForCard('Updated card');
    expect(await pg.cards().count()).to.equal(cardsBefore);
    expect(await pg.cardText()).not.to.include('Proactive card');
  });
});

describe('@browser the demo .m365agentsplayground.yml', function () {
  this.timeout(30_000);
  it('loads in the Playground with General and Support Desk, Alex Wilber as the current user', async () => {
    const playground = await startPlayground({
      botEndpoint: 'http://127.0.0.1:9/api/messages', // never called: no page is opened
      configPath: path.join(projectRoot, '.m365agentsplayground.yml'),
    });
    try {
      const config = await playground.config();
      expect(config.currentUser.name).to.equal('Alex Wilber');
      expect(config.users.map((u) => u.name)).to.deep.equal(['Megan Bowen', 'Adele Vance', 'Isaiah Langer', 'Patti Fernandez', 'Lynne Robbins']);
      expect(config.teams[0]!.channels.map((c) => [c.id, c.name])).to.deep.equal([
        ['team-id', 'General'],
        ['channel-support-desk-id', 'Support Desk'],
      ]);
    } finally {
      await playground.stop();
    }
  });

  it('refuses a second channel besides General, naming the YAML path', async () => {
    const yaml = readFileSync(path.join(projectRoot, '.m365agentsplayground.yml'), 'utf8').replace(
      /^ {2}channels:\n/m,
      '  channels:\n    - id: channel-announcements-id\n      name: Announcements\n',
    );
    let error: Error | undefined;
    try {
      const playground = await startPlayground({ botEndpoint: 'http://127.0.0.1:9/api/messages', configYaml: yaml });
      await playground.stop();
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.include('YAML path "/team/channels": must NOT have more than 1 items');
  });
});

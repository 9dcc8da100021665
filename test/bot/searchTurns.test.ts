import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { SEARCH_COMMAND_ID } from '../../bot/messageExtension.js';
import { STATUS_COLORS } from '../../src/search/knownIssue.js';
import { TENANT } from '../helpers/fixtures.js';
import {
  ALEX,
  type BotUnderTest,
  cardOf,
  cardText,
  type Connector,
  type Conv,
  message,
  personal,
  removeDir,
  startBot,
  startConnector,
} from '../helpers/botHarness.js';

// Issue search over real HTTP: "search <words>" in chat, and the search message extension
// (composeExtension/query invokes, as Teams sends them from the compose box).

interface ResultBlock {
  title: string;
  kbNumber: string;
  status: string;
  statusColor: string;
  snippet: string;
  url: string;
}

/** The results on a searchResults card, one per Container, as a reader sees them. */
function results(card: any): ResultBlock[] {
  return (card.body as any[])
    .filter((b) => b.type === 'Container')
    .map((c) => {
      const [title, columns, snippet, actions] = c.items;
      const [kb, status] = columns.columns.map((col: any) => col.items[0]);
      return {
        title: title.text,
        kbNumber: kb.text,
        status: status.text,
        statusColor: status.color,
        snippet: snippet.text,
        url: actions.actions[0].url,
      };
    });
}

describe('Issue search over HTTP', () => {
  let connector: Connector;
  let bot: BotUnderTest;
  const chat = personal();

  before(async () => {
    connector = await startConnector();
    bot = await startBot();
  });
  after(async () => {
    await bot.stop();
    removeDir(bot.dataDir);
    await connector.stop();
  });

  const say = async (text: string, conv: Conv = chat) => {
    const res = await bot.post(message(connector.url, ALEX, conv, text));
    expect(res.status).to.equal(200);
    return cardOf(res.body);
  };

  /** A composeExtension/query invoke, as Teams sends it while the user types in the extension. */
  const query = async (value: unknown) => {
    const activity = { ...message(connector.url, ALEX, chat, ''), type: 'invoke', name: 'composeExtension/query', text: undefined, deliveryMode: undefined, value };
    return bot.post(activity);
  };

  describe('"search <words>" in chat', () => {
    it('answers with the top 10: title, KB number, status in its LCS colour, a snippet with the words in bold, and the link', async () => {
      const card = await say('search vendor invoice posting');
      const text = cardText(card);
      expect(text).to.include('Known issues for “vendor invoice posting”');
      expect(text).to.include('The 10 most relevant known issues, best first.');
      const found = results(card);
      expect(found).to.have.length(10);
      for (const r of found) {
        expect(r.kbNumber).to.match(/^KB\d{6,8}$/);
        expect(r.statusColor).to.equal(STATUS_COLORS[r.status as keyof typeof STATUS_COLORS]);
        expect(r.url).to.match(/^https:\/\/fix\.lcs\.dynamics\.com\/Issue\/Details\?kb=\d+/);
        expect(r.url).to.include(r.kbNumber.slice(2));
      }
      expect(found[0]!.title.toLowerCase()).to.include('vendor invoice');
      expect(found.some((r) => /\*\*(vendor|invoice|posting)\*\*/i.test(r.snippet))).to.equal(true);
      expect(text).to.include('(Open in LCS)');
      expect(text).to.match(/Tip: .*AND .*OR .*status:open/);
    });

    it('keeps only the entries holding both sides of AND, and the statuses asked for', async () => {
      const card = await say('search batch AND workflow status:open');
      const found = results(card);
      expect(found.length).to.be.greaterThan(0);
      for (const r of found) expect(r.status).to.equal('Open');
      const entries = found.map((r) => bot.running.search.byKb(r.kbNumber)!);
      for (const e of entries) {
        const all = `${e.title} ${e.symptoms} ${e.resolution} ${e.area}`.toLowerCase();
        expect(all).to.include('batch');
        expect(all).to.include('workflow');
      }
      expect(cardText(card)).to.include('with status Open');
    });

    it('finds either side of OR, and several statuses at once', async () => {
      const either = results(await say('search dual-write OR reconciliation'));
      const titles = either.map((r) => r.title.toLowerCase());
      expect(titles.some((t) => t.includes('dual-write'))).to.equal(true);
      expect(titles.some((t) => t.includes('reconcil'))).to.equal(true);

      const card = await say('find posting status:"by design",workaround');
      const statuses = new Set(results(card).map((r) => r.status));
      expect([...statuses].every((s) => s === 'By design' || s === 'Workaround')).to.equal(true);
      expect(cardText(card)).to.include('with status By design or Workaround');
    });

    it('opens a known issue by its KB number, and says so when there is none', async () => {
      const entry = bot.running.search.search('', { limit: 1 })[0]!.issue;
      const digits = entry.kbNumber.slice(2);
      for (const typed of [`kb ${digits}`, `KB${digits}`, `search kb ${digits}`, `search ${digits}`]) {
        const card = await say(typed);
        const found = results(card);
        expect(found, typed).to.have.length(1);
        expect(found[0]!.kbNumber).to.equal(entry.kbNumber);
        expect(found[0]!.title).to.equal(entry.title);
        expect(cardText(card)).to.include(`Known issue ${entry.kbNumber}`);
      }
      const missing = cardText(await say('kb 1234567'));
      expect(missing).to.include('No known issue has the KB number KB1234567');
    });

    it('explains how to search when "search" comes alone', async () => {
      for (const typed of ['search', 'find', 'known issues', 'Search:']) {
        const text = cardText(await say(typed));
        expect(text, typed).to.include('Search known issues');
        expect(text).to.include('“search vendor invoice posting”');
        expect(text).to.include('AND');
        expect(text).to.include('status:open');
      }
      // the example KB number in the usage exists
      const example = /“kb (\d+)”/.exec(cardText(await say('search')))![1]!;
      expect(bot.running.search.byKb(example)).to.not.equal(undefined);
    });

    it('says what to try when nothing matches, or when a status is not one', async () => {
      const text = cardText(await say('search qwxzvbnk'));
      expect(text).to.include('No known issues found');
      expect(text).to.include('Nothing matched “qwxzvbnk”');
      expect(text).to.include('Check the spelling');
      expect(text).to.include('try fewer or more general words');
      expect(text).to.include('submit an incident');

      const filtered = cardText(await say('search qwxzvbnk status:postponed'));
      expect(filtered).to.include('drop the status filter');

      const bad = cardText(await say('search batch status:broken'));
      expect(bad).to.include('“broken” is not a status');
      expect(bad).to.include("Resolved, Open, Workaround, Postponed, By design, Not reproducible, Won't fix");
    });

    it('lists the newest entries of a status when only the status is given', async () => {
      const card = await say('search status:wont-fix');
      const found = results(card);
      expect(found).to.have.length(10);
      for (const r of found) expect(r.status).to.equal("Won't fix");
      expect(cardText(card)).to.include('most recently updated');
    });

    it('answers in a channel when mentioned, keeping AND as an operator', async () => {
      const channel: Conv = { id: `channel-${randomUUID()}`, conversationType: 'channel' };
      const activity = {
        ...message(connector.url, ALEX, channel, '<at>F&O Support</at> search batch AND workflow'),
        entities: [{ type: 'mention', text: '<at>F&O Support</at>', mentioned: { id: '28:bot', name: 'F&O Support' } }],
      };
      const res = await bot.post(activity);
      const card = cardOf(res.body);
      expect(cardText(card)).to.include('Known issues for “batch AND workflow”');
      expect(results(card).length).to.be.greaterThan(0);
    });
  });

  describe('the search message extension', () => {
    const search = (text: string, queryOptions: Record<string, unknown> = { skip: 0, count: 25 }) =>
      query({ commandId: SEARCH_COMMAND_ID, parameters: [{ name: 'query', value: text }], queryOptions });

    it('returns the results as a list of insertable cards, each with a preview', async () => {
      const res = await search('batch job stuck', { skip: 0, count: 5 });
      expect(res.status).to.equal(200);
      const ext = res.body.composeExtension;
      expect(ext.type).to.equal('result');
      expect(ext.attachmentLayout).to.equal('list');
      expect(ext.attachments).to.have.length(5);
      const expected = bot.running.search.search('batch job stuck', { limit: 5 });
      ext.attachments.forEach((a: any, i: number) => {
        const issue = expected[i]!.issue;
        expect(a.contentType).to.equal('application/vnd.microsoft.card.adaptive');
        expect(a.content.version).to.equal('1.5');
        const [r] = results(a.content);
        expect(r).to.deep.include({ title: issue.title, kbNumber: issue.kbNumber, status: issue.status, url: issue.link });
        expect(r!.statusColor).to.equal(STATUS_COLORS[issue.status]);
        expect(cardText(a.content)).not.to.include('Tip:'); // the chat's header and footer stay in chat
        expect(a.preview.contentType).to.equal('application/vnd.microsoft.card.thumbnail');
        expect(a.preview.content.title).to.equal(issue.title);
        expect(a.preview.content.text).to.equal(`${issue.kbNumber} · ${issue.status}`);
      });
    });

    it('pages with skip and count', async () => {
      const ten = (await search('posting', { skip: 0, count: 10 })).body.composeExtension.attachments;
      const first = (await search('posting', { skip: 0, count: 5 })).body.composeExtension.attachments;
      const second = (await search('posting', { skip: 5, count: 5 })).body.composeExtension.attachments;
      const kb = (list: any[]) => list.map((a) => a.preview.content.text);
      expect(kb([...first, ...second])).to.deep.equal(kb(ten));
      expect(new Set(kb([...first, ...second])).size).to.equal(10);
      const beyond = (await search('posting', { skip: 500, count: 25 })).body.composeExtension;
      expect(beyond).to.deep.include({ type: 'result', attachments: [] });
    });

    it('lists the most recently updated entries for an empty query and on the initial run', async () => {
      const newest = bot.running.search.search('', { limit: 25 }).map((h) => `${h.issue.kbNumber} · ${h.issue.status}`);
      const empty = (await search('')).body.composeExtension.attachments;
      expect(empty.map((a: any) => a.preview.content.text)).to.deep.equal(newest);
      const initial = await query({ commandId: SEARCH_COMMAND_ID, parameters: [{ name: 'initialRun', value: 'true' }], queryOptions: { skip: 0, count: 25 } });
      expect(initial.body.composeExtension.attachments.map((a: any) => a.preview.content.text)).to.deep.equal(newest);
    });

    it('takes the chat syntax: AND and a status filter', async () => {
      const res = await search('batch AND workflow status:open');
      const list = res.body.composeExtension.attachments;
      expect(list.length).to.be.greaterThan(0);
      for (const a of list) expect(a.preview.content.text).to.match(/ · Open$/);
    });

    it('answers a bad request with a message or an empty list, never an error', async () => {
      const bad: unknown[] = [
        undefined,
        'search',
        { commandId: 'somethingElse', parameters: [{ name: 'query', value: 'batch' }] },
        { commandId: SEARCH_COMMAND_ID, parameters: 'batch' },
        { commandId: SEARCH_COMMAND_ID, parameters: [{ name: 'query', value: 'batch' }], queryOptions: { skip: -1, count: 'many' } },
        { commandId: SEARCH_COMMAND_ID, parameters: [{ name: 'query', value: 'batch status:nonsense' }] },
      ];
      for (const value of bad) {
        const res = await query(value);
        expect(res.status, JSON.stringify(value)).to.equal(200);
        expect(res.body.composeExtension.type).to.equal('message');
        expect(res.body.composeExtension.text).to.be.a('string').and.not.equal('');
      }
      // a query that is not text searches for nothing: the newest entries
      const odd = await query({ commandId: SEARCH_COMMAND_ID, parameters: [{ name: 'query', value: { $ne: 1 } }] });
      expect(odd.status).to.equal(200);
      expect(odd.body.composeExtension.type).to.equal('result');
      const noMatch = await search('qwxzvbnk');
      expect(noMatch.body.composeExtension).to.deep.include({ type: 'result', attachments: [] });
    });
  });

  it('stays quiet when a user shares a known-issue card from the extension in the bot chat', async () => {
    const [hit] = bot.running.search.search('batch', { limit: 1 });
    const ext = (await query({ commandId: SEARCH_COMMAND_ID, parameters: [{ name: 'query', value: 'batch' }] })).body;
    const card = ext.composeExtension.attachments[0];
    expect(card.preview.content.title).to.equal(hit!.issue.title);
    const shared = {
      ...message(connector.url, ALEX, chat, '<span class="inline-compose-card" itemid="0" itemtype="http://schema.skype.com/InputExtension"></span>'),
      attachments: [{ contentType: card.contentType, content: card.content }],
    };
    const res = await bot.post(shared);
    expect(res.status).to.equal(200);
    expect(res.body?.activities ?? []).to.deep.equal([]);
  });

  it('answers for the tenant of any conversation (the knowledge base is public)', async () => {
    const activity = message(connector.url, ALEX, personal(), 'search batch');
    activity.conversation.tenantId = '11111111-1111-1111-1111-111111111111';
    expect(TENANT).not.to.equal(activity.conversation.tenantId);
    const res = await bot.post({ ...activity, channelData: { tenant: { id: activity.conversation.tenantId } } });
    expect(results(cardOf(res.body)).length).to.be.greaterThan(0);
  });
});

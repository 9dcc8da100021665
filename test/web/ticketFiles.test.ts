import { expect } from 'chai';
import type { Ticket } from '../../src/domain/ticket.js';
import { COLLECTIONS } from '../../src/services/collections.js';
import { type AttachmentDoc, INCIDENT_COLLECTIONS } from '../../src/services/incidentService.js';
import { ManualClock } from '../../src/time.js';
import { escapeHtml, fileNameParams } from '../../src/web/ticketFiles.js';
import { SAMPLE } from '../attachments/fileServer.js';
import {
  type BotUnderTest,
  type Connector,
  type Conv,
  deskThread,
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
import { call } from './dialogFixtures.js';
import { NOW, putTicketWithFiles, type TestFile } from './tabFixtures.js';

// A ticket's attachments for those who may see the ticket, over real HTTP: the desk card's button
// (task/fetch) opens a dialog on the bot's own host, whose session lets the page list the files
// and send each one. The Agents Playground has no dialogs, so this is the level it is tested at.

const FILES: TestFile[] = [
  { name: 'posting <error>.png', contentType: 'image/png', bytes: SAMPLE.png },
  { name: 'trace résumé.log', contentType: 'text/plain', bytes: SAMPLE.log },
  { name: 'report.pdf', contentType: 'application/pdf', bytes: SAMPLE.pdf },
];

describe('a ticket’s attachments dialog (task/fetch, the page, the files)', () => {
  let connector: Connector;
  let bot: BotUnderTest;
  const clock = new ManualClock(new Date(NOW));

  before(async () => {
    connector = await startConnector();
  });
  after(async () => connector.stop());
  beforeEach(async () => {
    clock.set(NOW);
    bot = await startBot({ clock });
    await putTicketWithFiles(bot, 7, FILES);
    await putTicketWithFiles(bot, 8, []);
  });
  afterEach(async () => {
    await bot.stop();
    removeDir(bot.dataDir);
  });

  function fetchTask(who: Who, conv: Conv, data: unknown, theme = 'default') {
    const { text: _text, deliveryMode: _mode, ...activity } = message(connector.url, who, conv, '');
    return bot.post({ ...activity, type: 'invoke', name: 'task/fetch', value: { data, context: { theme } } });
  }
  const filesButton = (ticketId: string) => ({ msteams: { type: 'task/fetch' }, dialog: 'attachments', ticketId });

  /** The dialog's URL for this user, as Teams would open it. */
  async function open(who: Who, conv: Conv, ticketId = 'INC-000007'): Promise<URL> {
    const res = await fetchTask(who, conv, filesButton(ticketId));
    expect(res.status).to.equal(200);
    expect(res.body.task.type, JSON.stringify(res.body)).to.equal('continue');
    return new URL(res.body.task.value.url);
  }
  const fileUrl = (page: URL, attachmentId: string, download = false) =>
    `${bot.url}/dialogs/attachments/file?session=${page.searchParams.get('session')}&id=${encodeURIComponent(attachmentId)}${download ? '&download=1' : ''}`;

  it('opens for the desk in the desk thread: a page listing the files, each sent as it was accepted', async () => {
    const url = await open(PATTI, deskThread());
    expect(url.origin).to.equal(bot.url);
    expect(url.pathname).to.equal('/dialogs/attachments');

    const page = await call(url.href);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.equal('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).to.include("default-src 'none'");
    expect(page.headers.get('cache-control')).to.equal('no-store');
    expect(page.text).to.include('INC-000007 attachments');
    expect(page.text).to.include('3 files sent by Megan Bowen');
    // Names are text, never markup
    expect(page.text).to.include('posting &lt;error&gt;.png');
    expect(page.text).not.to.include('<error>');
    expect(page.text).to.include('PNG image, 72 bytes');
    expect(page.text).to.match(/<img class="file-preview" src="\.\.\/dialogs\/attachments\/file\?session=[^"]+&amp;id=draft-7%3Apng"/);
    expect(page.text).not.to.match(/<script/i);

    const png = await fetch(fileUrl(url, 'draft-7:png'));
    expect(png.status).to.equal(200);
    expect(png.headers.get('content-type')).to.equal('image/png');
    expect(png.headers.get('content-disposition')).to.equal(`inline; filename="posting <error>.png"; filename*=UTF-8''posting%20%3Cerror%3E.png`);
    expect(png.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(png.headers.get('content-security-policy')).to.include('sandbox');
    expect(png.headers.get('cache-control')).to.equal('private, no-store');
    expect(Buffer.from(await png.arrayBuffer()).equals(SAMPLE.png)).to.equal(true);

    const log = await fetch(fileUrl(url, 'draft-7:log', true));
    expect(log.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
    expect(log.headers.get('content-disposition')).to.equal(`attachment; filename="trace r_sum_.log"; filename*=UTF-8''trace%20r%C3%A9sum%C3%A9.log`);
    expect(await log.text()).to.equal(SAMPLE.log.toString());

    // A PDF is not opened in place, even when asked to
    const pdf = await fetch(fileUrl(url, 'draft-7:pdf'));
    expect(pdf.headers.get('content-disposition')).to.match(/^attachment; filename="report.pdf"/);
    expect(pdf.headers.get('content-type')).to.equal('application/pdf');
  });

  it('shows the page in the Teams theme the dialog was opened in', async () => {
    for (const [theme, shown] of [['dark', 'dark'], ['contrast', 'contrast'], ['default', 'default'], ['"><script>', 'default']]) {
      const res = await fetchTask(PATTI, deskThread(), filesButton('INC-000007'), theme);
      const url = new URL(res.body.task.value.url);
      const page = await call(url.href);
      expect(page.status, theme).to.equal(200);
      expect(page.text, theme).to.include(`<html lang="en" data-theme="${shown}">`);
    }
  });

  it('opens for the reporter, and refuses whoever may not see the ticket, saying so in the dialog', async () => {
    const page = await call((await open(MEGAN, personal())).href);
    expect(page.status).to.equal(200);

    const res = await fetchTask(ISAIAH, personal(), filesButton('INC-000007'));
    expect(res.body.task).to.deep.equal({ type: 'message', value: 'I can\'t find INC-000007 among the tickets you can see.' });
    const none = await fetchTask(PATTI, deskThread(), filesButton('INC-000008'));
    expect(none.body.task).to.deep.equal({ type: 'message', value: 'INC-000008 has no attachments.' });
    const bad = await fetchTask(PATTI, deskThread(), { msteams: { type: 'task/fetch' }, dialog: 'attachments' });
    expect(bad.body.task.type).to.equal('message');
    expect(bad.body.task.value).to.include('names no ticket');
  });

  it('answers 404 for another ticket’s file, a made-up session, an expired one, and never opens the incident form with it', async () => {
    const url = await open(PATTI, deskThread());
    const session = url.searchParams.get('session')!;
    const other = await call(fileUrl(url, 'draft-8:png'));
    expect(other.status).to.equal(404);
    expect(other.text).to.include('This link has expired or is not valid');
    expect((await call(`${bot.url}/dialogs/attachments?session=${'x'.repeat(24)}`)).status).to.equal(404);
    expect((await call(`${bot.url}/dialogs/attachments`)).status).to.equal(404);
    expect((await call(`${bot.url}/dialogs/attachments/file?session=${session}&id=..%2F..%2Fstore`)).status).to.equal(404);

    // The session is for these files only
    const form = await call(`${bot.url}/api/incidents/form?session=${encodeURIComponent(session)}`);
    expect(form.status).to.equal(401);

    clock.advance(61 * 60_000);
    expect((await call(url.href)).status).to.equal(404);
    expect((await call(fileUrl(url, 'draft-7:png'))).status).to.equal(404);
  });

  it('says so when a file is missing on disk', async () => {
    const url = await open(PATTI, deskThread());
    const doc = (await bot.running.store.get<AttachmentDoc>(INCIDENT_COLLECTIONS.attachments, 'draft-7:pdf'))!;
    await bot.running.store.write([
      { op: 'put', collection: INCIDENT_COLLECTIONS.attachments, id: doc.id, value: { ...doc.value, path: 'draft-7/gone.pdf' }, ifMatch: doc.eTag },
    ]);
    const res = await call(fileUrl(url, 'draft-7:pdf'));
    expect(res.status).to.equal(404);
    expect(res.text).to.include('This file cannot be read on the server just now');
    expect(res.text).not.to.include(doc.value.path);
  });

  it('"status INC-000007" shows the same button to the reporter', async () => {
    const res = await bot.post(message(connector.url, MEGAN, personal(), 'status INC-000007'));
    const card = res.body.activities.find((a: any) => a.attachments?.length).attachments[0].content;
    expect(card.actions).to.deep.equal([{ type: 'Action.Submit', title: 'Attachments (3)', data: filesButton('INC-000007') }]);
    const none = await bot.post(message(connector.url, MEGAN, personal(), 'status INC-000008'));
    expect(none.body.activities.find((a: any) => a.attachments?.length).attachments[0].content.actions ?? []).to.deep.equal([]);
  });

  it('the desk card has an "Attachments (3)" button that sends this task/fetch, and none without files', async () => {
    const { deskCardView } = await import('../../src/desk/deskViews.js');
    const { renderCard } = await import('../../bot/cards.js');
    const { demoDirectory } = await import('../helpers/fixtures.js');
    const withFiles = (await bot.running.store.get<Ticket>(COLLECTIONS.tickets, 'INC-000007'))!.value;
    const without = (await bot.running.store.get<Ticket>(COLLECTIONS.tickets, 'INC-000008'))!.value;
    const buttons = (t: Ticket) => (renderCard(deskCardView(t, demoDirectory(), new Date(NOW))).content as any).actions as any[];
    const button = buttons(withFiles).find((a) => a.title === 'Attachments (3)');
    expect(button).to.deep.include({ type: 'Action.Submit', data: filesButton('INC-000007') });
    expect(buttons(without).map((a) => a.title)).not.to.include.members(['Attachments (0)', '']);
    expect(buttons(without).some((a) => a.type === 'Action.Submit')).to.equal(false);
  });
});

describe('ticket files helpers', () => {
  it('escapes what a page shows, and names a download for old and new clients', () => {
    expect(escapeHtml(`<a href="x">Tom's & co</a>`)).to.equal('&lt;a href=&quot;x&quot;&gt;Tom&#39;s &amp; co&lt;/a&gt;');
    expect(fileNameParams('a "b"\\c.txt')).to.equal(`filename="a _b__c.txt"; filename*=UTF-8''a%20%22b%22%5Cc.txt`);
    expect(fileNameParams('日本.png')).to.equal(`filename="__.png"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.png`);
    expect(fileNameParams("it's (1).log")).to.equal(`filename="it's (1).log"; filename*=UTF-8''it%27s%20%281%29.log`);
  });
});

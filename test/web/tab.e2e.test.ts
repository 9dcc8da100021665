import { expect } from 'chai';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { projectRoot } from '../../src/config.js';
import { APP_ID, closedPortUrl, jwt, KID, type OpenIdServer, rsa, ssoClaims, startOpenIdServer } from '../auth/ssoFixtures.js';
import { TENANT } from '../helpers/fixtures.js';
import { launchChromium } from '../e2e/playground.js';
import {
  actionData,
  ALEX,
  type BotUnderTest,
  cardOf,
  type Connector,
  inputValues,
  invoke,
  message,
  personal,
  removeDir,
  startBot,
  startConnector,
} from '../helpers/botHarness.js';
import { SAMPLE } from '../attachments/fileServer.js';
import { PEOPLE, putTicketsAt, putTicketWithFiles } from './tabFixtures.js';

// The Incidents tab in headless Chromium. Outside Teams (a plain browser tab): in local mode it
// explains how to open it in Teams and shows the demo user's tickets, one of them an outage
// reported through the bot's HTTP API just before; with an app id it only explains. Inside an
// emulated Teams host: Teams SSO end to end (the token checked against a local JWKS) and the deep
// link. Screenshots go to test-results/ (tab-list.png, tab-detail.png; copy them to docs/ by hand for the
// README, and tab-teams-detail.png).

const RESULTS = path.join(projectRoot, 'test-results');

describe('@browser Incidents tab', function () {
  this.timeout(60_000);
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let external: string[];
  let pageErrors: string[];

  before(async () => {
    browser = await launchChromium();
    mkdirSync(RESULTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 960, height: 900 }, timezoneId: 'America/New_York', locale: 'en-US' });
    page = await context.newPage();
    external = [];
    pageErrors = [];
    page.on('request', (r) => {
      const local = /^http:\/\/127\.0\.0\.1:\d+\//.test(r.url()) || r.url().startsWith('data:');
      // The emulated Teams host and the tab's https origin are answered by Playwright (below).
      if (!local && !r.url().startsWith(`${TEAMS}/`) && !r.url().startsWith(`${TAB}/`)) external.push(r.url());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });
  afterEach(async () => {
    await context.close();
    // teams-js asks a CDN for its list of Teams origins; the CSP blocks it and nothing else leaves.
    expect(external.filter((u) => !u.startsWith('https://res.cdn.office.net/teams-js/'))).to.deep.equal([]);
    expect(pageErrors).to.deep.equal([]);
  });

  describe('outside Teams, in local mode', () => {
    let bot: BotUnderTest;
    let connector: Connector;
    let outageId: string;

    before(async () => {
      connector = await startConnector();
      bot = await startBot();
      outageId = await reportOutage(bot, connector);
      // Alex's earlier incidents, one in each SLA state, and one of his project by Megan.
      await putTicketsAt(bot.running.store, new Date().toISOString(), [
        { seq: 100004, reporter: PEOPLE.megan, minutesAgo: 95, dueIn: 145, title: 'Fixed asset depreciation posts to the wrong period' },
        { seq: 100003, reporter: PEOPLE.alex, minutesAgo: 260, dueIn: -20, severity: 'A', title: 'MRP run fails with an update conflict' },
        { seq: 100002, reporter: PEOPLE.alex, minutesAgo: 1500, acknowledgedMet: false, severity: 'C', title: 'Vendor invoice workflow stuck at approval' },
        {
          seq: 100001,
          reporter: PEOPLE.alex,
          minutesAgo: 2900,
          acknowledgedMet: true,
          status: 'resolved',
          title: 'Batch job stuck in Waiting',
          resolution: 'A stuck batch server was restarted and the recurring jobs re-queued.',
          events: [
            { after: 12, by: PEOPLE.patti, type: 'acknowledged', text: 'Patti Fernandez acknowledged the incident (12 minutes after submission).' },
            { after: 40, by: PEOPLE.patti, type: 'update', text: 'The batch server was restarted; watching the queue.' },
            { after: 75, by: PEOPLE.patti, type: 'resolved', text: 'Resolved: the recurring jobs run again.' },
          ],
        },
      ]);
    });
    after(async () => {
      await bot?.stop();
      if (bot) removeDir(bot.dataDir);
      await connector?.stop();
    });

    it("explains how to open it in Teams, and shows the demo user's tickets with their SLA state", async () => {
      await page.goto(`${bot.url}/tab/incidents`);
      await page.locator('#tickets .ticket').first().waitFor();
      expect(await page.getByRole('heading', { name: 'Open this tab in Microsoft Teams' }).isVisible()).to.equal(true);
      expect(await page.locator('#outside-teams').textContent()).to.match(/select\s+Apps/);
      expect(await page.locator('#banner').textContent()).to.equal('Local mode: showing Alex Wilber (demo)');

      const rows = page.locator('#tickets .ticket');
      expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-ticket')))).to.deep.equal([
        outageId,
        'INC-100004',
        'INC-100003',
        'INC-100002',
        'INC-100001',
      ]);
      const sla = (id: string) => page.locator(`.ticket[data-ticket="${id}"] .sla`);
      expect(await sla(outageId).textContent()).to.match(/^SLA due by \d{1,2}:\d{2} [AP]M EST$/);
      expect(await sla(outageId).getAttribute('class')).to.include('status-warning');
      expect(await sla('INC-100003').textContent()).to.match(/^SLA overdue \(was due by \d{1,2}:\d{2} [AP]M EST\)$/);
      expect(await sla('INC-100003').getAttribute('class')).to.include('status-attention');
      expect(await sla('INC-100002').textContent()).to.equal('SLA missed');
      expect(await sla('INC-100001').textContent()).to.equal('SLA met');
      expect(await sla('INC-100001').getAttribute('class')).to.include('status-good');
      expect(await page.locator(`.ticket[data-ticket="${outageId}"] .kind`).textContent()).to.equal('Outage');
      expect(await page.locator('.ticket[data-ticket="INC-100004"] .meta').textContent()).to.include('reported by Megan Bowen');

      // Local mode has no bot id for a deep link: the button says what it does in Teams.
      await page.getByRole('button', { name: 'Report an outage' }).click();
      expect(await page.locator('#action-hint').textContent()).to.include('“report outage”');
      await page.locator('#action-hint').evaluate((el) => el.setAttribute('hidden', '')); // not in the screenshot
      await page.screenshot({ path: path.join(RESULTS, 'tab-list.png'), fullPage: true });
    });

    it('opens the timeline of one ticket, and goes back to the list', async () => {
      await page.goto(`${bot.url}/tab/incidents`);
      await page.getByRole('link', { name: /^INC-100001: Batch job stuck in Waiting/ }).click();
      await page.locator('#detail-view').waitFor();
      expect(await page.locator('#detail-heading').textContent()).to.equal('INC-100001: Batch job stuck in Waiting');
      expect(page.url()).to.match(/#\/INC-100001$/);
      const events = await page.locator('#timeline .event .what').allTextContents();
      expect(events).to.deep.equal([
        'Incident submitted (severity B).',
        'Patti Fernandez acknowledged the incident (12 minutes after submission).',
        'The batch server was restarted; watching the queue.',
        'Resolved: the recurring jobs run again.',
      ]);
      expect(await page.locator('#detail-status .sla').textContent()).to.equal('SLA met');
      expect(await page.locator('#detail-facts').textContent()).to.include('Platform › Batch jobs');
      expect(await page.locator('#detail-resolution').textContent()).to.equal('A stuck batch server was restarted and the recurring jobs re-queued.');
      expect(await page.locator('#outside-teams').isVisible()).to.equal(false); // the list view has the instructions
      await page.screenshot({ path: path.join(RESULTS, 'tab-detail.png'), fullPage: true });

      // The outage reported through the bot has its timeline too.
      await page.getByRole('link', { name: '← All incidents' }).click();
      await page.locator('#list-view').waitFor();
      await page.locator(`.ticket[data-ticket="${outageId}"] a`).click();
      await page.locator('#detail-view').waitFor();
      expect(await page.locator('#detail-heading').textContent()).to.equal(`${outageId}: Nobody can sign in`);
      expect(await page.locator('#detail-sla-target').textContent()).to.equal('Acknowledgement: 30 minutes, 24x7');
      expect((await page.locator('#timeline .event').count())).to.be.greaterThan(0);
      await page.goBack();
      await page.locator('#list-view').waitFor();
      expect(await page.locator('#detail-view').isVisible()).to.equal(false);
    });

    it('says so when a link names a ticket the user cannot see', async () => {
      await page.goto(`${bot.url}/tab/incidents#/INC-999999`);
      await page.locator('#load-error').waitFor();
      expect(await page.locator('#load-error').textContent()).to.include('There is no ticket INC-999999');
      expect(await page.locator('#tickets .ticket').count()).to.equal(5);
    });

    it("shows a ticket's attachments: the image's preview from the server, each file to open or download", async () => {
      await putTicketWithFiles(bot, 100009, [
        { name: 'posting error.png', contentType: 'image/png', bytes: readFileSync(path.join(projectRoot, 'manifest', 'color.png')) },
        { name: 'report.pdf', contentType: 'application/pdf', bytes: SAMPLE.pdf },
      ], PEOPLE.alex);
      await page.goto(`${bot.url}/tab/incidents#/INC-100009`);
      await page.locator('#detail-files-block').waitFor();
      const items = await page.locator('#detail-files .file').allInnerTexts();
      expect(items[0]).to.match(/posting error\.png\s+PNG image, [\d.]+ KB · Open · Download/);
      expect(items[1]).to.match(/report\.pdf\s+PDF document, 18 bytes · Download/);
      const preview = page.locator('#detail-files img.file-preview');
      expect(await preview.evaluate((img: { decode(): Promise<void>; naturalWidth: number }) => img.decode().then(() => img.naturalWidth))).to.equal(192);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download' }).nth(1).click()]);
      expect(download.suggestedFilename()).to.equal('report.pdf');
      await page.screenshot({ path: path.join(RESULTS, 'tab-files.png'), fullPage: true });
    });
  });

  describe('in a Teams host (emulated), with an app id', () => {
    const entra = rsa();
    let openId: OpenIdServer;
    let bot: BotUnderTest;

    before(async () => {
      openId = await startOpenIdServer([{ kid: KID, publicKey: entra.publicKey }]);
      bot = await startBot({
        env: { MicrosoftAppId: APP_ID, MicrosoftAppPassword: 'x', PUBLIC_BASE_URL: TAB, TEAMS_SSO_OPENID_METADATA_URL: openId.metadataUrl },
      });
      await putTicketsAt(bot.running.store, new Date().toISOString(), [
        { seq: 100002, reporter: PEOPLE.alex, kind: 'outage', minutesAgo: 8, dueIn: 22, title: 'Nobody can sign in' },
        { seq: 100001, reporter: PEOPLE.alex, minutesAgo: 600, acknowledgedMet: true, title: 'Batch job stuck in Waiting' },
        // another tenant's, under Alex's object id: never shown
        { seq: 100003, reporter: PEOPLE.alex, projectId: 'fabrikam-fo', minutesAgo: 5, title: 'Fabrikam ledger' },
      ]);
    });
    after(async () => {
      await bot?.stop();
      if (bot) removeDir(bot.dataDir);
      await openId?.stop();
    });

    async function openInTeams(token: string | undefined): Promise<void> {
      // The last route added is tried first: the two hosts we answer for, then nothing else.
      await context.route('**/*', (route) => route.abort());
      await context.route(`${TEAMS}/**`, (route) => route.fulfill({ contentType: 'text/html', body: teamsHostPage(token) }));
      await context.route(`${TAB}/**`, async (route) => {
        const url = new URL(route.request().url());
        await route.fulfill({ response: await route.fetch({ url: `${bot.url}${url.pathname}${url.search}` }) });
      });
      await page.goto(`${TEAMS}/_test/host`);
    }
    const tab = () => page.frameLocator('#tab');

    it("signs in with the Teams SSO token and shows the user's tickets, then opens the bot's chat", async () => {
      const token = jwt(ssoClaims({ oid: PEOPLE.alex.aadObjectId, tid: TENANT }), entra.privateKey);
      const apiAuth: string[] = [];
      page.on('request', (r) => r.url().includes('/api/tab/') && apiAuth.push(r.headers().authorization ?? ''));
      await openInTeams(token);
      await tab().locator('#tickets .ticket').first().waitFor();
      expect(await tab().locator('#tickets .ticket').evaluateAll((els) => els.map((e) => e.getAttribute('data-ticket')))).to.deep.equal([
        'OUT-100002',
        'INC-100001',
      ]);
      expect(apiAuth).to.deep.equal([`Bearer ${token}`]);
      expect(await tab().locator('#outside-teams').isVisible()).to.equal(false);
      expect(await tab().locator('#banner').isVisible()).to.equal(false);
      expect(await tab().locator('html').getAttribute('data-theme')).to.equal('dark'); // the Teams theme
      expect(await page.evaluate(() => (globalThis as any).calls)).to.include.members(['initialize', 'getContext', 'authentication.getAuthToken']);

      await tab().getByRole('button', { name: 'Report an outage' }).click();
      await page.waitForFunction(() => (globalThis as any).links.length > 0);
      expect(await page.evaluate(() => (globalThis as any).links)).to.deep.equal([
        `https://teams.microsoft.com/l/chat/0/0?users=28:${APP_ID}&message=report%20outage`,
      ]);
      expect(await tab().locator('#action-hint').isVisible()).to.equal(false);

      await tab().getByRole('link', { name: /^OUT-100002: Nobody can sign in/ }).click();
      await tab().locator('#detail-view').waitFor();
      expect(await tab().locator('#detail-sla-target').textContent()).to.equal('Acknowledgement: 30 minutes, 24x7');
      await page.screenshot({ path: path.join(RESULTS, 'tab-teams-detail.png') });
    });

    it('says why when Teams cannot sign the user in', async () => {
      await openInTeams(undefined);
      await tab().locator('#load-error').waitFor();
      expect(await tab().locator('#load-error').textContent()).to.include('Teams could not sign you in to F&O Support (resourceRequiresConsent)');
      expect(await tab().locator('#tickets .ticket').count()).to.equal(0);
      expect(await tab().getByRole('button', { name: 'Refresh' }).isVisible()).to.equal(true);
    });
  });

  describe('outside Teams, with an app id', () => {
    let bot: BotUnderTest;

    before(async () => {
      bot = await startBot({
        env: { MicrosoftAppId: '3c5e7a9b-1d2f-4a6b-8c0d-2e4f6a8b0c1d', MicrosoftAppPassword: 'x', TEAMS_SSO_OPENID_METADATA_URL: await closedPortUrl() },
      });
    });
    after(async () => {
      await bot?.stop();
      if (bot) removeDir(bot.dataDir);
    });

    it('only says how to open it in Teams: no tickets without Teams sign-in', async () => {
      const answers: number[] = [];
      page.on('response', (r) => r.url().includes('/api/tab/') && answers.push(r.status()));
      await page.goto(`${bot.url}/tab/incidents`);
      await page.getByRole('heading', { name: 'Open this tab in Microsoft Teams' }).waitFor();
      await page.locator('#loading').waitFor({ state: 'hidden' });
      expect(answers).to.deep.equal([401]);
      expect(await page.locator('#banner').isVisible()).to.equal(false);
      expect(await page.locator('#list-view').isVisible()).to.equal(false);
      expect(await page.locator('#load-error').isVisible()).to.equal(false);
      expect(await page.locator('#bot-actions').isVisible()).to.equal(false);
    });
  });
});

// Teams itself cannot run here, but its side of teams-js is a postMessage protocol: a page served
// as https://teams.microsoft.com (a valid teams-js host origin; Playwright answers for it) frames
// the tab, served as https://tab.contoso.example (Playwright forwards it to the bot), and answers
// initialize, getContext, authentication.getAuthToken (a token signed here) and executeDeepLink.
const TEAMS = 'https://teams.microsoft.com';
const TAB = 'https://tab.contoso.example';

function teamsHostPage(token: string | undefined): string {
  const context = {
    locale: 'en-us',
    theme: 'dark',
    entityId: 'incidents',
    frameContext: 'content',
    hostClientType: 'web',
    hostName: 'Teams',
    userObjectId: PEOPLE.alex.aadObjectId,
    userDisplayName: 'Alex Wilber',
    loginHint: 'alexw@example.com',
    userPrincipalName: 'alexw@example.com',
    tid: TENANT,
  };
  const runtime = { apiVersion: 4, supports: { app: {}, appEntity: {}, pages: { appButton: {}, tabs: {}, config: {}, backStack: {}, fullTrust: {} }, teams: { fullTrust: {} } } };
  return `<!doctype html><html><body style="margin:0">
<iframe id="tab" src="${TAB}/tab/incidents" style="width:100%;height:880px;border:0"></iframe>
<script>
  window.calls = [];
  window.links = [];
  const token = ${JSON.stringify(token ?? null)};
  window.addEventListener('message', (event) => {
    const m = event.data;
    if (!m || typeof m.func !== 'string' || typeof m.id !== 'number') return;
    window.calls.push(m.func);
    const reply = (args) => event.source.postMessage({ id: m.id, uuid: m.uuid, args }, event.origin);
    if (m.func === 'initialize') reply(['content', 'web', ${JSON.stringify(JSON.stringify(runtime))}, '2.0.0']);
    else if (m.func === 'getContext') reply([${JSON.stringify(context)}]);
    else if (m.func === 'authentication.getAuthToken') reply(token ? [true, token] : [false, 'resourceRequiresConsent']);
    else if (m.func === 'executeDeepLink') { window.links.push(m.args[0]); reply([true]); }
  });
</script></body></html>`;
}

/** Reports an outage as Alex through the bot's HTTP API, as Teams would; returns its number. */
async function reportOutage(bot: BotUnderTest, connector: Connector): Promise<string> {
  const conv = personal();
  let card = cardOf((await bot.post(message(connector.url, ALEX, conv, 'report outage'))).body);
  const press = async (verb: string, inputs: Record<string, string>) => {
    const res = await bot.post(invoke(connector.url, ALEX, conv, verb, { ...inputValues(card), ...inputs, ...actionData(card, verb) }));
    expect(res.status).to.equal(200);
    card = cardOf(res.body);
  };
  await press('outage.confirm', { confirmed: 'true', scenarioId: 'sign-in' });
  await press('outage.details', { title: 'Nobody can sign in', details: 'Every user gets an error page since 8:50.' });
  await press('outage.contact', { phone: '+1 425 555 0100' });
  const id = /OUT-\d+/.exec(JSON.stringify(card))?.[0];
  if (!id) throw new Error('the outage was not reported');
  return id;
}

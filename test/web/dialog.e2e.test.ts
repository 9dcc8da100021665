import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import type { Ticket } from '../../src/domain/ticket.js';
import { COLLECTIONS } from '../../src/services/collections.js';
import { launchChromium } from '../e2e/playground.js';
import { type BotUnderTest, removeDir, startBot } from '../helpers/botHarness.js';

// The incident dialog page in headless Chromium, outside Teams (a plain browser tab): the bot on
// port 0 in local mode serves the page, and the page submits to /api/incidents as the demo user.
// Inside Teams cannot be emulated here: the Agents Playground does not host dialogs; the Teams
// side is tested at the invoke level (dialogBot.test.ts).

describe('@browser incident dialog page outside Teams', function () {
  this.timeout(60_000);
  let bot: BotUnderTest;
  let browser: Browser;
  let page: Page;
  let searches: string[];
  let external: string[];
  let pageErrors: string[];

  before(async () => {
    bot = await startBot();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await bot?.stop();
    if (bot) removeDir(bot.dataDir);
  });
  beforeEach(async () => {
    page = await browser.newPage();
    searches = [];
    external = [];
    pageErrors = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.origin !== new URL(bot.url).origin) external.push(r.url());
      else if (url.pathname === '/api/search') searches.push(url.search);
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${bot.url}/dialogs/incident`);
    await page.getByLabel('Title', { exact: true }).waitFor();
  });
  afterEach(async () => {
    await page.close();
    // teams-js asks a CDN for its list of Teams origins; the CSP blocks it and nothing else leaves.
    expect(external.filter((u) => !u.startsWith('https://res.cdn.office.net/teams-js/'))).to.deep.equal([]);
    expect(pageErrors).to.deep.equal([]);
  });

  const firstResult = () => page.locator('#solutions .solution a').first().textContent();
  const status = () => page.locator('#solutions-status').textContent();

  /** Waits until the suggestions shown are those for a query holding `fragment` (debounce, then the answer). */
  async function settled(fragment: string): Promise<void> {
    await page.locator(`#solutions[data-query*="${fragment}"]`).waitFor({ state: 'attached' });
  }

  it('says it runs outside Teams, and refreshes the possible solutions as the description grows', async () => {
    await page.getByText('Open in Teams for the full experience').waitFor();

    await page.getByLabel('Issue category', { exact: true }).selectOption({ label: 'Platform' });
    await page.getByLabel('Issue area', { exact: true }).selectOption({ label: 'Batch jobs' });
    await settled('area=Batch+jobs');
    searches.length = 0;

    const title = page.getByLabel('Title', { exact: true });
    await title.pressSequentially('batch', { delay: 40 });
    await settled('title=batch&');
    const short = await firstResult();
    expect(await status()).to.match(/known issues? may match/);
    // Debounced: five keystrokes, one search.
    expect(searches.length).to.be.at.most(2);

    await title.pressSequentially(' job stuck in waiting', { delay: 25 });
    await settled('title=batch+job+stuck+in+waiting');
    const longer = await firstResult();
    expect(longer).to.not.equal(short);
    expect(longer).to.match(/stuck/i);
    expect(searches.at(-1)).to.include('title=batch+job+stuck+in+waiting');
    expect(searches.at(-1)).to.include('area=Batch+jobs');

    // A snippet shows the matched words, the status its LCS colour, and a link to the KB article.
    const first = page.locator('#solutions .solution').first();
    expect(await first.locator('mark').count()).to.be.greaterThan(0);
    expect(await first.locator('.status').getAttribute('class')).to.match(/status-(good|warning|accent|attention|default)/);
    expect(await first.locator('a').getAttribute('href')).to.match(/^https:\/\/fix\.lcs\.dynamics\.com\//);
  });

  it('shows "Searching…" while a search runs and drops the answer of a stale one', async () => {
    await page.getByLabel('Issue category', { exact: true }).selectOption({ label: 'Platform' });
    await settled('category=Platform');
    let held = 0;
    // Hold the first search of the title back: the newer one must win and the old one be aborted.
    await page.route('**/api/search?*', async (route) => {
      if (route.request().url().includes('title=workflow') && held++ === 0) {
        await new Promise((r) => setTimeout(r, 1500));
        await route.continue().catch(() => undefined); // the page aborted it meanwhile
        return;
      }
      await route.continue();
    });
    const aborted = new Promise<string>((resolve) =>
      page.on('requestfailed', (r) => r.url().includes('/api/search') && resolve(r.failure()?.errorText ?? '')),
    );
    const title = page.getByLabel('Title', { exact: true });
    await title.fill('workflow');
    await page.locator('#solutions-status', { hasText: 'Searching…' }).waitFor();
    await title.fill('batch job stuck in waiting');
    expect(await aborted).to.match(/ABORTED/i);
    await settled('title=batch+job+stuck+in+waiting');
    expect(await firstResult()).to.match(/stuck/i);
    await page.waitForTimeout(1700); // the held answer would have arrived by now
    expect(await firstResult()).to.match(/stuck/i);
  });

  it('submits a complete form and shows the incident number', async () => {
    await page.getByLabel('Project', { exact: true }).selectOption({ label: 'Contoso Finance and Operations' });
    await page.getByLabel('Issue category', { exact: true }).selectOption({ label: 'Platform' });
    await page.getByLabel('Issue area', { exact: true }).selectOption({ label: 'Batch jobs' });
    await page.getByLabel('Yes', { exact: true }).check();
    await page.getByLabel('Environment', { exact: true }).selectOption({ label: 'CONTOSO-PROD (production)' });
    await page.getByLabel('Title', { exact: true }).fill('Batch job stuck in Waiting');
    await page.getByLabel('Details and steps to reproduce', { exact: true }).fill('Every recurring batch job stays in Waiting since the update.');
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).to.equal('Alex Wilber'); // prefilled
    expect(await page.getByLabel('E-mail', { exact: true }).inputValue()).to.equal('alexw@example.com');
    await page.getByLabel('Phone', { exact: true }).fill('+1 425 555 0100');
    await page.getByLabel('Support contract', { exact: true }).selectOption({ index: 1 });
    await page.getByLabel(/Severity B/).check();
    await page.getByRole('button', { name: 'Submit' }).click();

    const heading = page.locator('#done-title');
    await heading.waitFor();
    const text = (await heading.textContent()) ?? '';
    const ticketId = /Incident (INC-\d+) submitted/.exec(text)?.[1];
    expect(ticketId, text).to.be.a('string');
    const stored = await bot.running.store.get<Ticket>(COLLECTIONS.tickets, ticketId!);
    expect(stored?.value).to.include({ title: 'Batch job stuck in Waiting', severity: 'B', environmentName: 'CONTOSO-PROD' });
  });

  it('shows each error beside its field and keeps everything typed', async () => {
    await page.getByLabel('Project', { exact: true }).selectOption({ label: 'Contoso Finance and Operations' });
    await page.getByLabel('Issue category', { exact: true }).selectOption({ label: 'Platform' });
    await page.getByLabel('Title', { exact: true }).fill('Workflow emails not sent');
    await page.getByLabel('E-mail', { exact: true }).fill('not-an-address');
    await page.getByLabel(/Severity A/).check();
    expect(await page.locator('#confirm24x7').isVisible()).to.equal(true);
    const before = await bot.running.store.count(COLLECTIONS.tickets);
    await page.getByRole('button', { name: 'Submit' }).click();

    const detailsError = page.locator('#details-error');
    await detailsError.waitFor();
    expect(await detailsError.textContent()).to.not.equal('');
    expect(await page.getByLabel('Details and steps to reproduce', { exact: true }).getAttribute('aria-invalid')).to.equal('true');
    expect(await page.locator('#contact\\.email-error').isVisible()).to.equal(true);
    expect(await page.locator('#area-error').isVisible()).to.equal(true);
    expect(await page.locator('#confirm24x7-error').isVisible()).to.equal(true);
    // Nothing typed is lost.
    expect(await page.getByLabel('Title', { exact: true }).inputValue()).to.equal('Workflow emails not sent');
    expect(await page.getByLabel('E-mail', { exact: true }).inputValue()).to.equal('not-an-address');
    expect(await page.getByLabel('Issue category', { exact: true }).inputValue()).to.equal('platform');
    expect(await page.getByLabel(/Severity A/).isChecked()).to.equal(true);
    expect(await bot.running.store.count(COLLECTIONS.tickets)).to.equal(before);

    // Fixing the fields and submitting again files it.
    await page.getByLabel('Issue area', { exact: true }).selectOption({ label: 'Workflow' });
    await page.getByLabel('Details and steps to reproduce', { exact: true }).fill('Approval e-mails stopped after the update.');
    await page.getByLabel('E-mail', { exact: true }).fill('alexw@example.com');
    await page.getByLabel('Phone', { exact: true }).fill('+1 425 555 0100');
    await page.getByLabel('Support contract', { exact: true }).selectOption({ index: 1 });
    await page.locator('#confirmCritical').check();
    await page.locator('#confirm24x7').check();
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.locator('#done-title').waitFor();
    expect(await page.locator('#done-title').textContent()).to.match(/^Incident INC-\d+ submitted$/);
  });

  it('"This solved my problem" ends the form without submitting', async () => {
    await page.getByLabel('Title', { exact: true }).fill('batch job stuck in waiting');
    await settled('title=batch+job+stuck+in+waiting');
    const before = await bot.running.store.count(COLLECTIONS.tickets);
    await page.locator('#solutions button.solved').first().click();
    await page.locator('#done-title').waitFor();
    expect(await page.locator('#done-title').textContent()).to.equal('Glad that helped');
    expect(await page.locator('#done-text').textContent()).to.match(/KB\d+ solved the problem/);
    expect(await bot.running.store.count(COLLECTIONS.tickets)).to.equal(before);
  });
});

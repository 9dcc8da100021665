import { expect } from 'chai';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { SEARCH_COMMAND_ID } from '../../bot/messageExtension.js';
import { projectRoot } from '../../src/config.js';
import { type BotUnderTest, removeDir, startBot } from '../helpers/botHarness.js';
import { launchChromium, PlaygroundPage, type RunningPlayground, startPlayground } from './playground.js';

// Issue search as Alex uses it in the Agents Playground: "search <words>" in chat, and the search
// message extension from the compose box ("Trigger Message Extension App" > Search Command).

const shots = path.join(projectRoot, 'test-results');

describe('@browser Issue search in the Agents Playground', function () {
  this.timeout(120_000);
  let browser: Browser;
  let bot: BotUnderTest;
  let playground: RunningPlayground;
  let alex: PlaygroundPage | undefined;

  before(async () => {
    mkdirSync(shots, { recursive: true });
    browser = await launchChromium();
    bot = await startBot();
    playground = await startPlayground({ botEndpoint: `${bot.url}/api/messages` });
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && alex)
      await alex.screenshot(path.join(shots, `failed-search-${this.currentTest.title.slice(0, 30).replace(/\W+/g, '-')}.png`));
    await alex?.close();
    alex = undefined;
  });
  after(async () => {
    await playground?.stop();
    await bot?.stop();
    if (bot) removeDir(bot.dataDir);
    await browser?.close();
  });

  it('answers "search <words>" with known issues, their status and a link, and explains usage and no results', async () => {
    alex = await PlaygroundPage.open(browser, playground.url);
    const top = bot.running.search.search('batch AND workflow', { status: 'Open' });
    expect(top.length).to.be.greaterThan(0);

    await alex.send('search batch AND workflow status:open');
    let text = await alex.waitForCard('Known issues for “batch AND workflow”');
    expect(text).to.include(top[0]!.issue.title);
    expect(text).to.include(top[0]!.issue.kbNumber);
    expect(text).to.include('Open');
    expect(text).to.match(/Tip: words match in any order/);
    await alex.card().getByText('Open in LCS').first().waitFor();
    // the matched words are bold in the snippet
    expect(await alex.card().locator('strong, b').count()).to.be.greaterThan(0);
    await alex.screenshot(path.join(shots, 'search-results.png'));

    await alex.send('search');
    text = await alex.waitForCard('Search known issues');
    expect(text).to.include('status:open');

    await alex.send('search qwxzvbnk');
    text = await alex.waitForCard('No known issues found');
    expect(text).to.include('Check the spelling');
  });

  it('inserts a known issue from the search message extension into the conversation', async () => {
    alex = await PlaygroundPage.open(browser, playground.url);
    const page = alex.page;
    const [first] = bot.running.search.search('batch job stuck', { limit: 1 });
    const issue = first!.issue;

    await page.getByRole('button', { name: 'Trigger Message Extension App' }).click();
    await page.getByRole('menuitem', { name: 'Search Command' }).click();
    await page.getByText('Specify Command ID or Parameter').click();
    await page.getByPlaceholder('Command ID').fill(SEARCH_COMMAND_ID);
    await page.getByPlaceholder('Parameter name').fill('query');
    await page.getByPlaceholder('Enter a search term').fill('batch job stuck');
    await page.keyboard.press('Enter');
    // the preview list: title, then KB number and status
    await page.getByText(`${issue.kbNumber} · ${issue.status}`).first().waitFor();
    await page.getByText(issue.title, { exact: true }).first().click();
    await alex.screenshot(path.join(shots, 'search-extension-inserted.png'));
    await page.getByRole('button', { name: 'Send Message' }).click();
    // the Playground's log shows the message with the card reaching the bot
    await page.getByText(/class="inline-compose-card"/).first().waitFor();
    const text = await alex.waitForCard(issue.kbNumber);
    expect(text).to.include(issue.title);
    expect(text).to.include(issue.status);
    // the card is for the people in the chat: the bot does not answer it as a command
    await page.waitForTimeout(1500);
    expect(await alex.card().innerText()).to.include(issue.kbNumber);
    expect(await page.getByText("I didn't understand").count()).to.equal(0);
  });
});

import { expect } from 'chai';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { projectRoot } from '../../src/config.js';
import { type BotUnderTest, removeDir, startBot } from '../helpers/botHarness.js';
import { launchChromium, PlaygroundPage, type RunningPlayground, startPlayground } from './playground.js';

// Support plans as Alex manages them in the Agents Playground (issue 4).

const shots = path.join(projectRoot, 'test-results');

describe('@browser support plans in the Agents Playground', function () {
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
    if (this.currentTest?.state === 'failed' && alex) await alex.screenshot(path.join(shots, 'failed-plans.png'));
    await alex?.close();
  });
  after(async () => {
    await playground?.stop();
    await bot?.stop();
    if (bot) removeDir(bot.dataDir);
    await browser?.close();
  });

  it('shows the demo plans grouped as LCS groups them, adds the demo contract and lists it', async () => {
    alex = await PlaygroundPage.open(browser, playground.url);
    await alex.send('support plans');
    let text = await alex.waitForCard('Contract ID / access ID');
    for (const group of ['PartnerSource Business Center account', 'Login-specific', 'Tenant subscription', 'Software Assurance'])
      expect(text).to.include(group);
    expect(text).to.include('Unified Advanced');
    expect(text).not.to.include('Advanced support for partners\n');

    await alex.click('Add contract');
    await alex.waitForCard('Link a Unified, Premier or Advanced support for partners contract');
    await alex.fill('Contract ID', 'DEMO-1234567');
    await alex.fill('Access ID or password', 'wrong-access-id');
    await alex.click('Add contract');
    text = await alex.waitForCard("don't match a contract we know");
    expect(await alex.card().getByRole('textbox', { name: 'Access ID or password', exact: true }).inputValue()).to.equal('');
    expect(text).not.to.include('wrong-access-id');

    await alex.fill('Access ID or password', 'demo-access-2026');
    await alex.click('Add contract');
    text = await alex.waitForCard('Contract DEMO-1234567 (Advanced support for partners) is now linked to your login');
    expect(text).to.include('Advanced support for partners');
    expect(text).not.to.include('demo-access-2026');
    await alex.screenshot(path.join(shots, 'plans-added.png'));
  });
});

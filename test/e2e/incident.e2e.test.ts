import { expect } from 'chai';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { projectRoot } from '../../src/config.js';
import { ManualClock } from '../../src/time.js';
import { type BotUnderTest, removeDir, startBot } from '../helpers/botHarness.js';
import { launchChromium, PlaygroundPage, type RunningPlayground, startPlayground } from './playground.js';

// Submit an incident as Alex does it in the Agents Playground (issue 5): the cards one by one, the
// possible solutions changing as he describes the issue, and the desk card in the Support Desk.

const shots = path.join(projectRoot, 'test-results');

describe('@browser submit an incident in the Agents Playground', function () {
  this.timeout(120_000);
  let browser: Browser;
  let bot: BotUnderTest;
  let playground: RunningPlayground;
  let alex: PlaygroundPage | undefined;
  const clock = new ManualClock(new Date('2026-11-21T14:00:00Z')); // 9:00 AM in New York

  before(async () => {
    mkdirSync(shots, { recursive: true });
    browser = await launchChromium();
    bot = await startBot({ clock });
    playground = await startPlayground({ botEndpoint: `${bot.url}/api/messages`, timeZone: 'America/New_York' });
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && alex) await alex.screenshot(path.join(shots, 'failed-incident.png'));
    await alex?.close();
  });
  after(async () => {
    await playground?.stop();
    await bot?.stop();
    if (bot) removeDir(bot.dataDir);
    await browser?.close();
  });

  /** An expanded choice set's option (a radio button) on the newest card. */
  const pick = (name: string | RegExp) => alex!.card().getByRole('radio', { name }).check();
  /** The suggestion titles on the newest card, best first. */
  async function suggestions(): Promise<string[]> {
    const text = await alex!.card().innerText();
    const part = text.split('Possible issue solutions')[1] ?? '';
    return [...part.matchAll(/^(.+)\n+KB\d+ · /gm)].map((m) => m[1]!.trim());
  }

  it('takes Alex from "submit incident" to an incident number, and the desk sees it', async () => {
    alex = await PlaygroundPage.open(browser, playground.url, { timezoneId: 'America/New_York' });
    await alex.send('submit incident');
    await alex.waitForCard('Microsoft Support works on the incident');
    await pick('Contoso Finance and Operations (Contoso Ltd)');
    await alex.click('Next');

    await alex.waitForCard('Submit an incident: issue category');
    await alex.choose('Issue category', 'Platform');
    await alex.click('Next');
    await alex.waitForCard('Submit an incident: issue area');
    await pick('Batch jobs');
    await alex.click('Next');

    let text = await alex.waitForCard('Describe your issue');
    expect(text).to.include('Possible issue solutions');
    const before = await suggestions();
    expect(before).to.have.length(10);
    await pick('Yes');
    await alex.choose('Environment (if yes)', 'CONTOSO-PROD (production)');
    await alex.fill('Title', 'Batch jobs deadlocked every night');
    await alex.fill('Details and steps to reproduce', 'Since the update the nightly batch jobs end in Error. 1. Open Batch jobs 2. See the log.');
    await alex.fill('Error message (optional)', 'Transaction (Process ID 62) was deadlocked on lock resources with another process');
    await alex.click('Refresh suggestions');
    // The suggestions follow the description: the card comes back with others
    let after = before;
    for (const until = Date.now() + 15_000; Date.now() < until && JSON.stringify(after) === JSON.stringify(before); )
      after = await new Promise((r) => setTimeout(r, 200)).then(suggestions);
    expect(after).to.not.deep.equal(before);
    expect(after[0]).to.match(/deadlock/i);
    expect(await alex.card().getByRole('textbox', { name: 'Title', exact: true }).inputValue()).to.equal('Batch jobs deadlocked every night');
    await alex.screenshot(path.join(shots, 'incident-describe.png'));
    await alex.click('Next');

    text = await alex.waitForCard('Screenshots and files');
    expect(text).to.include('Send screenshots or log files to me here');
    await alex.click('Continue without screenshots');

    await alex.waitForCard('Primary contact');
    expect(await alex.card().getByRole('textbox', { name: 'E-mail', exact: true }).inputValue()).to.equal('alexw@example.com');
    await alex.fill('Phone', '+1 425 555 0100');
    await alex.click('Next');

    await alex.waitForCard('Support contract and severity');
    await pick('Unified Advanced: unlimited incidents');
    await pick(/^A: Critical/);
    await alex.click('Submit');
    text = await alex.waitForCard('Severity A needs critical business impact');
    await alex.check(/this is a critical business impact/);
    await alex.check(/I will be available 24x7/);
    await alex.screenshot(path.join(shots, 'incident-contract.png'));
    await alex.click('Submit');

    text = await alex.waitForCard('Incident submitted: INC-100001');
    expect(text).to.include('10:00 AM EST'); // Unified Advanced, severity A: 1 hour, in Alex's zone
    expect(text).to.include('You will be told here who takes it');
    await alex.screenshot(path.join(shots, 'incident-done.png'));

    // The desk's side: the incident is a new post in the Support Desk channel
    await alex.openConversation('My Team - Support Desk');
    text = await alex.waitForCard('INC-100001: Batch jobs deadlocked every night');
    expect(text).to.include('Support incident');
    expect(text).to.match(/Area\s+Batch jobs/);
    expect(text).to.include('Error message: Transaction (Process ID 62) was deadlocked');
    expect(text).to.include('First response due by 10:00 AM EST (1 hour, 24x7)');
    await alex.click('Assign to me');
    await alex.waitForCard('Assigned to');

    // Back in the chat: told who takes it
    await alex.openConversation('Personal Chat');
    await alex.waitForCard(/Alex Wilber is taking it/);
  });
});

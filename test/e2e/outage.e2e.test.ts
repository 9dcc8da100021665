import { expect } from 'chai';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { projectRoot } from '../../src/config.js';
import { ManualClock } from '../../src/time.js';
import { type BotUnderTest, removeDir, startBot } from '../helpers/botHarness.js';
import { freePort, launchChromium, playgroundConfig, PlaygroundPage, type RunningPlayground, startPlayground } from './playground.js';

// The outage report and the desk loop as a person goes through them: the bot over real HTTP, the
// Agents Playground as Teams, headless Chromium as the person. Screenshots land in test-results/.

const shots = path.join(projectRoot, 'test-results');
let current: PlaygroundPage | undefined;

// A failed journey leaves a picture of what the person saw.
afterEach(async function () {
  if (this.currentTest?.state === 'failed' && current)
    await current.screenshot(path.join(shots, `failed-${this.currentTest.title.slice(0, 40).replace(/\W+/g, '-')}.png`));
  await current?.close();
  current = undefined;
});

describe('@browser outage report in the Agents Playground', function () {
  this.timeout(120_000);
  let browser: Browser;
  let bot: BotUnderTest;
  let playground: RunningPlayground;
  let port: number;
  const clock = new ManualClock(new Date('2026-11-21T14:00:00Z')); // 9:00 AM in New York

  before(async () => {
    mkdirSync(shots, { recursive: true });
    browser = await launchChromium();
    port = await freePort();
    bot = await startBot({ clock, env: { PORT: String(port) } });
    playground = await startPlayground({ botEndpoint: `${bot.url}/api/messages`, timeZone: 'America/New_York' });
  });
  after(async () => {
    await playground?.stop();
    await bot?.stop();
    if (bot) removeDir(bot.dataDir);
    await browser?.close();
  });

  it('takes Alex from "report outage" through four cards to a ticket with its deadline, then the desk closes the loop', async () => {
    const alex = (current = await PlaygroundPage.open(browser, playground.url, { timezoneId: 'America/New_York' }));
    {
      await alex.send('report outage');
      let text = await alex.waitForCard('Report a production outage');
      expect(text).to.include('A production outage is one or more system-wide issues');
      expect(text).to.include('CONTOSO-PROD');
      expect(text).to.match(/on-premises project/);

      // Continue without confirming: told why, beside the field, nothing lost
      await alex.choose('Outage scenario', 'Users cannot sign in to production');
      await alex.click('Continue');
      text = await alex.waitForCard('Confirm that this is a production outage');
      await alex.check(/Yes, this is a production outage/);
      await alex.click('Continue');

      text = await alex.waitForCard('Production outage: title and details');
      expect(text).to.include('Users cannot sign in to production'); // the scenario was kept
      await alex.fill('Details', 'Every user gets an error page at sign-in since 8:50.');
      await alex.click('Next');
      text = await alex.waitForCard('Enter a short title for the outage.');
      await alex.fill('Title', 'Nobody can sign in to CONTOSO-PROD');
      await alex.click('Next');

      text = await alex.waitForCard('Production outage: contact information');
      const contact = alex.card();
      expect(await contact.getByRole('textbox', { name: 'Name', exact: true }).inputValue()).to.equal('Alex Wilber');
      expect(await contact.getByRole('textbox', { name: 'E-mail', exact: true }).inputValue()).to.equal('alexw@example.com');
      await alex.fill('Phone', '+1 425 555 0100');
      await alex.screenshot(path.join(shots, 'outage-contact.png'));
      await alex.click('Next');

      text = await alex.waitForCard('Outage reported: OUT-100001');
      expect(text).to.include('9:30 AM EST'); // the acknowledgement deadline, in Alex's time zone
      expect(text).to.match(/Severity\s+A \(Critical\)/);
      expect(text).to.match(/Submitted\s+Sat, Nov 21, 2026, 9:00 AM EST/);
      await alex.screenshot(path.join(shots, 'outage-done.png'));

      // The desk's side: the ticket is a new post in the Support Desk channel
      await alex.openConversation('My Team - Support Desk');
      text = await alex.waitForCard('OUT-100001: Nobody can sign in to CONTOSO-PROD');
      expect(text).to.include('Acknowledgement due by 9:30 AM EST (30 minutes, 24x7)');
      clock.advance(12 * 60_000);
      await alex.click('Acknowledge');
      text = await alex.waitForCard('Acknowledgement met: 12 minutes after submission');
      await alex.click('Post status update');
      await alex.fill('Status update for the customer', 'Sign-in service restarted; checking with your users.');
      await alex.click('Post update');
      await alex.waitForCard('Sign-in service restarted; checking with your users.');
      await alex.screenshot(path.join(shots, 'desk-card.png'));

      // Back in the chat the outage came from: the acknowledgement and the update
      await alex.openConversation('Personal Chat');
      text = await alex.waitForCard('Sign-in service restarted; checking with your users.');
      const all = (await alex.cards().allInnerTexts()).join('\n');
      expect(all).to.match(/acknowledged your outage “Nobody can sign in to CONTOSO-PROD” 12 minutes after submission, within the 30 minutes target/);
      await alex.screenshot(path.join(shots, 'reporter-news.png'));
    }
  });

  it('loses nothing when the bot restarts mid-flow', async () => {
    const alex = (current = await PlaygroundPage.open(browser, playground.url, { timezoneId: 'America/New_York' }));
    {
      await alex.openConversation('Contoso F&O team'); // a group chat: the bot hears it when mentioned
      await alex.send('report outage', { mention: 'F&O Support' });
      await alex.waitForCard('Report a production outage');
      await alex.check(/Yes, this is a production outage/);
      await alex.choose('Outage scenario', 'Batch processing has stopped');
      await alex.click('Continue');
      await alex.waitForCard('Production outage: title and details');
      await alex.fill('Title', 'Batch jobs stuck in Waiting');
      await alex.fill('Details', 'No batch job has run since 02:00 UTC.');
      await alex.click('Next');
      await alex.waitForCard('Production outage: contact information');

      // Stop the bot and start it again on the same data folder and port
      await bot.stop();
      bot = await startBot({ clock, dataDir: bot.dataDir, env: { PORT: String(port) } });

      await alex.click('Back'); // the card from before the restart still works
      const text = await alex.waitForCard('Production outage: title and details');
      expect(await alex.card().getByRole('textbox', { name: 'Title', exact: true }).inputValue()).to.equal('Batch jobs stuck in Waiting');
      expect(text).to.include('Batch processing has stopped');
      await alex.click('Next');
      await alex.waitForCard('Production outage: contact information');
      await alex.fill('Phone', '+1 425 555 0100');
      await alex.click('Next');
      await alex.waitForCard(/Outage reported: OUT-1000\d\d/);
    }
  });
});

describe('@browser a refusal in the Agents Playground', function () {
  this.timeout(90_000);
  it('tells Megan Bowen why she cannot report an outage, with the way forward', async () => {
    const browser = await launchChromium();
    const bot = await startBot();
    const playground = await startPlayground({
      botEndpoint: `${bot.url}/api/messages`,
      configYaml: playgroundConfig('user-id-1'),
    });
    try {
      const megan = (current = await PlaygroundPage.open(browser, playground.url));
      await megan.send('report outage');
      const text = await megan.waitForCard("You can't report a production outage here");
      expect(text).to.include('Project team member (prospect)');
      expect(text).to.include('has no production environment deployed yet');
      expect(text).to.include('+1 (800) 555-0199');
      await megan.screenshot(path.join(shots, 'outage-refused.png'));
    } finally {
      await playground.stop();
      await bot.stop();
      removeDir(bot.dataDir);
      await browser.close();
    }
  });
});

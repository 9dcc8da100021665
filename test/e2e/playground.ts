import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import {
  type PlaygroundConfig,
  type PlaygroundOptions,
  type PlaygroundProcess,
  startPlayground as startPlaygroundProcess,
} from '../../scripts/playgroundProcess.js';
import { projectRoot } from '../../src/config.js';

// Drives the Microsoft 365 Agents Playground (the Teams emulator, 0.2.28) in headless Chromium the
// way a person uses it: type in the compose box, read and fill Adaptive Cards, switch chats.
//
// What its page offers (no test ids; these hold across chats and channels):
// - Conversations are treeitems: "Personal Chat", the group chat's name (tree "Personal and Group
//   Chat"), and "<team> - <channel>" (tree "Teams Channel"; General is always there).
// - The compose box is a Lexical editor: [data-lexical-editor="true"], role textbox. A personal or
//   group chat has one, at the bottom. A channel has a "Start a new post" editor with a "Post"
//   button on top, then one card per post (role group, class fui-Card), newest post FIRST, each
//   with its own reply editor; a thread's replies are oldest first.
// - Typing "@" opens a "Typeahead menu" listbox of menuitems "<name> <name>" (bot and users).
//   In a group chat or channel the Playground forwards a message to the bot only if it mentions
//   the bot, as Teams does.
// - Adaptive Cards render with the adaptivecards renderer (.ac-adaptiveCard) and Fluent UI inputs.
//   Input ids are not in the page (the renderer makes `__ac-<uuid>` ids), so inputs are found by
//   label: Input.Text is a textbox named by its label (or placeholder when it has none), a compact
//   ChoiceSet a combobox whose options are in a listbox outside the card, an expanded ChoiceSet
//   radios, Input.Toggle a checkbox, actions buttons named by their title.
// - After Action.Execute the card is replaced in place by the invoke response's card and a banner
//   (aria-label "Display Invoked Message") says "Your response was sent to the app"; an
//   `application/vnd.microsoft.activity.message` response shows its text there instead, an error
//   response its message. Action.Execute without a verb is refused in the page.
// - Bot messages in chats are Fluent "OutputCard"s (.fai-OutputCard), text or card alike.
// - The log panel on the right repeats message texts: search inside the conversation pane only.

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A started Playground (see scripts/playgroundProcess.ts). */
export type RunningPlayground = PlaygroundProcess;
export type { PlaygroundConfig };

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The demo's Playground config, optionally with another of its users as the current user. */
export function playgroundConfig(currentUserId?: string): string {
  const yaml = readFileSync(path.join(projectRoot, '.m365agentsplayground.yml'), 'utf8');
  if (!currentUserId) return yaml;
  // Swap the two entries: the Playground wants every user id once. The UI cannot switch users.
  const current = /currentUser:\n((?: {2}.*\n)+)/.exec(yaml)!;
  const entries = [...yaml.matchAll(/ {2}- (id: .*\n(?: {4}.*\n)+)/g)];
  const chosen = entries.find((e) => e[1]!.startsWith(`id: ${currentUserId}\n`));
  if (!chosen) throw new Error(`no user ${currentUserId} in .m365agentsplayground.yml`);
  const asCurrent = chosen[1]!.replace(/^ {4}/gm, '  ').replace(/^id:/, '  id:');
  const asEntry = `  - ${current[1]!.replace(/^ {2}/, '').replace(/^ {2}/gm, '    ')}`;
  return yaml.replace(current[0], `currentUser:\n${asCurrent}`).replace(chosen[0], asEntry);
}

/**
 * Starts the Playground against a bot endpoint: headless, no telemetry, in a temp working folder
 * (its devTools/ log goes there), with the demo's .m365agentsplayground.yml unless `configYaml`
 * or `configPath` says otherwise. `timeZone` becomes the activities' `localTimezone`.
 */
export async function startPlayground(options: PlaygroundOptions): Promise<RunningPlayground> {
  const configYaml = options.configYaml ?? (options.configPath ? undefined : playgroundConfig());
  return startPlaygroundProcess({ ...options, configYaml });
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export type ConversationKind = 'personal' | 'group' | 'channel';

export interface OpenOptions {
  /** The browser's zone (what the page shows); activities carry the Playground process's zone. */
  timezoneId?: string;
}

const EDITOR = '[data-lexical-editor="true"]';
const POST = '[role="group"].fui-Card';
const CARD = '.ac-adaptiveCard';

/** Opens the Playground in a Chromium of its own; close() closes that browser too. */
export async function openPlayground(url: string, options: OpenOptions = {}): Promise<PlaygroundPage> {
  const browser = await launchChromium();
  try {
    return await PlaygroundPage.open(browser, url, { ...options, ownsBrowser: true });
  } catch (err) {
    await browser.close();
    throw err;
  }
}

/** A person in front of the Playground. */
export class PlaygroundPage {
  private kind: ConversationKind = 'personal';
  /** The conversation last opened by name (openConversation). */
  private openName: string | undefined;

  private constructor(
    readonly page: Page,
    /** The Playground's config: bot name, users, chat and channel ids. */
    readonly config: PlaygroundConfig,
    private readonly ownsBrowser: boolean,
  ) {}

  static async open(
    browser: Browser,
    url: string,
    opts: OpenOptions & { ownsBrowser?: boolean } = {},
  ): Promise<PlaygroundPage> {
    const res = await fetch(new URL('/_internal/v1/testConfig', url));
    const { config } = (await res.json()) as { config: PlaygroundConfig };
    const context = await browser.newContext({
      viewport: { width: 1400, height: 1000 },
      ...(opts.timezoneId ? { timezoneId: opts.timezoneId } : {}),
    });
    const page = await context.newPage();
    // Nothing leaves this machine: the page asks a public CDN for Segoe UI fonts and icons.
    await page.route('**/*', (route) => {
      const host = new URL(route.request().url()).hostname;
      return host === 'localhost' || host === '127.0.0.1' ? route.continue() : route.abort();
    });
    // Opening the page selects Personal Chat and sends the bot installationUpdate and
    // conversationUpdate for it; the first visit to any other conversation does the same there.
    await page.goto(url);
    const pg = new PlaygroundPage(page, config, opts.ownsBrowser ?? false);
    await pg.composeBox().waitFor();
    return pg;
  }

  /** The open conversation: the middle pane (not the conversation list, not the log panel). */
  pane(): Locator {
    return this.page
      .locator('.ui-provider > div > div > div')
      .filter({ has: this.page.locator(EDITOR) })
      .filter({ hasNot: this.page.getByRole('tree') });
  }

  /** Where send() types: the chat's compose box, or a channel's "Start a new post" box. */
  composeBox(): Locator {
    return this.pane().locator(EDITOR).first();
  }

  /** A channel's posts, newest first. */
  posts(): Locator {
    return this.pane()
      .locator(POST)
      .filter({ hasNot: this.page.getByRole('button', { name: 'Post', exact: true }) });
  }

  /** The newest Adaptive Card: the last in a chat, the last of the newest post with a card in a channel. */
  card(): Locator {
    if (this.kind === 'channel') {
      return this.posts().filter({ has: this.page.locator(CARD) }).first().locator(CARD).last();
    }
    return this.pane().locator(CARD).last();
  }

  /** Same as card(). */
  lastCard(): Locator {
    return this.card();
  }

  /** Every card in the open conversation, in page order. */
  cards(): Locator {
    return this.pane().locator(CARD);
  }

  /** The newest card that shows `text` (a card updated in an older channel post, say). */
  cardWith(text: string | RegExp): Locator {
    return this.cards().filter({ hasText: text }).last();
  }

  /** The visible text of the newest card. */
  async cardText(card: Locator = this.card()): Promise<string> {
    return card.innerText();
  }

  /** The newest bot message in a chat (text or card); in a channel, the newest post. */
  lastBotMessage(): Locator {
    return this.kind === 'channel' ? this.posts().first() : this.pane().locator('.fai-OutputCard').last();
  }

  /**
   * Types a message and sends it. In a group chat or channel it @mentions the bot first unless
   * `mention` is false (Teams, and the Playground, deliver only mentions there); `mention` may
   * also name someone else. In a channel it starts a new post; use reply() to answer in a thread.
   */
  async send(text: string, opts: { mention?: string | boolean } = {}): Promise<void> {
    await this.typeInto(this.composeBox(), text, opts.mention);
    if (this.kind === 'channel') await this.pane().getByRole('button', { name: 'Post', exact: true }).click();
    else await this.page.keyboard.press('Enter');
    await this.waitForEmpty(this.composeBox());
  }

  /** Replies in the newest channel post's thread (mentions the bot unless `mention` is false). */
  async reply(text: string, opts: { mention?: string | boolean } = {}): Promise<void> {
    if (this.kind !== 'channel') throw new Error('reply() is for channels; use send() in a chat');
    const box = this.posts().first().locator(EDITOR);
    await this.typeInto(box, text, opts.mention);
    await this.page.keyboard.press('Enter');
    await this.waitForEmpty(box);
  }

  private async typeInto(box: Locator, text: string, mention: string | boolean | undefined): Promise<void> {
    await box.click();
    const who = mention === undefined ? this.kind !== 'personal' : mention;
    if (who) {
      const name = typeof who === 'string' ? who : this.config.bot.name;
      await this.page.keyboard.type(`@${name.slice(0, 3)}`);
      const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      await this.page.getByRole('menuitem', { name: new RegExp(`^${escaped}`) }).first().click();
      await this.page.keyboard.type(' ');
    }
    // A "@" in `text` would open the typeahead menu again and Enter would pick from it.
    await this.page.keyboard.type(text);
  }

  private async waitForEmpty(box: Locator): Promise<void> {
    for (let i = 0; i < 50; i++) {
      if (((await box.textContent()) ?? '').trim() === '') return;
      await this.page.waitForTimeout(50);
    }
  }

  /** Waits until the open conversation shows `text` (anywhere: messages, cards). */
  async waitForText(text: string | RegExp, timeout = 15_000): Promise<void> {
    await this.showsAfterReopen('waitForText', text, () => this.pane().getByText(text).first().waitFor({ timeout }));
  }

  /** Waits until the newest card shows `text`, and returns its visible text. */
  async waitForCard(text: string | RegExp, timeout = 15_000): Promise<string> {
    await this.showsAfterReopen('waitForCard', text, () => this.card().getByText(text).first().waitFor({ timeout }));
    return this.card().innerText();
  }

  /**
   * Runs `wait`; in a channel, if it times out, opens the channel again and waits once more. Once in
   * some nine full runs a desk card posted to a channel did not show in a channel opened moments
   * before, and a bot's reply to a channel post (answered 201, in the Playground's own log) did not
   * show in its thread; both passed on every rerun. What the page showed is kept in test-results/
   * and named on stderr, so that a repeat can be looked into; what never arrives still fails.
   */
  private async showsAfterReopen(what: string, text: string | RegExp, wait: () => Promise<void>): Promise<void> {
    try {
      await wait();
    } catch (err) {
      const channel = this.openName;
      if (this.kind !== 'channel' || !channel) throw err;
      const file = path.join(projectRoot, 'test-results', `late-${what}-${Date.now()}`);
      mkdirSync(path.dirname(file), { recursive: true });
      await this.page.screenshot({ path: `${file}.png` });
      writeFileSync(`${file}.txt`, await this.pane().innerText());
      await this.openConversation(this.config.personalChat.name);
      await this.openConversation(channel);
      await wait();
      process.stderr.write(`${what}: ${String(text)} showed only after the channel was opened again (${file}.png)\n`);
    }
  }

  async check(label: string | RegExp, scope: Locator = this.card()): Promise<void> {
    await scope.getByRole('checkbox', { name: label }).check();
  }

  /** Picks an option of a compact ChoiceSet (a combobox named by its label) or of an expanded one (radios). */
  async choose(label: string, option: string, scope: Locator = this.card()): Promise<void> {
    const combobox = scope.getByRole('combobox', { name: label, exact: true });
    if ((await combobox.count()) === 0) {
      await scope.getByRole('radio', { name: option, exact: true }).check();
      return;
    }
    await combobox.click();
    // The listbox opens outside the card, at the end of the page.
    await this.page.getByRole('listbox').getByRole('option', { name: option, exact: true }).click();
  }

  /** Fills an Input.Text found by its label, or by its placeholder when it has no label. */
  async fill(label: string, value: string, scope: Locator = this.card()): Promise<void> {
    await scope
      .getByRole('textbox', { name: label, exact: true })
      .or(scope.getByPlaceholder(label, { exact: true }))
      .first()
      .fill(value);
  }

  /** Clicks a card action (Action.Execute, Action.Submit, ...) by its title. */
  async click(button: string, scope: Locator = this.card()): Promise<void> {
    await scope.getByRole('button', { name: button, exact: true }).click();
  }

  /** The banner an Action.Execute leaves under its card ("Your response was sent to the app"). */
  async invokeMessage(timeout = 15_000): Promise<string> {
    const banner = this.pane().getByLabel('Display Invoked Message').last();
    await banner.waitFor({ timeout });
    return (await banner.innerText()).trim();
  }

  /** "Personal Chat", the group chat's name, or "<team> - <channel>" as in the conversation list. */
  async openConversation(name: string): Promise<void> {
    const inChannels = this.page.getByRole('tree', { name: 'Teams Channel' }).getByRole('treeitem', { name, exact: true });
    const kind: ConversationKind =
      (await inChannels.count()) > 0 ? 'channel' : name === this.config.personalChat.name ? 'personal' : 'group';
    await this.page.getByRole('treeitem', { name, exact: true }).click();
    this.kind = kind;
    this.openName = name;
    await this.composeBox().waitFor();
  }

  /** Switches to the personal chat, the group chat, or a channel of the team (default General). */
  async switchTo(kind: ConversationKind, name?: string): Promise<void> {
    const team = this.config.teams[0];
    const chat = this.config.groupChats[0];
    if (kind === 'personal') return this.openConversation(this.config.personalChat.name);
    if (kind === 'group') return this.openConversation(name ?? chat?.name ?? 'Group Chat');
    return this.openConversation(`${team?.name ?? 'My Team'} - ${name ?? 'General'}`);
  }

  /** Which kind of conversation is open. */
  get conversationKind(): ConversationKind {
    return this.kind;
  }

  async screenshot(file: string): Promise<void> {
    await this.page.screenshot({ path: file });
  }

  async close(): Promise<void> {
    const browser = this.page.context().browser();
    await this.page.context().close();
    if (this.ownsBrowser) await browser?.close();
  }
}

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { projectRoot } from '../../src/config.js';

// Drives the Microsoft 365 Agents Playground (the Teams emulator) in headless Chromium, the way a
// person uses it: type in the compose box, read and fill the Adaptive Cards, switch chats.
// What we learnt of its page: cards render with class `ac-adaptiveCard` and Fluent UI inputs that
// carry their labels as accessible names (a compact ChoiceSet is a combobox with options); chats
// and channels are treeitems named "Personal Chat", the group chat's name, "My Team - <channel>".

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CLI = path.join(projectRoot, 'node_modules', '@microsoft', 'm365agentsplayground', 'cli.js');

export interface RunningPlayground {
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

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
  // Swap the two entries: the Playground wants every user id once.
  const current = /currentUser:\n((?: {2}.*\n)+)/.exec(yaml)!;
  const entries = [...yaml.matchAll(/ {2}- (id: .*\n(?: {4}.*\n)+)/g)];
  const chosen = entries.find((e) => e[1]!.startsWith(`id: ${currentUserId}\n`));
  if (!chosen) throw new Error(`no user ${currentUserId} in .m365agentsplayground.yml`);
  const asCurrent = chosen[1]!.replace(/^ {4}/gm, '  ').replace(/^id:/, '  id:');
  const asEntry = `  - ${current[1]!.replace(/^ {2}/, '').replace(/^ {2}/gm, '    ')}`;
  return yaml.replace(current[0], `currentUser:\n${asCurrent}`).replace(chosen[0], asEntry);
}

/**
 * Starts the Playground against a bot endpoint, in a temp working folder (its devTools/ log goes
 * there), headless (TEAMSAPPTESTER_BROWSER=none) and without telemetry.
 */
export async function startPlayground(opts: {
  botEndpoint: string;
  configYaml?: string;
  port?: number;
  /** The Playground stamps activities with its own process's zone (localTimezone). */
  timeZone?: string;
}): Promise<RunningPlayground> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'playground-'));
  writeFileSync(path.join(dir, '.m365agentsplayground.yml'), opts.configYaml ?? playgroundConfig());
  const port = opts.port ?? (await freePort());
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, 'start', '--app-endpoint', opts.botEndpoint, '-p', String(port), '--disable-telemetry'],
    { cwd: dir, env: { ...process.env, TEAMSAPPTESTER_BROWSER: 'none', ...(opts.timeZone ? { TZ: opts.timeZone } : {}) }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const url = `http://localhost:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the Playground exited (${child.exitCode}):\n${output}\n${readLog(dir)}`);
    try {
      const res = await fetch(url);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the Playground did not answer on ${url}:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    port,
    dir,
    stop: async () => {
      if (child.exitCode === null && child.pid) {
        const exited = new Promise((r) => child.once('exit', r));
        try {
          process.kill(-child.pid, 'SIGTERM'); // the whole group: the CLI starts a server child
        } catch {
          // already gone
        }
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readLog(dir: string): string {
  try {
    return readFileSync(path.join(dir, 'devTools', 'm365agentsplayground.log'), 'utf8');
  } catch {
    return '';
  }
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** A person in front of the Playground. */
export class PlaygroundPage {
  private constructor(readonly page: Page) {}

  static async open(browser: Browser, url: string, opts: { timezoneId?: string } = {}): Promise<PlaygroundPage> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, ...(opts.timezoneId ? { timezoneId: opts.timezoneId } : {}) });
    const page = await context.newPage();
    // Nothing leaves this machine: the Playground's page links to a few public resources.
    await page.route('**/*', (route) => {
      const host = new URL(route.request().url()).hostname;
      return host === 'localhost' || host === '127.0.0.1' ? route.continue() : route.abort();
    });
    await page.goto(url);
    await page.getByRole('textbox').last().waitFor();
    return new PlaygroundPage(page);
  }

  /** The newest Adaptive Card in the open conversation. */
  card(): Locator {
    return this.page.locator('.ac-adaptiveCard').last();
  }

  /** Every card in the open conversation, oldest first. */
  cards(): Locator {
    return this.page.locator('.ac-adaptiveCard');
  }

  /** Types a message; in a group chat or channel, Teams delivers it to the bot only when @mentioned. */
  async send(text: string, opts: { mention?: string } = {}): Promise<void> {
    const box = this.page.getByRole('textbox').last();
    await box.click();
    if (opts.mention) {
      await this.page.keyboard.type(`@${opts.mention.slice(0, 3)}`);
      await this.page.getByRole('menuitem', { name: new RegExp(`^${opts.mention.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) }).first().click();
      await this.page.keyboard.type(' ');
    }
    await this.page.keyboard.type(text);
    await this.page.keyboard.press('Enter');
  }

  /** Waits until the newest card shows `text`, and returns its visible text. */
  async waitForCard(text: string | RegExp, timeout = 15_000): Promise<string> {
    await this.card().getByText(text).first().waitFor({ timeout });
    return this.card().innerText();
  }

  async check(label: string | RegExp): Promise<void> {
    await this.card().getByRole('checkbox', { name: label }).check();
  }

  async choose(combobox: string, option: string): Promise<void> {
    await this.card().getByRole('combobox', { name: combobox }).click();
    await this.page.getByRole('option', { name: option }).click();
  }

  async fill(label: string, value: string, scope: Locator = this.card()): Promise<void> {
    await scope.getByRole('textbox', { name: label, exact: true }).fill(value);
  }

  async click(button: string, scope: Locator = this.card()): Promise<void> {
    await scope.getByRole('button', { name: button, exact: true }).click();
  }

  /** "Personal Chat", the group chat's name, or "My Team - Support Desk". */
  async openConversation(name: string): Promise<void> {
    await this.page.getByRole('treeitem', { name }).click();
    await this.page.getByRole('textbox').last().waitFor();
  }

  async screenshot(file: string): Promise<void> {
    await this.page.screenshot({ path: file });
  }

  async close(): Promise<void> {
    await this.page.context().close();
  }
}

// Starts the Microsoft 365 Agents Playground CLI as a child process and stops it again.
// Shared by `npm start` (scripts/start.ts) and the browser tests (test/e2e/playground.ts).
//
// Facts about @microsoft/m365agentsplayground 0.2.28 this relies on (read from its bundle):
// - It opens a browser unless TEAMSAPPTESTER_BROWSER=none (and exits if that fails).
// - `-p 0` listens on a random free port; a busy `-p N` silently falls back to a random port.
//   When stdout is not a TTY it prints only `Listening on <port>` there; everything else goes to
//   devTools/m365agentsplayground.log under its working folder (M365_AGENTS_PLAYGROUND_LOGFILE).
// - It reads .m365agentsplayground.yml from its working folder (M365_AGENTS_PLAYGROUND_CONFIG_PATH
//   overrides). A config error is found *after* `Listening on` is printed: the process then
//   exits 1 and the reason is only in the log file.
// - `--disable-telemetry` stops its own events, but Application Insights is still set up (with a
//   heartbeat every 15 min cached under $TMPDIR) and errors raised before the flag is applied
//   are still tracked. APPLICATIONINSIGHTS_CONFIGURATION_CONTENT={"disableAppInsights":true}
//   disables the SDK's send channel entirely, so nothing leaves the machine.
// - The activities it sends carry `localTimezone` from the Playground process's own time zone
//   (dayjs.tz.guess()), so the TZ of the child decides it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface PlaygroundOptions {
  /** The bot's messaging endpoint, e.g. http://127.0.0.1:3978/api/messages. */
  botEndpoint: string;
  /** Contents of a .m365agentsplayground.yml to use (written into the working folder). */
  configYaml?: string;
  /** Path of an existing .m365agentsplayground.yml; ignored when configYaml is given. */
  configPath?: string;
  /** Working folder; devTools/ (log, AI cache) lands here. Default: a new temp folder, removed on stop. */
  cwd?: string;
  /** Port to ask for; 0 (default) picks a free one. A busy port falls back to a random one. */
  port?: number;
  /** IANA time zone of the Playground process: becomes `localTimezone` in activities. */
  timeZone?: string;
  /** Milliseconds to wait for the Playground to answer HTTP. */
  startTimeoutMs?: number;
}

export interface PlaygroundProcess {
  /** Address to open in a browser, e.g. http://localhost:56150 */
  url: string;
  port: number;
  /** The mock connector the bot talks to (the `serviceUrl` in every activity). */
  serviceUrl: string;
  /** Its working folder (devTools/ is there). */
  dir: string;
  logFile: string;
  /** The Playground's resolved config (tenant, users, chat and channel ids). */
  config(): Promise<PlaygroundConfig>;
  /** Settles when the process ends, by stop() or on its own (with its exit code). */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export interface PlaygroundUser {
  id: string;
  name: string;
  aadObjectId: string;
  userPrincipleName: string;
  email: string;
}

/** What GET /_internal/v1/testConfig returns (the subset we use). */
export interface PlaygroundConfig {
  tenantId: string;
  bot: { id: string; name: string };
  currentUser: PlaygroundUser;
  users: PlaygroundUser[];
  personalChat: { id: string; name: string };
  groupChats: { id: string; name: string; members: string[] }[];
  teams: {
    id: string;
    name: string;
    aadGroupId: string;
    channels: { id: string; name: string; channelType: string }[];
  }[];
}

const require = createRequire(import.meta.url);

/** The CLI entry of the installed Playground package. */
export function playgroundCliPath(): string {
  const pkg = require.resolve('@microsoft/m365agentsplayground/package.json');
  return path.join(path.dirname(pkg), 'cli.js');
}

export async function startPlayground(options: PlaygroundOptions): Promise<PlaygroundProcess> {
  const ownsCwd = options.cwd === undefined;
  const cwd = options.cwd ?? mkdtempSync(path.join(tmpdir(), 'agents-playground-'));
  const devTools = path.join(cwd, 'devTools');
  const logFile = path.join(devTools, 'm365agentsplayground.log');
  const aiTmp = path.join(devTools, 'tmp');
  mkdirSync(aiTmp, { recursive: true });

  let configPath = options.configPath && path.resolve(options.configPath);
  if (options.configYaml !== undefined) {
    configPath = path.join(cwd, '.m365agentsplayground.yml');
    writeFileSync(configPath, options.configYaml);
  }

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEAMSAPPTESTER_BROWSER: 'none',
    M365_AGENTS_PLAYGROUND_LOGFILE: logFile,
    APPLICATIONINSIGHTS_CONFIGURATION_CONTENT: JSON.stringify({
      disableAppInsights: true,
      disableStatsbeat: true,
    }),
    APPLICATION_INSIGHTS_NO_STATSBEAT: 'true',
    // Application Insights keeps its retry cache in os.tmpdir(): keep it inside devTools/.
    TMPDIR: aiTmp,
  };
  if (configPath) env.M365_AGENTS_PLAYGROUND_CONFIG_PATH = configPath;
  if (options.timeZone) env.TZ = options.timeZone;
  // Never let a parent's settings point the Playground at another bot or connector.
  delete env.BOT_ENDPOINT;
  delete env.M365_AGENTS_PLAYGROUND_SERVICE_URL;
  delete env.TEAMSAPPTESTER_PORT;

  const args = [
    playgroundCliPath(),
    '--app-endpoint',
    options.botEndpoint,
    '--port',
    String(options.port ?? 0),
    '--disable-telemetry',
  ];
  // detached: its own process group, so stop() can end it and anything it spawned.
  const child = spawn(process.execPath, args, {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = (): void => killGroup(child, 'SIGKILL');
  process.on('exit', killOnExit);

  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));

  const cleanup = (): void => {
    process.off('exit', killOnExit);
    if (ownsCwd) rmSync(cwd, { recursive: true, force: true });
  };

  try {
    const port = await waitForPort(child, options.startTimeoutMs ?? 20_000, () => stderr, logFile);
    const url = `http://localhost:${port}`;
    const ping = `http://127.0.0.1:${port}/_debug/ping`;
    await waitForHttp(child, ping, options.startTimeoutMs ?? 20_000, logFile);
    // The config is loaded (and a bad one exits the process) in the listen callback: ask for it
    // once so a config error surfaces here rather than as a blank page later.
    await fetchConfig(port, child, logFile);
    let stopped: Promise<void> | undefined;
    return {
      url,
      port,
      serviceUrl: `${url}/_connector`,
      dir: cwd,
      logFile,
      config: () => fetchConfig(port, child, logFile),
      exited,
      stop: () =>
        (stopped ??= (async () => {
          await endProcess(child);
          cleanup();
        })()),
    };
  } catch (err) {
    await endProcess(child);
    cleanup();
    throw err;
  }
}

function waitForPort(
  child: ChildProcess,
  timeoutMs: number,
  stderr: () => string,
  logFile: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => fail(new Error(`Agents Playground did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (d: string): void => {
      out += d;
      const m = /Listening on (\d+)/.exec(out);
      if (m) done(Number(m[1]));
    };
    const onExit = (code: number | null): void =>
      fail(new Error(`Agents Playground exited (code ${code}) before listening.\n${stderr()}${readLog(logFile)}`));
    const done = (port: number): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.stdout?.resume(); // keep draining so the child never blocks on a full pipe
      resolve(port);
    };
    const fail = (e: Error): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      reject(e);
    };
    child.stdout?.setEncoding('utf8').on('data', onData);
    child.once('exit', onExit);
  });
}

async function waitForHttp(
  child: ChildProcess,
  url: string,
  timeoutMs: number,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`Agents Playground exited (code ${child.exitCode}).\n${readLog(logFile)}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet: retry until the deadline
    }
    if (Date.now() > deadline) throw new Error(`Agents Playground did not answer ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function fetchConfig(port: number, child: ChildProcess, logFile: string): Promise<PlaygroundConfig> {
  // A config error makes the process exit right after it starts listening: give it a moment.
  for (let i = 0; i < 20 && child.exitCode === null; i++) {
    try {
      // testConfig, unlike v1/config, does not wait for the bot nor append to the UI log.
      const res = await fetch(`http://127.0.0.1:${port}/_internal/v1/testConfig`);
      if (res.ok) return ((await res.json()) as { config: PlaygroundConfig }).config;
    } catch {
      // connection refused while the process is exiting: fall through to the check below
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Agents Playground failed to load its config.\n${readLog(logFile)}`);
}

function readLog(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('error '))
      .join('\n');
  } catch {
    return '';
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

async function endProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

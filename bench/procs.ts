// Child processes for the benchmark: the bot under test (the product's own entry as production runs
// it: `npm run start:prod`'s node command, with its options, on dist/ from `npm run build`), the
// echo bot (TypeScript through tsx), and the load generator. Each child is tracked so
// that an interrupted run kills them all; each bot's memory is read from /proc, so it is its own.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import path from 'node:path';
import { projectRoot } from '../src/config.js';

const TSX = import.meta.resolve('tsx');
const children = new Set<ChildProcess>();

/** Kills every child still running (used on exit and on Ctrl-C). */
export function killAll(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A `node` command line: node's options, then the entry file. */
export interface NodeCommand {
  nodeArgs: string[];
  entry: string;
}

/**
 * Reads a package.json script of the form `node [--options] <entry.js>` (no shell syntax), so that
 * the benchmark starts the bot exactly as production does, its node options included.
 */
export function nodeCommandOf(script: string): NodeCommand {
  const [command, ...rest] = script.trim().split(/\s+/);
  const entry = rest.at(-1);
  const nodeArgs = rest.slice(0, -1);
  if (command !== 'node' || !entry || entry.startsWith('-') || nodeArgs.some((a) => !a.startsWith('--')))
    throw new Error(`expected "node [--options] <entry>", got "${script}"`);
  return { nodeArgs, entry };
}

/** The bot as `npm run start:prod` runs it, read from package.json. */
export function productionCommand(): NodeCommand {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const script = pkg.scripts['start:prod'];
  if (!script) throw new Error('package.json has no start:prod script');
  return nodeCommandOf(script);
}

export interface Memory {
  rssMb: number;
  peakRssMb: number;
}

/** Resident memory of a process now, and its peak (VmHWM), from /proc. */
export function memoryOf(pid: number): Memory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined; // not Linux, or the process is gone: the report says n/a
  }
}

/**
 * CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat; with
 * `mainThreadOnly`, its main thread's alone (/proc/<pid>/task/<pid>/stat): the event loop, without
 * V8's helper thread (concurrent marking, its share of scavenges), libuv's pool and workers.
 */
export function cpuMsOf(pid: number, mainThreadOnly = false): number | undefined {
  try {
    const stat = readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ": utime is the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
// sysconf(_SC_CLK_TCK): 100 on Linux on every architecture Node runs on.
const CLOCK_TICKS = 100;

export interface Server {
  pid: number;
  /** CPU time the server has used so far (ms). */
  cpuMs(): number | undefined;
  /** CPU time its main thread has used so far (ms). */
  mainCpuMs(): number | undefined;
  url: string;
  /** Process spawn to the first 200 from /healthz. */
  startupMs: number;
  memory(): Memory | undefined;
  /** SIGTERM (the product drains and checkpoints), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface ServerOptions {
  /** Entry file, relative to the repository root: .ts runs through tsx, .js with node alone. */
  entry: string;
  env?: Record<string, string>;
  /** stdout and stderr go here (pino's JSON lines for the product). */
  logFile: string;
  nodeArgs?: string[];
  timeoutMs?: number;
}

/** Spawns a server, times it until /healthz answers 200. */
export async function startServer(options: ServerOptions): Promise<Server> {
  const port = await freePort();
  const log = openSync(options.logFile, 'a');
  const started = performance.now();
  const loader = options.entry.endsWith('.ts') ? ['--import', TSX] : [];
  const child = spawn(process.execPath, [...loader, ...(options.nodeArgs ?? []), path.join(projectRoot, options.entry)], {
    cwd: projectRoot,
    env: { ...process.env, ...options.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  const url = `http://127.0.0.1:${port}`;
  const deadline = started + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${options.entry} exited with ${child.exitCode} before answering; see ${options.logFile}`);
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.entry} did not answer /healthz in time; see ${options.logFile}`);
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const startupMs = performance.now() - started;
  return {
    pid: child.pid!,
    url,
    startupMs,
    memory: () => memoryOf(child.pid!),
    cpuMs: () => cpuMsOf(child.pid!),
    mainCpuMs: () => cpuMsOf(child.pid!, true),
    stop: async (graceMs = 20_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(killed);
    },
  };
}

/**
 * Runs a script to completion in a child process and returns the JSON it prints last on stdout.
 * The script gets `@<file>` holding `arg` as JSON (see readArg).
 */
export async function runJson<T>(entry: string, arg: unknown, timeoutMs: number): Promise<T> {
  // The argument goes through a file: a list of 20,000 ticket ids is too long for a command line.
  const argFile = path.join(mkdtempSync(path.join(tmpdir(), 'fo-bench-arg-')), 'arg.json');
  writeFileSync(argFile, JSON.stringify(arg));
  const child = spawn(process.execPath, ['--import', TSX, path.join(projectRoot, entry), `@${argFile}`], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  children.delete(child);
  rmSync(path.dirname(argFile), { recursive: true, force: true });
  if (code !== 0) throw new Error(`${entry} failed (${code}): ${err.slice(-2000)}`);
  const last = out.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as T;
}

/** The argument runJson passed: `@<file>` holding JSON, or the JSON itself. */
export function readArg<T>(raw: string): T {
  return JSON.parse(raw.startsWith('@') ? readFileSync(raw.slice(1), 'utf8') : raw) as T;
}

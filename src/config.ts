import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from './errors.js';

/**
 * The repository root, so that defaults work whatever the working folder: the nearest folder
 * above this module with a package.json. Run from source that is src/..; from the build
 * (`npm run build`: dist/src/config.js) it is dist/.. as well, where cards/, config/, kb/ and web/
 * are.
 */
export const projectRoot = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));

function findProjectRoot(from: string): string {
  for (let dir = path.resolve(from, '..'); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..');
  }
}

const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3978),
  HOST: z.string().min(1).default('127.0.0.1'),
  // Empty: local mode (Agents Playground), no Bot Framework authentication. Never in production.
  MicrosoftAppId: z.string().trim().default(''),
  MicrosoftAppPassword: z.string().default(''),
  MicrosoftAppType: z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).default('MultiTenant'),
  MicrosoftAppTenantId: z.string().default(''),
  DATA_DIR: z.string().min(1).default(path.join(projectRoot, 'data')),
  DIRECTORY_FILE: z.string().min(1).default(path.join(projectRoot, 'config', 'directory.demo.json')),
  // The known-issue knowledge base (JSONL), indexed once at start for Issue search.
  KB_FILE: z.string().min(1).default(path.join(projectRoot, 'kb', 'demo.jsonl')),
  // Where Teams reaches the bot's web pages (the incident dialog), e.g. https://bot.contoso.com;
  // empty: in local mode the bot's own address, otherwise the dialog cannot open.
  PUBLIC_BASE_URL: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://bot.contoso.com' }).optional(),
  ),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  // Seconds SIGTERM waits for in-flight turns and writes before exiting anyway.
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(1).max(300).default(10),
  // How far V8 lets the heap grow past the live data after each full collection, in per cent (the
  // bot's own process only). V8's own policy lets it grow up to 4x under load and keeps that
  // memory. 50 holds the bot under 300 MB at 50,000 tickets (247 MB at the peak of the benchmark's
  // load, against 222 MB at 20) and does less than half of 20's full collections under the
  // acknowledgement load (BENCHMARKS.md). 0: V8's own policy.
  HEAP_GROWING_PERCENT: z.coerce.number().int().min(0).max(1000).default(50),
  // Where the Incidents tab's Teams SSO tokens get their signing keys (with MicrosoftAppId set).
  TEAMS_SSO_OPENID_METADATA_URL: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z.url({ protocol: /^https?$/ }).default('https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration'),
  ),
});

export type Config = z.infer<typeof Env> & { localMode: boolean };

/** Parses every environment variable the product reads, once, at start. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const r = Env.safeParse(env);
  if (!r.success) throw new ConfigError(`Invalid environment:\n${z.prettifyError(r.error)}`);
  const data = r.data;
  if (data.MicrosoftAppId && !data.MicrosoftAppPassword && data.MicrosoftAppType !== 'UserAssignedMSI') {
    throw new ConfigError(
      'Invalid environment: MicrosoftAppPassword is required when MicrosoftAppId is set ' +
        '(or set MicrosoftAppType=UserAssignedMSI).',
    );
  }
  if (data.MicrosoftAppType === 'SingleTenant' && !data.MicrosoftAppTenantId) {
    throw new ConfigError('Invalid environment: MicrosoftAppTenantId is required for SingleTenant.');
  }
  if (data.MicrosoftAppId && data.PUBLIC_BASE_URL?.startsWith('http:')) {
    throw new ConfigError('Invalid environment: PUBLIC_BASE_URL must be https:// (Teams opens dialogs over HTTPS only).');
  }
  return { ...data, localMode: data.MicrosoftAppId === '' };
}

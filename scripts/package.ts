// `npm run package`: fills manifest/manifest.template.json from the environment, validates it
// against the Teams JSON schema that @microsoft/app-manifest bundles, and writes
// build/appPackage.zip (manifest.json, color.png, outline.png at the root) for sideloading.
//
// Offline by construction: the schema is read from the package's own files and handed to
// `AppManifestUtils.validateAgainstSchema(manifest, schema)`. Without that second argument the
// library would fetch `$schema` from the network when its local copy is missing.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AppManifestUtils, type TeamsManifest } from '@microsoft/app-manifest';
import JSZip from 'jszip';
import { PNG } from 'pngjs';
import { projectRoot } from '../src/config.js';

export const MANIFEST_DIR = path.join(projectRoot, 'manifest');
export const TEMPLATE_FILE = path.join(MANIFEST_DIR, 'manifest.template.json');
/** The icons, with the sizes Teams accepts (it refuses a package with other sizes). */
export const ICONS = { 'color.png': 192, 'outline.png': 32 } as const;

// The Teams schema's own patterns (definitions/guid), and a DNS host name with an optional port
// (a port is fine for validDomains and the SSO resource, e.g. localhost:53000 in local debugging).
const GUID = /^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i;
const HOST = /^(?=[^:]{1,253}(:|$))[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$/i;
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

export interface PackageValues {
  /** The Teams app id (manifest `id`). */
  APP_ID: string;
  /** The Azure Bot's app id; also the Entra app that the tab's SSO tokens are issued for. */
  BOT_ID: string;
  /** Where the bot's web pages are served over HTTPS, host[:port] only. */
  HOSTNAME: string;
  /** The app version (package.json), x.y.z. */
  VERSION: string;
}

/** A value the package cannot be built from; the message says what to fix. */
export class PackageError extends Error {
  override name = 'PackageError';
}

/** The placeholder values from the environment, or a PackageError listing every problem. */
export function valuesFromEnv(env: NodeJS.ProcessEnv, version = packageVersion()): PackageValues {
  const problems: string[] = [];
  const botId = (env.MicrosoftAppId ?? '').trim();
  const teamsAppId = (env.TEAMS_APP_ID ?? '').trim();
  const host = (env.PUBLIC_HOSTNAME?.trim() || hostOf(env.PUBLIC_BASE_URL) || '').trim();
  if (!botId)
    problems.push('MicrosoftAppId is empty: set it to the Azure Bot app id (a GUID).');
  else if (!GUID.test(botId))
    problems.push(`MicrosoftAppId "${botId}" is not a GUID (like 00000000-0000-0000-0000-000000000000).`);
  if (teamsAppId && !GUID.test(teamsAppId))
    problems.push(`TEAMS_APP_ID "${teamsAppId}" is not a GUID; leave it unset to use MicrosoftAppId.`);
  if (!host)
    problems.push(
      'PUBLIC_HOSTNAME is empty: set it to the host the bot is reached at over HTTPS, e.g. ' +
        'support.contoso.com (or set PUBLIC_BASE_URL).',
    );
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host))
    problems.push(`PUBLIC_HOSTNAME "${host}" has a scheme: give the host name only, e.g. support.contoso.com.`);
  else if (/[/?#]/.test(host))
    problems.push(`PUBLIC_HOSTNAME "${host}" has a path: give the host name only, e.g. support.contoso.com.`);
  else if (!HOST.test(host))
    problems.push(`PUBLIC_HOSTNAME "${host}" is not a host name (letters, digits, dots and hyphens; optional :port).`);
  if (!SEMVER.test(version))
    problems.push(`package.json version "${version}" is not x.y.z, which Teams requires of an app version.`);
  if (problems.length > 0)
    throw new PackageError(`Cannot build the Teams app package:\n- ${problems.join('\n- ')}`);
  return {
    APP_ID: (teamsAppId || botId).toLowerCase(),
    BOT_ID: botId.toLowerCase(),
    HOSTNAME: host.toLowerCase(),
    VERSION: version,
  };
}

function hostOf(url: string | undefined): string | undefined {
  if (!url?.trim()) return undefined;
  try {
    return new URL(url.trim()).host;
  } catch {
    return url; // then refused by the host name check, with the value shown
  }
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? '';
}

/** The template with every ${NAME} replaced; an unknown placeholder is a PackageError. */
export function fill(template: string, values: PackageValues): TeamsManifest {
  const filled = template.replace(/\$\{([A-Za-z_]+)\}/g, (whole, name: string) => {
    if (!Object.hasOwn(values, name)) throw new PackageError(`manifest template: unknown placeholder ${whole}`);
    // Escaped for a JSON string: the values are checked above, this is belt and braces.
    return JSON.stringify(values[name as keyof PackageValues]).slice(1, -1);
  });
  return JSON.parse(filled) as TeamsManifest;
}

/** The bundled schema file for a manifest version, e.g. .../teams/v1.30/MicrosoftTeams.schema.json. */
export function bundledSchemaFile(manifestVersion: string): string {
  const pkg = createRequire(import.meta.url).resolve('@microsoft/app-manifest/package.json');
  return path.join(path.dirname(pkg), 'build', 'json-schemas', 'teams', `v${manifestVersion}`, 'MicrosoftTeams.schema.json');
}

/** Schema errors of a manifest (empty when valid), checked offline against the bundled schema. */
export async function validate(manifest: TeamsManifest): Promise<string[]> {
  const file = bundledSchemaFile(manifest.manifestVersion);
  if (!existsSync(file))
    throw new PackageError(
      `@microsoft/app-manifest bundles no Teams schema for manifestVersion "${manifest.manifestVersion}" ` +
        `(looked for ${file}); pick a version it bundles.`,
    );
  // The library does the same clean-up when it reads its own copies: some descriptions hold \a, \v.
  const text = readFileSync(file, 'utf8').replace(/\\a/g, '\\u0007').replace(/\\v/g, '\\u000b');
  return AppManifestUtils.validateAgainstSchema(manifest, JSON.parse(text));
}

/** Refuses an icon that is not a PNG of the size Teams requires. */
export function checkIcon(name: keyof typeof ICONS, data: Buffer): void {
  let png: PNG;
  try {
    png = PNG.sync.read(data);
  } catch (err) {
    throw new PackageError(`manifest/${name} is not a PNG: ${(err as Error).message}`);
  }
  const size = ICONS[name];
  if (png.width !== size || png.height !== size)
    throw new PackageError(`manifest/${name} is ${png.width}x${png.height}; Teams requires ${size}x${size}.`);
}

/** manifest.json and the two icons at the zip's root, as Teams expects; same input, same bytes. */
export async function buildZip(manifest: TeamsManifest, iconDir = MANIFEST_DIR): Promise<Buffer> {
  const zip = new JSZip();
  const date = new Date('2020-01-01T00:00:00Z'); // fixed, so a rebuild of the same inputs is identical
  zip.file('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`, { date });
  for (const name of Object.keys(ICONS) as Array<keyof typeof ICONS>) {
    const data = readFileSync(path.join(iconDir, name));
    checkIcon(name, data);
    zip.file(name, data, { date });
  }
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', platform: 'UNIX' });
}

/** Fills, validates and zips; returns the zip's path. */
export async function buildPackage(env: NodeJS.ProcessEnv, outDir: string): Promise<string> {
  const manifest = fill(readFileSync(TEMPLATE_FILE, 'utf8'), valuesFromEnv(env));
  const errors = await validate(manifest);
  if (errors.length > 0)
    throw new PackageError(
      `The manifest does not pass the Teams schema ${manifest.manifestVersion}:\n- ${errors.join('\n- ')}`,
    );
  const zip = await buildZip(manifest);
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, 'appPackage.zip');
  writeFileSync(file, zip);
  return file;
}

/** Command-line arguments: only `--out <dir>` (default: build/ in the project). */
export function parseArgs(argv: string[]): { outDir: string } {
  let outDir = path.join(projectRoot, 'build');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--out' || arg.startsWith('--out=')) {
      const value = arg === '--out' ? argv[++i] : arg.slice('--out='.length);
      if (!value) throw new PackageError('--out needs a folder, e.g. --out build');
      outDir = path.resolve(value);
    } else throw new PackageError(`unknown argument "${arg}"; usage: npm run package [-- --out <dir>]`);
  }
  return { outDir };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  // Like the bot (src/index.ts): .env in the working folder, under the real environment.
  if (existsSync('.env')) process.loadEnvFile('.env');
  Promise.resolve()
    .then(() => buildPackage(process.env, parseArgs(process.argv.slice(2)).outDir))
    .then(
      (file) =>
        process.stdout.write(
          `${file}\nUpload it in Teams: Apps > Manage your apps > Upload an app > Upload a custom app.\n`,
        ),
      (err: unknown) => {
        process.stderr.write(`${err instanceof PackageError ? err.message : String((err as Error)?.stack ?? err)}\n`);
        process.exitCode = 1;
      },
    );
}

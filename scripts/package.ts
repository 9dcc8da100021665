import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AppManifestUtils } from '@microsoft/app-manifest';
import JSZip from 'jszip';
import { projectRoot } from '../src/config.js';

// `npm run package`: fills manifest/manifest.template.json from the environment, validates it
// against the Teams JSON schema that @microsoft/app-manifest bundles (offline: the schema file is
// read from node_modules, never fetched), and writes build/appPackage.zip for sideloading.

const MANIFEST_DIR = path.join(projectRoot, 'manifest');
const SCHEMA_VERSION = 'v1.24';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HOST = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}(:\d{1,5})?$/i;

export interface PackageValues {
  APP_ID: string;
  BOT_ID: string;
  HOSTNAME: string;
  VERSION: string;
}

export class PackageError extends Error {}

/** The values from the environment, or a PackageError saying what is missing or malformed. */
export function valuesFrom(env: NodeJS.ProcessEnv): PackageValues {
  const problems: string[] = [];
  const botId = (env.MicrosoftAppId ?? '').trim();
  const appId = (env.TEAMS_APP_ID ?? botId).trim();
  const host = (env.PUBLIC_HOSTNAME ?? hostOf(env.PUBLIC_BASE_URL) ?? '').trim();
  if (!botId) problems.push('MicrosoftAppId is empty: set it to the Azure Bot app id (a GUID).');
  else if (!GUID.test(botId)) problems.push(`MicrosoftAppId "${botId}" is not a GUID.`);
  if (env.TEAMS_APP_ID && !GUID.test(appId)) problems.push(`TEAMS_APP_ID "${appId}" is not a GUID.`);
  if (!host) problems.push('PUBLIC_HOSTNAME is empty: set it to the host name the bot is reached at, e.g. support.contoso.com.');
  else if (!HOST.test(host))
    problems.push(`PUBLIC_HOSTNAME "${host}" is not a host name: no scheme (https://), path or spaces, e.g. support.contoso.com.`);
  if (problems.length > 0) throw new PackageError(`Cannot build the app package:\n- ${problems.join('\n- ')}`);
  const version = (JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
  return { APP_ID: appId.toLowerCase(), BOT_ID: botId.toLowerCase(), HOSTNAME: host.toLowerCase(), VERSION: version };
}

function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).host;
  } catch {
    return url; // reported as malformed by the check above
  }
}

/** The template with every ${NAME} replaced; an unknown placeholder is an error. */
export function fillManifest(template: string, values: PackageValues): Record<string, unknown> {
  const filled = template.replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) => {
    if (!(name in values)) throw new PackageError(`manifest template: unknown placeholder ${whole}`);
    return values[name as keyof PackageValues];
  });
  return JSON.parse(filled) as Record<string, unknown>;
}

/** Validation errors against the bundled Teams schema (empty when valid). */
export async function validateManifest(manifest: Record<string, unknown>): Promise<string[]> {
  const schemaFile = path.join(
    projectRoot,
    'node_modules/@microsoft/app-manifest/build/json-schemas/teams',
    SCHEMA_VERSION,
    'MicrosoftTeams.schema.json',
  );
  const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
  return AppManifestUtils.validateAgainstSchema(manifest as never, schema);
}

/** manifest.json and the two icons at the zip's root, as Teams expects. */
export async function buildZip(manifest: Record<string, unknown>): Promise<Buffer> {
  const zip = new JSZip();
  zip.file('manifest.json', JSON.stringify(manifest, null, 2));
  zip.file('color.png', readFileSync(path.join(MANIFEST_DIR, 'color.png')));
  zip.file('outline.png', readFileSync(path.join(MANIFEST_DIR, 'outline.png')));
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

export async function buildPackage(env: NodeJS.ProcessEnv, outDir: string): Promise<string> {
  const values = valuesFrom(env);
  const manifest = fillManifest(readFileSync(path.join(MANIFEST_DIR, 'manifest.template.json'), 'utf8'), values);
  const errors = await validateManifest(manifest);
  if (errors.length > 0) throw new PackageError(`The manifest does not pass the Teams schema ${SCHEMA_VERSION}:\n- ${errors.join('\n- ')}`);
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, 'appPackage.zip');
  writeFileSync(file, await buildZip(manifest));
  return file;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const i = process.argv.indexOf('--out');
  const outDir = i > 0 && process.argv[i + 1] ? path.resolve(process.argv[i + 1]!) : path.join(projectRoot, 'build');
  buildPackage(process.env, outDir).then(
    (file) => process.stdout.write(`App package written: ${file}\nUpload it in Teams: Apps > Manage your apps > Upload an app.\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

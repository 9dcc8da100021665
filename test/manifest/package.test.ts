import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AppManifestUtils } from '@microsoft/app-manifest';
import JSZip from 'jszip';
import { PNG } from 'pngjs';
import { SEARCH_COMMAND_ID } from '../../bot/messageExtension.js';
import {
  buildZip,
  bundledSchemaFile,
  fill,
  PackageError,
  parseArgs,
  validate,
  valuesFromEnv,
  type PackageValues,
} from '../../scripts/package.js';
import { drawColor, drawOutline } from '../../scripts/drawIcons.js';
import { projectRoot } from '../../src/config.js';
import { recognize } from '../../src/intents.js';

const run = promisify(execFile);
const template = readFileSync(path.join(projectRoot, 'manifest', 'manifest.template.json'), 'utf8');
const BOT = '11111111-2222-3333-4444-555555555555';
const TEAMS_APP = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const env = { MicrosoftAppId: BOT, PUBLIC_HOSTNAME: 'support.contoso.com' };
const values: PackageValues = { APP_ID: BOT, BOT_ID: BOT, HOSTNAME: 'support.contoso.com', VERSION: '1.2.3' };
const png = (name: string) => PNG.sync.read(readFileSync(path.join(projectRoot, 'manifest', name)));
// The manifest as plain JSON, for reading its parts in assertions.
const filled = (v = values) => fill(template, v) as unknown as Record<string, any>;

/** Runs fn with every way out to the network refused and recorded. */
async function offline<T>(fn: () => Promise<T>): Promise<{ result: T; attempts: string[] }> {
  const attempts: string[] = [];
  const { fetch } = globalThis;
  const { connect } = net.Socket.prototype;
  globalThis.fetch = (async (url: unknown) => {
    attempts.push(`fetch ${String(url)}`);
    throw new Error('offline test: no network');
  }) as typeof fetch;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    attempts.push(`connect ${JSON.stringify(args[0])}`);
    throw new Error('offline test: no network');
  } as typeof connect;
  try {
    return { result: await fn(), attempts };
  } finally {
    globalThis.fetch = fetch;
    net.Socket.prototype.connect = connect;
  }
}

describe('package (the Teams app package)', () => {
  describe('the manifest', () => {
    it('uses the newest Teams schema that @microsoft/app-manifest bundles', () => {
      const teams = path.dirname(path.dirname(bundledSchemaFile('1.0')));
      const newest = readdirSync(teams)
        .filter((d) => /^v\d+\.\d+$/.test(d))
        .map((d) => d.slice(1))
        .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]))
        .at(-1);
      const manifest = filled();
      expect(manifest.manifestVersion).to.equal(newest);
      expect(manifest.$schema).to.equal(
        `https://developer.microsoft.com/json-schemas/teams/v${newest}/MicrosoftTeams.schema.json`,
      );
    });

    it('passes the bundled Teams schema, offline', async () => {
      const { result, attempts } = await offline(() => validate(fill(template, values)));
      expect(result).to.deep.equal([]);
      expect(attempts).to.deep.equal([]);
    });

    it('would notice a fetch: the library fetches a schema it does not bundle', async () => {
      const manifest = { ...filled(), $schema: 'https://schemas.example.invalid/teams.json' };
      const { result, attempts } = await offline(() =>
        AppManifestUtils.validateAgainstSchema(manifest as never).then(() => 'passed', (e: Error) => e.message),
      );
      expect(result).to.match(/offline test: no network/);
      expect(attempts).to.deep.equal(['fetch https://schemas.example.invalid/teams.json']);
    });

    it('reports what the schema refuses', async () => {
      const manifest = filled();
      manifest.developer.name = 'x'.repeat(40);
      manifest.bots[0].scopes = ['everywhere'];
      manifest.webApplicationInfo.id = 'not-a-guid';
      const { result: errors } = await offline(() => validate(manifest as never));
      const text = errors.join('\n');
      expect(text).to.match(/\/developer\/name/);
      expect(text).to.match(/\/bots\/0\/scopes\/0/);
      expect(text).to.match(/\/webApplicationInfo\/id/);
    });

    it('refuses a manifest version the package bundles no schema for', async () => {
      const manifest = { ...filled(), manifestVersion: '9.99' };
      const { result, attempts } = await offline(() => validate(manifest as never).then(() => 'passed', (e: Error) => e));
      expect(result).to.be.instanceOf(PackageError).with.property('message').that.match(/no Teams schema for manifestVersion "9.99"/);
      expect(attempts).to.deep.equal([]);
    });

    it('holds the filled ids, host and version in every place', () => {
      const m = filled({ ...values, APP_ID: TEAMS_APP });
      expect(m.id).to.equal(TEAMS_APP);
      expect(m.version).to.equal('1.2.3');
      expect(m.bots[0].botId).to.equal(BOT);
      expect(m.composeExtensions[0].botId).to.equal(BOT);
      // SSO tokens are issued for the bot's Entra app, which the tab's data API checks them against.
      expect(m.webApplicationInfo).to.deep.equal({ id: BOT, resource: `api://support.contoso.com/${BOT}` });
      expect(m.validDomains).to.deep.equal(['support.contoso.com']);
      expect(JSON.stringify(m)).not.to.include('${');
    });

    it('puts the bot in personal, team and group chat, with files and a command list per scope', () => {
      const bot = filled().bots[0];
      expect(bot.scopes).to.deep.equal(['personal', 'team', 'groupChat']);
      expect(bot.supportsFiles).to.equal(true);
      expect(bot.commandLists.map((l: any) => l.scopes)).to.deep.equal([['personal'], ['team'], ['groupChat']]);
      for (const list of bot.commandLists) {
        expect(list.commands.map((c: any) => c.title)).to.include.members([
          'report outage',
          'status',
          'my tickets',
          'support plans',
          'search',
          'my incidents',
          'incidents',
          'help',
        ]);
        for (const c of list.commands) expect(c.description, c.title).to.be.a('string').and.not.be.empty;
      }
    });

    it('lists only commands the bot understands', () => {
      // A command title is what Teams inserts; status and search take an argument after it.
      const example: Record<string, string> = { status: 'status OUT-100001', search: 'search batch job' };
      for (const list of filled().bots[0].commandLists)
        for (const { title } of list.commands)
          expect(recognize(example[title] ?? title).kind, title).not.to.equal('unknown');
    });

    it('has the search message extension the bot answers', () => {
      const [ext] = filled().composeExtensions;
      expect(ext.commands).to.have.length(1);
      expect(ext.commands[0]).to.include({ id: SEARCH_COMMAND_ID, type: 'query', title: 'Search known issues' });
      expect(ext.commands[0].parameters.map((p: any) => p.name)).to.deep.equal(['query']);
    });

    it('has the personal Incidents tab on the public host', () => {
      const tab = filled().staticTabs.find((t: any) => t.entityId === 'incidents');
      expect(tab).to.deep.equal({
        entityId: 'incidents',
        name: 'Incidents',
        contentUrl: 'https://support.contoso.com/tab/incidents',
        websiteUrl: 'https://support.contoso.com/tab/incidents',
        scopes: ['personal'],
      });
    });

    it('refuses a template with a placeholder it cannot fill', () => {
      expect(() => fill('{"id": "${TENANT_ID}"}', values)).to.throw(PackageError, /unknown placeholder \$\{TENANT_ID\}/);
    });
  });

  describe('the environment', () => {
    it('takes the bot id as the app id unless TEAMS_APP_ID is given', () => {
      expect(valuesFromEnv(env, '0.1.0')).to.deep.equal({
        APP_ID: BOT,
        BOT_ID: BOT,
        HOSTNAME: 'support.contoso.com',
        VERSION: '0.1.0',
      });
      expect(valuesFromEnv({ ...env, TEAMS_APP_ID: TEAMS_APP.toUpperCase() }, '0.1.0')).to.include({
        APP_ID: TEAMS_APP,
        BOT_ID: BOT,
      });
    });

    it('takes the version from package.json', () => {
      const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8'));
      expect(valuesFromEnv(env).VERSION).to.equal(pkg.version);
    });

    it('takes the host from PUBLIC_BASE_URL when PUBLIC_HOSTNAME is not set', () => {
      const v = valuesFromEnv({ MicrosoftAppId: BOT, PUBLIC_BASE_URL: 'https://Bot.Fabrikam.com/' }, '0.1.0');
      expect(v.HOSTNAME).to.equal('bot.fabrikam.com');
    });

    it('accepts a host with a port (local debugging)', () => {
      expect(valuesFromEnv({ ...env, PUBLIC_HOSTNAME: 'localhost:53000' }, '0.1.0').HOSTNAME).to.equal('localhost:53000');
    });

    const refused: Array<[string, NodeJS.ProcessEnv, RegExp, string?]> = [
      ['no app id', { PUBLIC_HOSTNAME: 'a.contoso.com' }, /MicrosoftAppId is empty: set it to the Azure Bot app id/],
      ['an app id that is not a GUID', { ...env, MicrosoftAppId: 'my-bot' }, /MicrosoftAppId "my-bot" is not a GUID/],
      ['a Teams app id that is not a GUID', { ...env, TEAMS_APP_ID: 'x' }, /TEAMS_APP_ID "x" is not a GUID/],
      ['no host name', { MicrosoftAppId: BOT }, /PUBLIC_HOSTNAME is empty/],
      ['a host name with a scheme', { ...env, PUBLIC_HOSTNAME: 'https://support.contoso.com' }, /has a scheme: give the host name only/],
      ['a host name with a path', { ...env, PUBLIC_HOSTNAME: 'support.contoso.com/bot' }, /has a path: give the host name only/],
      ['a host name with a space', { ...env, PUBLIC_HOSTNAME: 'support contoso.com' }, /is not a host name/],
      ['a version that is not x.y.z', env, /version "1.0" is not x.y.z/, '1.0'],
    ];
    for (const [name, e, message, version] of refused)
      it(`refuses ${name} with a clear message`, () => {
        expect(() => valuesFromEnv(e, version ?? '0.1.0')).to.throw(PackageError, message);
      });

    it('lists every problem at once', () => {
      expect(() => valuesFromEnv({ MicrosoftAppId: 'x', PUBLIC_HOSTNAME: 'http://h' }, '0.1.0'))
        .to.throw(PackageError)
        .with.property('message')
        .that.matches(/^Cannot build the Teams app package:\n- MicrosoftAppId .*\n- PUBLIC_HOSTNAME /);
    });

    it('reads --out and refuses other arguments', () => {
      expect(parseArgs(['--out', 'x']).outDir).to.equal(path.resolve('x'));
      expect(parseArgs(['--out=y']).outDir).to.equal(path.resolve('y'));
      expect(parseArgs([]).outDir).to.equal(path.join(projectRoot, 'build'));
      expect(() => parseArgs(['--out'])).to.throw(PackageError, /--out needs a folder/);
      expect(() => parseArgs(['--zip'])).to.throw(PackageError, /unknown argument "--zip"/);
    });
  });

  describe('the icons', () => {
    it('has a 192x192 full-colour icon', () => {
      const color = png('color.png');
      expect([color.width, color.height]).to.deep.equal([192, 192]);
      const colours = new Set<string>();
      for (let i = 0; i < color.data.length; i += 4) {
        expect(color.data[i + 3], `alpha of pixel ${i / 4}`).to.equal(255); // Teams crops it: no holes
        colours.add(color.data.subarray(i, i + 3).join(','));
      }
      expect(colours.size).to.be.greaterThan(3);
    });

    it('has a 32x32 outline icon of white on transparent only', () => {
      const outline = png('outline.png');
      expect([outline.width, outline.height]).to.deep.equal([32, 32]);
      let opaque = 0;
      let transparent = 0;
      for (let i = 0; i < outline.data.length; i += 4) {
        const alpha = outline.data[i + 3]!;
        if (alpha === 0) transparent++;
        else expect([...outline.data.subarray(i, i + 3)], `pixel ${i / 4}`).to.deep.equal([255, 255, 255]);
        if (alpha === 255) opaque++;
      }
      expect(opaque).to.be.greaterThan(100);
      expect(transparent).to.be.greaterThan(100);
    });

    it('are what scripts/drawIcons.ts draws (redraw them after changing it)', () => {
      expect(PNG.sync.write(drawColor()).equals(readFileSync(path.join(projectRoot, 'manifest', 'color.png')))).to.equal(true);
      expect(PNG.sync.write(drawOutline()).equals(readFileSync(path.join(projectRoot, 'manifest', 'outline.png')))).to.equal(true);
    });
  });

  describe('the zip', () => {
    it('holds exactly manifest.json and the two icons, at the root', async () => {
      const zip = await JSZip.loadAsync(await buildZip(fill(template, { ...values, APP_ID: TEAMS_APP })));
      expect(Object.keys(zip.files).sort()).to.deep.equal(['color.png', 'manifest.json', 'outline.png']);
      const manifest = JSON.parse(await zip.file('manifest.json')!.async('string'));
      expect(manifest).to.include({ id: TEAMS_APP, version: '1.2.3' });
      expect(manifest.bots[0].botId).to.equal(BOT);
      const icon = await zip.file('outline.png')!.async('nodebuffer');
      expect(icon.equals(readFileSync(path.join(projectRoot, 'manifest', 'outline.png')))).to.equal(true);
    });

    it('is the same bytes for the same inputs', async () => {
      const a = await buildZip(fill(template, values));
      const b = await buildZip(fill(template, values));
      expect(a.equals(b)).to.equal(true);
    });
  });

  describe('npm run package', function () {
    this.timeout(60_000);
    const script = path.join(projectRoot, 'scripts', 'package.ts');
    // As `npm run package` runs it: the tsx command line, in a separate node process.
    const tsx = realpathSync(path.join(projectRoot, 'node_modules', '.bin', 'tsx'));
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'app-package-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    // Run in an empty folder, so that a developer's .env cannot change the outcome.
    const withEnv = (extra: NodeJS.ProcessEnv) => {
      const { MicrosoftAppId, TEAMS_APP_ID, PUBLIC_HOSTNAME, PUBLIC_BASE_URL, ...rest } = process.env;
      return { ...rest, ...extra };
    };

    it('writes appPackage.zip to --out and prints its path', async () => {
      const out = path.join(dir, 'out');
      const { stdout } = await run(process.execPath, [tsx, script, '--out', out], {
        cwd: dir,
        env: withEnv(env),
      });
      const file = path.join(out, 'appPackage.zip');
      expect(stdout.split('\n')[0]).to.equal(file);
      const zip = await JSZip.loadAsync(readFileSync(file));
      expect(Object.keys(zip.files).sort()).to.deep.equal(['color.png', 'manifest.json', 'outline.png']);
      expect(JSON.parse(await zip.file('manifest.json')!.async('string')).bots[0].botId).to.equal(BOT);
    });

    it('refuses a missing value with a message and exit code 1, writing nothing', async () => {
      const out = path.join(dir, 'out');
      const failed = await run(process.execPath, [tsx, script, '--out', out], {
        cwd: dir,
        env: withEnv({ PUBLIC_HOSTNAME: 'https://support.contoso.com' }),
      }).then(
        () => undefined,
        (e: { code: number; stderr: string }) => e,
      );
      expect(failed?.code).to.equal(1);
      expect(failed?.stderr).to.include('MicrosoftAppId is empty');
      expect(failed?.stderr).to.include('has a scheme');
      expect(failed?.stderr).not.to.match(/\n\s+at /); // a message, not a stack trace
      expect(existsSync(out)).to.equal(false);
    });
  });
});

import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import JSZip from 'jszip';
import { PNG } from 'pngjs';
import { buildZip, fillManifest, PackageError, validateManifest, valuesFrom } from '../../scripts/package.js';
import { projectRoot } from '../../src/config.js';

const template = readFileSync(path.join(projectRoot, 'manifest', 'manifest.template.json'), 'utf8');
const env = { MicrosoftAppId: '11111111-2222-3333-4444-555555555555', PUBLIC_HOSTNAME: 'support.contoso.com' };
const png = (name: string) => PNG.sync.read(readFileSync(path.join(projectRoot, 'manifest', name)));

describe('the Teams app package', () => {
  it('fills the template and passes the bundled Teams schema without touching the network', async () => {
    const connect = net.Socket.prototype.connect;
    const attempts: unknown[] = [];
    net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
      attempts.push(args[0]);
      return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
    } as typeof connect;
    try {
      const manifest = fillManifest(template, valuesFrom(env)) as any;
      expect(await validateManifest(manifest)).to.deep.equal([]);
      expect(attempts).to.deep.equal([]);
      expect(manifest.id).to.equal(env.MicrosoftAppId);
      expect(manifest.bots[0]).to.include({ botId: env.MicrosoftAppId, supportsFiles: true });
      expect(manifest.bots[0].scopes).to.deep.equal(['personal', 'team', 'groupChat']);
      expect(manifest.bots[0].commandLists.map((c: any) => c.scopes[0])).to.deep.equal(['personal', 'team', 'groupChat']);
      expect(manifest.composeExtensions[0].commands[0]).to.include({ id: 'searchKnownIssues', type: 'query' });
      expect(manifest.staticTabs[0]).to.include({ entityId: 'incidents', name: 'Incidents', contentUrl: 'https://support.contoso.com/tab/incidents' });
      expect(manifest.validDomains).to.deep.equal(['support.contoso.com']);
      expect(manifest.webApplicationInfo).to.deep.equal({ id: env.MicrosoftAppId, resource: `api://support.contoso.com/${env.MicrosoftAppId}` });
    } finally {
      net.Socket.prototype.connect = connect;
    }
  });

  it('reports a manifest the schema refuses', async () => {
    const manifest = fillManifest(template, valuesFrom(env)) as any;
    manifest.developer.name = 'x'.repeat(40);
    manifest.bots[0].scopes = ['everywhere'];
    const errors = await validateManifest(manifest);
    expect(errors.join('\n')).to.match(/developer\/name/);
    expect(errors.join('\n')).to.match(/scopes/);
  });

  const bad: [string, NodeJS.ProcessEnv, RegExp][] = [
    ['no app id', { PUBLIC_HOSTNAME: 'a.b.com' }, /MicrosoftAppId is empty/],
    ['an app id that is not a GUID', { MicrosoftAppId: 'my-bot', PUBLIC_HOSTNAME: 'a.b.com' }, /"my-bot" is not a GUID/],
    ['no host name', { MicrosoftAppId: env.MicrosoftAppId }, /PUBLIC_HOSTNAME is empty/],
    ['a host name with a scheme', { ...env, PUBLIC_HOSTNAME: 'https://support.contoso.com' }, /not a host name: no scheme/],
    ['a host name with a path', { ...env, PUBLIC_HOSTNAME: 'support.contoso.com/bot' }, /not a host name/],
    ['a Teams app id that is not a GUID', { ...env, TEAMS_APP_ID: 'x' }, /TEAMS_APP_ID "x" is not a GUID/],
  ];
  for (const [name, e, re] of bad)
    it(`refuses ${name} with a clear message`, () => {
      expect(() => valuesFrom(e)).to.throw(PackageError, re);
    });

  it('takes the host from PUBLIC_BASE_URL when no host name is given', () => {
    expect(valuesFrom({ MicrosoftAppId: env.MicrosoftAppId, PUBLIC_BASE_URL: 'https://bot.fabrikam.com' }).HOSTNAME).to.equal('bot.fabrikam.com');
  });

  it('has a 192x192 colour icon and a 32x32 outline icon of white and transparent only', () => {
    const color = png('color.png');
    expect([color.width, color.height]).to.deep.equal([192, 192]);
    const outline = png('outline.png');
    expect([outline.width, outline.height]).to.deep.equal([32, 32]);
    let white = 0;
    for (let i = 0; i < outline.data.length; i += 4) {
      const [r, g, b, a] = [outline.data[i], outline.data[i + 1], outline.data[i + 2], outline.data[i + 3]];
      if (a === 0) continue;
      expect([r, g, b], `pixel ${i / 4}`).to.deep.equal([255, 255, 255]);
      white++;
    }
    expect(white).to.be.greaterThan(50);
  });

  it('zips exactly the manifest and the two icons at the root', async () => {
    const zip = await JSZip.loadAsync(await buildZip(fillManifest(template, valuesFrom(env))));
    expect(Object.keys(zip.files).sort()).to.deep.equal(['color.png', 'manifest.json', 'outline.png']);
    const manifest = JSON.parse(await zip.file('manifest.json')!.async('string'));
    expect(manifest.id).to.equal(env.MicrosoftAppId);
  });

  it('writes build/appPackage.zip from `npm run package` (here: --out a temp folder)', async function () {
    this.timeout(30_000);
    const out = mkdtempSync(path.join(os.tmpdir(), 'pkg-'));
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/package.ts', '--out', out], {
        cwd: projectRoot,
        env: { ...process.env, ...env },
      });
      expect(stdout).to.include(path.join(out, 'appPackage.zip'));
      const zip = await JSZip.loadAsync(readFileSync(path.join(out, 'appPackage.zip')));
      expect(Object.keys(zip.files)).to.have.length(3);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

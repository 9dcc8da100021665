import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebBundler } from '../../src/web/bundle.js';

describe('WebBundler', () => {
  it('bundles a page script with teams-js inside, once, and serves the cached build after', async () => {
    const bundler = new WebBundler();
    const first = bundler.get('incidentDialog', 'js');
    expect(bundler.get('incidentDialog', 'js')).to.equal(first); // one build, however many ask
    const asset = await first;
    const js = asset.body.toString('utf8');
    expect(asset.contentType).to.equal('text/javascript; charset=utf-8');
    expect(asset.etag).to.match(/^"[\w-]+"$/);
    // Self-contained: no import of another module or host; teams-js's dialog API is in the bundle.
    expect(js).to.not.match(/\bimport\s*[\w{*][^;]*?\bfrom\s*["']/);
    expect(js).to.not.match(/\bimport\s*\(/);
    expect(js).to.include('dialog.url.submit');
  });

  it('serves the page and the style sheet as they are, with their types', async () => {
    const bundler = new WebBundler();
    expect((await bundler.get('incidentDialog', 'html')).contentType).to.equal('text/html; charset=utf-8');
    expect((await bundler.get('style', 'css')).contentType).to.equal('text/css; charset=utf-8');
    expect(bundler.has('incidentDialog', 'html')).to.equal(true);
    expect(bundler.has('nothingHere', 'html')).to.equal(false);
  });

  it('refuses names that could leave web/', async () => {
    const bundler = new WebBundler();
    expect(bundler.has('../package', 'js')).to.equal(false);
    let error: unknown;
    await bundler.get('../src/index', 'js').catch((e: unknown) => (error = e));
    expect(String(error)).to.match(/not an asset name/);
  });

  it('does not keep a failed build: the fixed file builds on the next request', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'web-'));
    try {
      writeFileSync(path.join(dir, 'page.ts'), 'const x: number = ;');
      const bundler = new WebBundler({ dir });
      let error: unknown;
      await bundler.get('page', 'js').catch((e: unknown) => (error = e));
      expect(String(error)).to.match(/page\.ts/);
      writeFileSync(path.join(dir, 'page.ts'), 'export const x: number = 1;');
      expect((await bundler.get('page', 'js')).body.length).to.be.greaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

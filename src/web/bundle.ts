import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { projectRoot } from '../config.js';

// The web pages the bot serves (the incident dialog, the Incidents tab) are plain TypeScript in
// web/, bundled with esbuild in memory (write: false) the first time they are asked for and kept:
// no build step, no dist folder, nothing on disk to go stale. @microsoft/teams-js is bundled in,
// so a page loads nothing from another host and its Content-Security-Policy can stay 'self'.
// Entries are the files directly in web/ (`web/<name>.ts`); shared page code lives in web/lib/.

/** A file ready to send: its bytes, type and a strong ETag. */
export interface WebAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

export const CONTENT_TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
} as const;
export type AssetKind = keyof typeof CONTENT_TYPES;

/** Letters and digits only: a name never reaches the file system with a dot or a slash. */
const NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/** The browsers a Teams client embeds (Edge WebView2, Chromium, Safari on iOS/macOS). */
const TARGET = ['chrome110', 'edge110', 'safari15', 'firefox110'];

export interface WebBundlerOptions {
  /** Where the page sources are (default: web/ in the repository). */
  dir?: string;
  /** Minify scripts (default true; false keeps them readable while debugging). */
  minify?: boolean;
}

/** Builds and caches the assets of web/: `script('incidentDialog')` bundles web/incidentDialog.ts. */
export class WebBundler {
  readonly dir: string;
  private readonly minify: boolean;
  private readonly cache = new Map<string, Promise<WebAsset>>();

  constructor(options: WebBundlerOptions = {}) {
    this.dir = options.dir ?? path.join(projectRoot, 'web');
    this.minify = options.minify ?? true;
  }

  /** Whether web/<name>.<kind> exists (a page, a script entry, a style sheet). */
  has(name: string, kind: AssetKind): boolean {
    return NAME.test(name) && existsSync(this.sourcePath(name, kind));
  }

  /** web/<name>.<kind>, scripts bundled; built once, then served from memory. */
  get(name: string, kind: AssetKind): Promise<WebAsset> {
    if (!NAME.test(name)) return Promise.reject(new Error(`not an asset name: ${name}`));
    const key = `${name}.${kind}`;
    let asset = this.cache.get(key);
    if (!asset) {
      asset = kind === 'js' ? this.bundle(name) : this.read(name, kind);
      // A failed build is not kept: fixing the file and asking again retries it.
      asset.catch(() => this.cache.delete(key));
      this.cache.set(key, asset);
    }
    return asset;
  }

  /** Builds the given assets now (at start), so the first page view does not wait. */
  async warm(assets: readonly [name: string, kind: AssetKind][]): Promise<void> {
    await Promise.all(assets.map(([name, kind]) => this.get(name, kind)));
  }

  private sourcePath(name: string, kind: AssetKind): string {
    return path.join(this.dir, `${name}.${kind === 'js' ? 'ts' : kind}`);
  }

  private async bundle(name: string): Promise<WebAsset> {
    const result = await build({
      entryPoints: [this.sourcePath(name, 'js')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: TARGET,
      minify: this.minify,
      sourcemap: false,
      legalComments: 'none',
      logLevel: 'silent',
    });
    const file = result.outputFiles[0];
    if (!file) throw new Error(`esbuild produced nothing for web/${name}.ts`);
    return asset(Buffer.from(file.contents), 'js');
  }

  private async read(name: string, kind: AssetKind): Promise<WebAsset> {
    return asset(await readFile(this.sourcePath(name, kind)), kind);
  }
}

function asset(body: Buffer, kind: AssetKind): WebAsset {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  return { body, contentType: CONTENT_TYPES[kind], etag };
}

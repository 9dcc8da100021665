import type restify from 'restify';
import type { Logger } from '../logger.js';
import { type AssetKind, type WebAsset, WebBundler } from './bundle.js';

// Serves the pages in web/ and their assets. Every page gets a strict Content-Security-Policy:
// scripts, styles and requests go to this server only (teams-js is bundled, so nothing is needed
// from elsewhere), no inline script or style, and only Microsoft 365 hosts may frame the page.

/** Microsoft 365 hosts that may show our pages in a frame (Teams, Outlook, the Microsoft 365 app). */
export const FRAME_ANCESTORS = [
  "'self'",
  'https://teams.microsoft.com',
  'https://*.teams.microsoft.com',
  'https://teams.live.com',
  'https://*.teams.microsoft.us',
  'https://*.skype.com',
  'https://*.office.com',
  'https://*.office365.com',
  'https://outlook.office.com',
  'https://*.microsoft365.com',
  'https://*.cloud.microsoft',
] as const;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  // The forms are sent by script; a native submit (script failed to load) must not put what was
  // typed into a URL.
  "form-action 'none'",
  "base-uri 'none'",
  "object-src 'none'",
  `frame-ancestors ${FRAME_ANCESTORS.join(' ')}`,
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // Revalidate every time (cheap: a 304 on a matching ETag); a restart with new code is seen at once.
  'Cache-Control': 'no-cache',
} as const;

/** A page: `route` serves web/<page>.html; its script and style come from /web/<name>.js|css. */
export interface PageRoute {
  route: string;
  page: string;
}

export interface WebRoutesDeps {
  bundler: WebBundler;
  pages: readonly PageRoute[];
  logger: Logger;
}

/** Registers the pages and GET /web/<name>.js|css (bundled on first request, then cached). */
export function webRoutes(deps: WebRoutesDeps): (server: restify.Server) => void {
  const log = deps.logger.child({ module: 'web' });
  return (server) => {
    for (const { route, page } of deps.pages) {
      if (!deps.bundler.has(page, 'html')) throw new Error(`no page web/${page}.html for ${route}`);
      server.get(route, async (req, res) => serve(req, res, deps.bundler, page, 'html', log));
    }
    server.get('/web/:file', async (req, res) => {
      const match = /^([A-Za-z][A-Za-z0-9]{0,63})\.(js|css)$/.exec(String(req.params.file ?? ''));
      const name = match?.[1];
      const kind = match?.[2] as AssetKind | undefined;
      if (!name || !kind || !deps.bundler.has(name, kind)) {
        res.send(404, { error: 'not_found' });
        return;
      }
      await serve(req, res, deps.bundler, name, kind, log);
    });
  };
}

async function serve(
  req: restify.Request,
  res: restify.Response,
  bundler: WebBundler,
  name: string,
  kind: AssetKind,
  log: Logger,
): Promise<void> {
  let asset: WebAsset;
  try {
    asset = await bundler.get(name, kind);
  } catch (err) {
    log.error({ err, asset: `${name}.${kind}` }, 'could not build a web asset');
    res.send(500, { error: 'asset_unavailable', message: 'This page could not be prepared; see the server log.' });
    return;
  }
  const headers = { ...SECURITY_HEADERS, 'Content-Type': asset.contentType, ETag: asset.etag };
  if (req.header('if-none-match') === asset.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': String(asset.body.length) });
  res.end(asset.body);
}

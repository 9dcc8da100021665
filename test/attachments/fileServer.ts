import http from 'node:http';
import type { AddressInfo } from 'node:net';

// A local HTTP server standing in for Teams' file hosts (downloadUrl, contentUrl): serves the
// files a test registers, records the authorization header of each request.

export interface FileServer {
  url: string;
  /** Serves `bytes` at `/path`; `chunked` leaves out Content-Length (a streamed download). */
  serve(path: string, bytes: Uint8Array, opts?: { chunked?: boolean; status?: number }): string;
  requests: { path: string; authorization?: string }[];
  stop(): Promise<void>;
}

export async function startFileServer(): Promise<FileServer> {
  const files = new Map<string, { bytes: Uint8Array; chunked: boolean; status: number }>();
  const requests: FileServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const path = req.url ?? '';
    requests.push({ path, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    const f = files.get(path);
    // Two calls, not a chain: restify (loaded by other tests) patches writeHead to return nothing.
    if (!f) {
      res.writeHead(404);
      res.end();
      return;
    }
    if (f.status !== 200) {
      res.writeHead(f.status);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', ...(f.chunked ? {} : { 'content-length': String(f.bytes.length) }) });
    // In pieces, so a size limit has to stop a stream rather than refuse a header.
    const step = 256 * 1024;
    for (let i = 0; i < f.bytes.length; i += step) res.write(f.bytes.subarray(i, i + step));
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    requests,
    serve: (path, bytes, opts = {}) => {
      files.set(path, { bytes, chunked: opts.chunked ?? false, status: opts.status ?? 200 });
      return `${url}${path}`;
    },
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The smallest valid-looking files of each kind (magic bytes and a little padding). */
export const SAMPLE = {
  png: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 1)]),
  jpeg: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 2)]),
  pdf: Buffer.from('%PDF-1.7\n% a test\n'),
  log: Buffer.from('2026-11-21 09:00:01 Batch job 5637144576 failed: deadlock\n'),
  zip: Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(32, 0)]),
  exe: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(64, 0)]),
};

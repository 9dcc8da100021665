// Downloads an attachment with a hard size limit: the body is read as a stream and dropped the
// moment it passes the limit, so a huge file never fills memory or disk.

export type Download =
  | { ok: true; bytes: Buffer }
  | { ok: false; reason: 'tooLarge' }
  | { ok: false; reason: 'failed'; detail: string };

export interface DownloadOptions {
  maxBytes: number;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export async function downloadLimited(url: string, options: DownloadOptions): Promise<Download> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'failed', detail: 'not a URL' };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    return { ok: false, reason: 'failed', detail: `unsupported protocol ${parsed.protocol}` };
  let res: Response;
  try {
    res = await fetch(parsed, {
      headers: options.headers ?? {},
      redirect: 'follow',
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
  } catch (err) {
    return { ok: false, reason: 'failed', detail: (err as Error).message };
  }
  if (!res.ok) {
    await res.body?.cancel();
    return { ok: false, reason: 'failed', detail: `HTTP ${res.status}` };
  }
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    await res.body?.cancel();
    return { ok: false, reason: 'tooLarge' };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > options.maxBytes) {
        await res.body?.cancel().catch(() => undefined); // already reading: cancelling may race the end
        return { ok: false, reason: 'tooLarge' };
      }
      chunks.push(Buffer.from(chunk));
    }
  } catch (err) {
    return { ok: false, reason: 'failed', detail: (err as Error).message };
  }
  return { ok: true, bytes: Buffer.concat(chunks) };
}

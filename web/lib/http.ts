// JSON over fetch for the pages: same-origin, relative URLs (the pages work under any base path),
// and one answer shape whatever the status, so callers branch on `status` and read `body`.

export interface JsonAnswer<T = unknown> {
  status: number;
  body: T;
}

export async function getJson<T>(url: string, signal?: AbortSignal, headers: Record<string, string> = {}): Promise<JsonAnswer<T>> {
  const res = await fetch(url, { headers: { accept: 'application/json', ...headers }, credentials: 'same-origin', signal });
  return { status: res.status, body: (await readJson(res)) as T };
}

export async function postJson<T>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonAnswer<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    credentials: 'same-origin',
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await readJson(res)) as T };
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return { message: text.slice(0, 300) };
  }
}

/** True for the error fetch throws when its AbortController was aborted. */
export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { COLLECTIONS } from './collections.js';

const SERVICE_URL_ID = '~last-service-url';

/** A conversation reference as the Teams layer serialises it; opaque to the core. */
export type ConversationRecord = {
  id: string;
  kind: 'personal' | 'groupChat' | 'channel';
  tenantId?: string;
  reference: Record<string, unknown>;
  updatedAt: string;
};

/**
 * Remembers where the bot can post proactively (acknowledgements, status updates). Writes only
 * when a reference changes, so an ordinary turn costs no store write and no serialising.
 */
export class ConversationService {
  /** Per conversation, the record as the store holds it (last written or read). */
  private readonly known = new Map<string, Omit<ConversationRecord, 'updatedAt'>>();
  private serviceUrl: string | undefined;
  // Serialises the service URL's check and write: the first turns after a start come at once and
  // would each write it.
  private serviceUrlTask: Promise<void> = Promise.resolve();

  constructor(private readonly deps: { store: Store; logger: Logger; now: () => Date }) {}

  async remember(record: Omit<ConversationRecord, 'updatedAt'>): Promise<void> {
    const serviceUrl = record.reference.serviceUrl;
    if (typeof serviceUrl === 'string' && serviceUrl !== this.serviceUrl) await this.rememberServiceUrl(serviceUrl);
    const known = this.known.get(record.id);
    if (known && sameJson(known, record)) return;
    const existing = await this.deps.store.get<ConversationRecord>(COLLECTIONS.conversations, record.id);
    if (existing) {
      const { updatedAt: _u, ...rest } = existing.value;
      if (sameJson(rest, record)) {
        this.known.set(record.id, jsonCopy(record));
        return;
      }
    }
    await this.deps.store.write([
      { op: 'put', collection: COLLECTIONS.conversations, id: record.id, value: { ...record, updatedAt: this.deps.now().toISOString() } },
    ]);
    this.known.set(record.id, jsonCopy(record));
  }

  // The Bot Connector endpoint last seen, to reach a directory channel nobody has written in yet.
  private rememberServiceUrl(url: string): Promise<void> {
    const task = this.serviceUrlTask.then(async () => {
      if ((await this.lastServiceUrl()) === url) return;
      await this.deps.store.write([
        { op: 'put', collection: COLLECTIONS.conversations, id: SERVICE_URL_ID, value: { serviceUrl: url } },
      ]);
      this.serviceUrl = url;
    });
    this.serviceUrlTask = task.catch(() => undefined); // the failed turn reports it; the next one tries again
    return task;
  }

  async lastServiceUrl(): Promise<string | undefined> {
    this.serviceUrl ??= (await this.deps.store.get<{ serviceUrl: string }>(COLLECTIONS.conversations, SERVICE_URL_ID))?.value
      .serviceUrl;
    return this.serviceUrl;
  }

  async get(id: string): Promise<ConversationRecord | undefined> {
    return (await this.deps.store.get<ConversationRecord>(COLLECTIONS.conversations, id))?.value;
  }
}

/**
 * Whether two values would be stored alike (JSON: an undefined property is no property), compared
 * in place: every turn checks its reference, and serialising it each time made garbage for nothing.
 */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (!isPlain(a) || !isPlain(b)) return JSON.stringify(a) === JSON.stringify(b); // a Date, a class
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => sameJson(v, b[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let keys = 0;
  for (const k in x) {
    if (x[k] === undefined) continue;
    if (!sameJson(x[k], y[k])) return false;
    keys++;
  }
  for (const k in y) if (y[k] !== undefined) keys--;
  return keys === 0;
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === Array.prototype || proto === null;
}

function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { COLLECTIONS } from './collections.js';

/** A conversation reference as the Teams layer serialises it; opaque to the core. */
const SERVICE_URL_ID = '~last-service-url';

export type ConversationRecord = {
  id: string;
  kind: 'personal' | 'groupChat' | 'channel';
  tenantId?: string;
  reference: Record<string, unknown>;
  updatedAt: string;
};

/**
 * Remembers where the bot can post proactively (acknowledgements, status updates). Writes only
 * when a reference changes, so an ordinary turn costs no store write.
 */
export class ConversationService {
  private readonly known = new Map<string, string>();
  constructor(private readonly deps: { store: Store; logger: Logger; now: () => Date }) {}

  async remember(record: Omit<ConversationRecord, 'updatedAt'>): Promise<void> {
    const serviceUrl = record.reference.serviceUrl;
    if (typeof serviceUrl === 'string' && serviceUrl !== this.serviceUrl) await this.rememberServiceUrl(serviceUrl);
    const fingerprint = JSON.stringify(record);
    if (this.known.get(record.id) === fingerprint) return;
    const existing = await this.deps.store.get<ConversationRecord>(COLLECTIONS.conversations, record.id);
    if (existing) {
      const { updatedAt: _u, ...rest } = existing.value;
      if (JSON.stringify(rest) === fingerprint) {
        this.known.set(record.id, fingerprint);
        return;
      }
    }
    await this.deps.store.write([
      { op: 'put', collection: COLLECTIONS.conversations, id: record.id, value: { ...record, updatedAt: this.deps.now().toISOString() } },
    ]);
    this.known.set(record.id, fingerprint);
  }

  private serviceUrl: string | undefined;

  // The Bot Connector endpoint last seen, to reach a directory channel nobody has written in yet.
  private async rememberServiceUrl(url: string): Promise<void> {
    await this.deps.store.write([
      { op: 'put', collection: COLLECTIONS.conversations, id: SERVICE_URL_ID, value: { serviceUrl: url } },
    ]);
    this.serviceUrl = url;
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

import { randomBytes } from 'node:crypto';
import type { ConversationContext, UserContext } from '../domain/user.js';
import type { Logger } from '../logger.js';
import type { IndexSpec, Store } from '../store/store.js';
import type { Clock } from '../time.js';

// A dialog session ties an opened incident dialog to the user and conversation the bot saw when
// it opened it (task/fetch, authenticated by the Bot Framework). Its id, unguessable and short
// lived, is the page's only credential until Teams SSO tokens are validated (the tab's issue): it
// lets the page load that user's form choices. When a submit is refused, the bot stores the
// values and errors in a new session and re-opens the page with it, so nothing typed is lost
// (values are far too long for a URL). Sessions live in the store, so a restart or another
// instance behind a load balancer still finds them; expired ones are swept by their expiry hour.

export const DIALOG_SESSIONS = 'dialogSessions';
export const DIALOG_SESSION_TTL_MS = 60 * 60 * 1000;
const SWEEP_EVERY_MS = 10 * 60 * 1000;
const FIRST_SWEEP_HOURS = 48;

export interface DialogSession {
  id: string;
  user: UserContext;
  conversation: ConversationContext;
  /** What the user had typed when a submit was refused (IncidentForm's shape, bounded). */
  values?: Record<string, unknown>;
  /** The refusal's messages, keyed by field path (`contact.email`). */
  errors?: Record<string, string>;
  /** The refused form's idempotency key: the corrected form is the same submission. */
  idempotencyKey?: string;
  /**
   * Set for a ticket's attachments dialog (src/web/ticketFiles.ts): the one ticket whose files the
   * session may show. The incident form does not take such a session.
   */
  ticketId?: string;
  createdAt: string;
  expiresAt: string;
}

export const DIALOG_SESSION_INDEXES: IndexSpec = {
  [DIALOG_SESSIONS]: { expiresHour: (s: DialogSession) => s.expiresAt.slice(0, 13) },
};

const ID = /^[A-Za-z0-9_-]{22,64}$/;

export interface DialogSessionsDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  ttlMs?: number;
}

export class DialogSessions {
  private readonly ttlMs: number;
  private readonly log: Logger;
  private lastSweep = 0;
  private sweptUntil: number | undefined;

  constructor(private readonly deps: DialogSessionsDeps) {
    this.ttlMs = deps.ttlMs ?? DIALOG_SESSION_TTL_MS;
    this.log = deps.logger.child({ module: 'dialogSessions' });
  }

  /** Opens a session for this user and conversation; returns its id (for the page URL). */
  async create(
    user: UserContext,
    conversation: ConversationContext,
    draft: Pick<DialogSession, 'values' | 'errors' | 'idempotencyKey' | 'ticketId'> = {},
  ): Promise<string> {
    const now = this.deps.clock.now();
    const id = randomBytes(18).toString('base64url');
    const session: DialogSession = {
      id,
      user,
      conversation,
      ...(draft.values ? { values: boundValues(draft.values) } : {}),
      ...(draft.errors ? { errors: draft.errors } : {}),
      ...(draft.idempotencyKey ? { idempotencyKey: draft.idempotencyKey } : {}),
      ...(draft.ticketId ? { ticketId: draft.ticketId } : {}),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.ttlMs).toISOString(),
    };
    await this.deps.store.write([{ op: 'put', collection: DIALOG_SESSIONS, id, value: session, ifMatch: 'absent' }]);
    this.sweepSoon(now);
    return id;
  }

  /** The live session with this id, or undefined (unknown, malformed or expired). */
  async get(id: string): Promise<DialogSession | undefined> {
    if (!ID.test(id)) return undefined;
    const doc = await this.deps.store.get<DialogSession>(DIALOG_SESSIONS, id);
    if (!doc || doc.value.expiresAt <= this.deps.clock.now().toISOString()) return undefined;
    return doc.value;
  }

  /** Deletes sessions that expired in whole hours not yet swept. Runs at most every 10 minutes. */
  private sweepSoon(now: Date): void {
    if (now.getTime() - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now.getTime();
    // Fire and forget, but never unobserved: a failed sweep is retried on a later create.
    this.sweep(now).catch((err: unknown) => {
      this.lastSweep = 0;
      this.log.warn({ err }, 'could not sweep expired dialog sessions');
    });
  }

  async sweep(now: Date): Promise<number> {
    const hour = 60 * 60 * 1000;
    const current = Math.floor(now.getTime() / hour) * hour; // the hour still running is kept
    let from = this.sweptUntil ?? current - FIRST_SWEEP_HOURS * hour;
    let removed = 0;
    for (; from < current; from += hour) {
      const key = new Date(from).toISOString().slice(0, 13);
      const expired = await this.deps.store.find<DialogSession>(DIALOG_SESSIONS, 'expiresHour', key);
      if (expired.length)
        await this.deps.store.write(expired.map((d) => ({ op: 'delete' as const, collection: DIALOG_SESSIONS, id: d.id })));
      removed += expired.length;
    }
    this.sweptUntil = current;
    return removed;
  }
}

// The field sizes of IncidentForm (src/flows/incidentForm.ts): a stored draft is never larger
// than a valid form, whatever was posted.
const LIMITS: Record<string, number> = {
  projectId: 64,
  environmentId: 64,
  category: 64,
  area: 64,
  title: 1000,
  details: 20000,
  errorMessage: 8000,
  contractRef: 200,
  severity: 1,
};
const CONTACT_LIMITS: Record<string, number> = { name: 500, email: 500, phone: 100 };
const FLAGS = ['confirmCritical', 'confirm24x7'];

/** Keeps the known fields of a posted form, strings cut to their limits. */
export function boundValues(raw: Record<string, unknown>): Record<string, unknown> {
  const pick = (source: Record<string, unknown>, limits: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(limits)
        .filter(([key]) => typeof source[key] === 'string')
        .map(([key, max]) => [key, (source[key] as string).slice(0, max)]),
    );
  const out: Record<string, unknown> = pick(raw, LIMITS);
  const contact = raw.contact;
  if (contact && typeof contact === 'object' && !Array.isArray(contact))
    out.contact = pick(contact as Record<string, unknown>, CONTACT_LIMITS);
  for (const flag of FLAGS) if (raw[flag] === true || raw[flag] === 'true') out[flag] = true;
  return out;
}

// Wires the desk loop the way the composition root does (OutageService -> DeskService -> outbox
// items and deadlines), over any Store, with manual time. Shared by test/desk and test/sla.

import { pino } from 'pino';
import type { Directory } from '../../src/directory.js';
import { DeskService } from '../../src/desk/deskService.js';
import type { SupportPlanKind } from '../../src/domain/sla.js';
import type { Deadline, Ticket } from '../../src/domain/ticket.js';
import type { ConversationContext, UserContext } from '../../src/domain/user.js';
import type { OutageDraft } from '../../src/flows/outageFlow.js';
import { type Logger, silentLogger } from '../../src/logger.js';
import { OUTBOX_COLLECTION, OUTBOX_INDEXES, type OutboxItem } from '../../src/outbox/outboxItem.js';
import type { ManualTimers } from '../../src/outbox/timers.js';
import { COLLECTIONS, INDEXES } from '../../src/services/collections.js';
import { OutageService } from '../../src/services/outageService.js';
import { DEADLINE_INDEXES, fromIndexKey, type Timers } from '../../src/sla/deadlines.js';
import { type IndexSpec, mergeIndexes, type Store, type WriteOp } from '../../src/store/store.js';
import type { Clock } from '../../src/time.js';
import { demoDirectory, demoUser } from '../helpers/fixtures.js';

/** Every index the desk loop reads by, as the composition root merges them. */
export const ALL_INDEXES: IndexSpec = mergeIndexes(INDEXES, OUTBOX_INDEXES, DEADLINE_INDEXES);

export const DESK_CHANNEL = 'channel-support-desk-id';
export const LINKED_CHANNEL = '19:contoso-ops@thread.tacv2';

export const PATTI: UserContext = { aadObjectId: '00000000-0000-0000-0000-0000000000024', name: 'Patti Fernandez', tenantId: 'microsoft-support' };
export const LYNNE: UserContext = { aadObjectId: '00000000-0000-0000-0000-0000000000025', name: 'Lynne Robbins', tenantId: 'microsoft-support' };
export const ALEX = demoUser('alex');
export const FABRIKAM_OWNER: UserContext = {
  aadObjectId: '11111111-0000-0000-0000-000000000001',
  name: 'Fabrikam Owner',
  email: 'owner@fabrikam.example',
  tenantId: '11111111-1111-1111-1111-111111111111',
  timeZone: 'Europe/London',
};

export const ESCALATION_CONTACTS = [
  { aadObjectId: '00000000-0000-0000-0000-0000000000030', name: 'Nestor Wilke', email: 'nestorw@example.com' },
  { aadObjectId: '00000000-0000-0000-0000-0000000000031', name: 'Grady Archie', email: 'gradya@example.com' },
];

export const DESK_MEMBERS = [
  { aadObjectId: PATTI.aadObjectId, name: PATTI.name, email: 'pattif@example.com' },
  { aadObjectId: LYNNE.aadObjectId, name: LYNNE.name, email: 'lynner@example.com' },
];

/**
 * The demo directory with the desk pinned to Patti and Lynne (the demo file may add its own user),
 * two escalation contacts, and optionally a plan and a linked channel on contoso-fo.
 */
export function deskDirectory(options: { linkedChannel?: boolean; plan?: SupportPlanKind } = {}): Directory {
  const d = demoDirectory();
  d.desk.members = DESK_MEMBERS;
  d.desk.escalationContacts = ESCALATION_CONTACTS;
  if (options.plan) d.organizations[0]!.projects.find((p) => p.id === 'contoso-fo')!.supportPlan = options.plan;
  if (options.linkedChannel) {
    const project = d.organizations[0]!.projects.find((p) => p.id === 'contoso-fo')!;
    project.linkedChannel = { teamId: 'contoso-team', channelId: LINKED_CHANNEL, name: 'Contoso operations' };
  }
  return d;
}

/** Records every batch written, so a test can see what was written together. */
export class RecordingStore implements Store {
  readonly batches: WriteOp[][] = [];
  constructor(readonly inner: Store) {}
  get: Store['get'] = (c, id) => this.inner.get(c, id);
  find: Store['find'] = (c, i, k) => this.inner.find(c, i, k);
  indexEntries: Store['indexEntries'] = (c, i) => this.inner.indexEntries!(c, i);
  count: Store['count'] = (c) => this.inner.count(c);
  close: Store['close'] = () => this.inner.close();
  write(ops: WriteOp[]): Promise<string[]> {
    this.batches.push(ops);
    return this.inner.write(ops);
  }
}

export interface Loop {
  outage: OutageService;
  desk: DeskService;
  /** What the desk told the scheduler after its writes: a ticket's pending deadlines. */
  announced: { ticketId: string; pending: Deadline[] }[];
  wakes: number;
}

/** OutageService with DeskService as its newTicket dep, as src/index.ts wires them. */
export function wireLoop(deps: { store: Store; directory: Directory; clock: Clock; logger?: Logger }): Loop {
  const logger = deps.logger ?? silentLogger;
  const desk = new DeskService({ store: deps.store, directory: deps.directory, clock: deps.clock, logger });
  const loop: Loop = {
    desk,
    announced: [],
    wakes: 0,
    outage: new OutageService({
      store: deps.store,
      directory: deps.directory,
      clock: deps.clock,
      logger,
      newTicket: { ops: (t) => desk.newTicketOps(t), created: (t, written) => desk.ticketCreated(t, written) },
    }),
  };
  desk.setHooks({
    wakeOutbox: () => void loop.wakes++,
    deadlinesChanged: (ticketId, pending) => void loop.announced.push({ ticketId, pending }),
  });
  return loop;
}

export const CONTACT = { name: 'Alex Wilber', email: 'alexw@example.com', phone: '+1 425 555 0100' };

/** Walks the outage flow to the submitted ticket; undefined if the submit was not saved. */
export async function reportOutage(
  store: Store,
  outage: OutageService,
  user: UserContext,
  conversation: ConversationContext,
  options: { title?: string; activityId?: string; beforeSubmit?: () => void } = {},
): Promise<Ticket | undefined> {
  const view = await outage.start(user, conversation);
  const draftId = String(view.data.draftId);
  const rev = async () => (await store.get<OutageDraft>(COLLECTIONS.drafts, draftId))!.value.rev;
  const data = (extra: Record<string, unknown>) => async () => ({ draftId, rev: await rev(), ...extra });
  const steps: [string, () => Promise<Record<string, unknown>>][] = [
    ['outage.confirm', data({ confirmed: 'true', scenarioId: 'sign-in' })],
    ['outage.details', data({ title: options.title ?? 'Nobody can sign in', details: 'All users get AADSTS errors since 6:45.' })],
    ['outage.contact', data({ ...CONTACT, name: user.name })],
  ];
  const draft0 = (await store.get<OutageDraft>(COLLECTIONS.drafts, draftId))!.value;
  if (draft0.step === 'project') {
    const first = (view.data.choices as { value: string }[])[0]!;
    steps.unshift(['outage.project', data({ projectKey: first.value })]);
  }
  for (const [verb, make] of steps) {
    if (verb === 'outage.contact') options.beforeSubmit?.();
    await outage.act(user, { verb, data: await make() } as never, options.activityId ? { activityId: options.activityId } : {});
  }
  const draft = (await store.get<OutageDraft>(COLLECTIONS.drafts, draftId))!.value;
  if (!draft.ticketId) return undefined;
  return (await store.get<Ticket>(COLLECTIONS.tickets, draft.ticketId))!.value;
}

export async function ticketOf(store: Store, id: string): Promise<Ticket> {
  return (await store.get<Ticket>(COLLECTIONS.tickets, id))!.value;
}

/** A ticket's outbox items, in delivery order. */
export async function itemsOf(store: Store, ticketId: string): Promise<OutboxItem[]> {
  const docs = await store.find<OutboxItem>(OUTBOX_COLLECTION, 'ticket', ticketId);
  return docs.map((d) => d.value).sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
}

/** The pending deadlines as the store's `deadline` index holds them (what a start-up learns). */
export async function deadlinesIn(store: Store): Promise<Deadline[]> {
  const entries = await store.indexEntries!(COLLECTIONS.tickets, 'deadline');
  return entries
    .flatMap(({ id, keys }) => keys.map((k) => fromIndexKey(id, k)!))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** The deadline scheduler's timer port over the outbox's ManualTimers. */
export function schedulerTimers(timers: ManualTimers): Timers {
  return {
    set(fn, ms) {
      const handle = timers.setTimeout(fn, ms);
      return { cancel: () => timers.clearTimeout(handle) };
    },
  };
}

/** A timer port that never fires: the test calls tick() itself. */
export const noTimers: Timers = { set: () => ({ cancel: () => undefined }) };

/** A logger that keeps what it logs, to check that a race is not reported as a failure. */
export function capturingLogger(): { logger: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
  return { logger, lines };
}

/** The data a card payload binds (throws for a text payload or a desk card named by its ticket). */
export function cardDataOf(item: Pick<OutboxItem, 'id' | 'payload'>): Record<string, unknown> {
  if (item.payload.kind !== 'card') throw new Error(`${item.id} is not a card`);
  return item.payload.data;
}

/** The data the item's card binds when sent: a desk card named by its ticket is rendered now. */
export async function sentCardDataOf(desk: DeskService, item: OutboxItem): Promise<Record<string, unknown>> {
  if (item.payload.kind !== 'deskCard') return cardDataOf(item);
  const rendered = await desk.render(item.payload);
  if (rendered?.kind !== 'card') throw new Error(`${item.id}: no desk card for ${item.payload.ticketId}`);
  return rendered.data;
}

/** The text a card payload shows (the news card's title and text). */
export function newsText(item: OutboxItem): string {
  if (item.payload.kind === 'text') return item.payload.text;
  if (item.payload.kind !== 'card') throw new Error(`${item.id} is not news`);
  const d = item.payload.data as { title?: string; text?: string };
  return `${d.title ?? ''}\n${d.text ?? ''}`;
}


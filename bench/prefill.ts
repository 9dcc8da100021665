// Fills a store directory with generated data, fast, before the bot starts on it. The values come
// from the product's own code (buildTicket, applyDeskAction, newOutboxItem), the
// indexes from the ones the product opens its store with (APP_INDEXES, as built: builtIndexes.ts), the files and the index snapshot from the store's own layout and serializer, so
// the bot opens it exactly as one it wrote itself (snapshot read, no scan, no replay). Writing the
// files directly instead of through store.write() takes seconds rather than minutes at 50,000.

import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { builtAppIndexes } from './builtIndexes.js';
import { APP_PACKS } from '../src/services/appIndexes.js';
import { projectRoot } from '../src/config.js';
import { applyDeskAction, type DeskAction } from '../src/desk/deskActions.js';
import { newsView } from '../src/desk/deskViews.js';
import { type Directory, loadDirectory } from '../src/directory.js';
import type { Ticket } from '../src/domain/ticket.js';
import type { OutageDraft } from '../src/flows/outageFlow.js';
import { newOutboxItem, OUTBOX_COLLECTION, type OutboxItem, storedForm } from '../src/outbox/outboxItem.js';
import { COLLECTIONS } from '../src/services/collections.js';
import { buildTicket } from '../src/services/outageService.js';
import { newETag } from '../src/store/batchPlan.js';
import { docFileText } from '../src/store/docFile.js';
import { FileLayout } from '../src/store/fileLayout.js';
import { mapLimit } from '../src/store/fsUtil.js';
import { packGroup } from '../src/store/packFile.js';
import { serializeSnapshot, specFingerprint, writeSnapshot } from '../src/store/indexSnapshot.js';
import { IndexTable } from '../src/store/indexTable.js';
import { DESK_CHANNEL, TENANT } from './activities.js';

export const DIRECTORY_FILE = path.join(projectRoot, 'config', 'directory.demo.json');
export const FIRST_TICKET = 100001;
const REPORTERS = 500;
const DESK_PERSON = { aadObjectId: '00000000-0000-0000-0000-0000000000024', name: 'Patti Fernandez' };

export interface PrefillSpec {
  dir: string;
  /** The local connector: stored conversation references point at it. */
  serviceUrl: string;
  now: Date;
  /** Resolved tickets (acknowledged, updated, resolved), each with its delivered desk card. */
  resolved?: number;
  /** Open, unacknowledged tickets: their warning and escalation deadlines are due in 20-30 min. */
  open?: number;
  /** More of the same, kept apart as the targets of an acknowledgement load. */
  ackPool?: number;
  /** One open ticket whose escalation deadline is the time this returns, asked once everything
   * else is written (and no warning), for the SLA clock. */
  dueAt?: () => Date;
  /** Pending outbox posts spread over conversations (each with its stored reference). */
  pendingOutbox?: { items: number; conversations: number };
}

export interface Prefilled {
  documents: number;
  tickets: number;
  /** Ids of the unacknowledged tickets (open, then the ack pool), in creation order. */
  openIds: string[];
  ackIds: string[];
  dueTicketId?: string;
  dueAt?: Date;
  ms: number;
}

type Doc = [collection: string, id: string, value: unknown];

/** Writes the documents and the index snapshot into `spec.dir` (which must be empty or absent). */
export async function prefill(spec: PrefillSpec): Promise<Prefilled> {
  const started = performance.now();
  const directory = await loadDirectory(DIRECTORY_FILE);
  const layout = new FileLayout(path.resolve(spec.dir));
  const appIndexes = await builtAppIndexes();
  const table = new IndexTable(appIndexes);
  await mkdir(layout.wal, { recursive: true });
  const madeDirs = new Set<string>();
  // A store in use has every shard folder already; a new one pays a mkdir + fsync per folder on
  // its first writes, which is not what the benchmark is after.
  for (const collection of [...Object.keys(appIndexes), COLLECTIONS.counters, COLLECTIONS.conversations]) {
    for (let shard = 0; shard < 256; shard++) {
      const dir = path.join(layout.collectionDir(collection), shard.toString(16).padStart(2, '0'));
      await mkdir(dir, { recursive: true });
      madeDirs.add(dir);
    }
  }
  let documents = 0;

  // Where the store keeps a document: its own file, or in a packed collection its group's pack.
  const fileOf = (collection: string, id: string) => {
    const pack = APP_PACKS[collection];
    return pack ? layout.packFile(collection, packGroup(id, pack.separator)) : layout.docFile(collection, id);
  };
  const flush = async (docs: Doc[]): Promise<void> => {
    for (const [collection, id] of docs) {
      const dir = path.dirname(fileOf(collection, id));
      if (!madeDirs.has(dir)) {
        await mkdir(dir, { recursive: true });
        madeDirs.add(dir);
      }
    }
    // A pack's lines are appended together, one pack at a time.
    const files = new Map<string, string[]>();
    for (const [collection, id, raw] of docs) {
      const json = JSON.stringify(raw);
      const value: unknown = JSON.parse(json); // as the store keeps it
      const eTag = newETag();
      // What the store's flusher writes (src/store/docFile.ts, packFile.ts): collection and id inside.
      const file = fileOf(collection, id);
      const texts = files.get(file);
      const text = docFileText({ collection, id, eTag, json });
      if (texts) texts.push(text);
      else files.set(file, [text]);
      table.set(collection, id, { eTag, keys: table.keysFor(collection, value) });
    }
    await mapLimit([...files], 64, ([file, texts]) =>
      file.endsWith('.pack') ? appendFile(file, texts.join('')) : writeFile(file, texts.join('')),
    );
    documents += docs.length;
  };

  let batch: Doc[] = [];
  const add = async (...docs: Doc[]): Promise<void> => {
    batch.push(...docs);
    if (batch.length >= 2_000) {
      await flush(batch);
      batch = [];
    }
  };

  // Where the reporters talk to the bot, and the Bot Connector endpoint last seen.
  for (let r = 0; r < REPORTERS; r++) await add([COLLECTIONS.conversations, reporterConversation(r), conversationRecord(reporterConversation(r), spec)]);
  await add([COLLECTIONS.conversations, '~last-service-url', { serviceUrl: spec.serviceUrl }]);

  let seq = FIRST_TICKET;
  const openIds: string[] = [];
  const ackIds: string[] = [];
  const submittedAt = (k: number) => new Date(spec.now.getTime() - 1_000 - k); // just now, distinct
  for (let k = 0; k < (spec.resolved ?? 0); k++) {
    const created = new Date(spec.now.getTime() - (k + 1) * 3_600_000); // an hour apart, going back
    let t = ticket(directory, seq++, k, created);
    t = act(t, directory, 'desk.acknowledge', new Date(created.getTime() + 12 * 60_000));
    t = act(t, directory, 'desk.update', new Date(created.getTime() + 40 * 60_000), { updateText: 'Failover to the secondary region is running.' });
    t = act(t, directory, 'desk.resolve', new Date(created.getTime() + 90 * 60_000), { resolution: 'The expired certificate was renewed.' });
    await add([COLLECTIONS.tickets, t.id, t], deskCard(t));
  }
  for (let k = 0; k < (spec.open ?? 0); k++) {
    const t = ticket(directory, seq++, k, submittedAt(k));
    openIds.push(t.id);
    await add([COLLECTIONS.tickets, t.id, t], deskCard(t));
  }
  for (let k = 0; k < (spec.ackPool ?? 0); k++) {
    const t = ticket(directory, seq++, k, submittedAt(k));
    ackIds.push(t.id);
    await add([COLLECTIONS.tickets, t.id, t], deskCard(t));
  }
  let dueTicketId: string | undefined;
  let dueAt: Date | undefined;
  if (spec.dueAt) {
    await flush(batch);
    batch = [];
    dueAt = spec.dueAt();
    const base = ticket(directory, seq++, 0, new Date(dueAt.getTime() - 30 * 60_000));
    // Its warning went out already; its escalation is due at dueAt.
    const t: Ticket = { ...base, sla: { ...base.sla, dueAt: dueAt.toISOString(), warnedAt: spec.now.toISOString() } };
    dueTicketId = t.id;
    await add([COLLECTIONS.tickets, t.id, t], deskCard(t));
  }
  await add([COLLECTIONS.counters, 'tickets', { next: seq }]);

  if (spec.pendingOutbox) {
    const { items, conversations } = spec.pendingOutbox;
    const sample = ticket(directory, FIRST_TICKET, 0, spec.now);
    const news = newsView(sample, `${sample.id}: status update`, 'Failover to the secondary region is running.', spec.now);
    for (let c = 0; c < conversations; c++) {
      const id = outboxConversation(c);
      await add([COLLECTIONS.conversations, id, conversationRecord(id, spec)]);
    }
    for (let i = 0; i < items; i++) {
      const c = i % conversations;
      const item = newOutboxItem(
        {
          id: benchOutboxItemId(i),
          op: 'post',
          target: { conversationId: outboxConversation(c) },
          payload: { kind: 'card', ...news },
        },
        spec.now,
      );
      await add([OUTBOX_COLLECTION, item.id, item]);
    }
  }

  await flush(batch);
  await writeSnapshot(layout.snapshot, serializeSnapshot(1, await specFingerprint(appIndexes, APP_PACKS), table.capture()));
  // Tens of thousands of files were just written: have the kernel write them out now, so that
  // the bot under test does not pay for their writeback (its journal's fdatasync waits behind it).
  execFileSync('sync');
  const tickets = seq - FIRST_TICKET;
  return { documents, tickets, openIds, ackIds, dueTicketId, dueAt, ms: performance.now() - started };
}

export const reporterConversation = (r: number) => `a:bench-reporter-${r}`;
/** The i-th pending outbox item: three to a pack, as a ticket's desk card and news share one (OUTBOX_PACKS). */
export const benchOutboxItemId = (i: number) => `bench-${Math.floor(i / 3)}:${i}`;

export const outboxConversation = (c: number) => `a:bench-outbox-${c}`;

function reporter(r: number) {
  return { aadObjectId: `00000000-0000-4000-8000-${String(r).padStart(12, '0')}`, name: `Reporter ${r}`, email: `reporter${r}@contoso.example` };
}

function ticket(directory: Directory, seq: number, k: number, at: Date): Ticket {
  const r = k % REPORTERS;
  const who = reporter(r);
  const draft: OutageDraft = {
    id: `draft-${seq}`,
    kind: 'outage',
    rev: 4,
    step: 'contact',
    tenantId: TENANT,
    reporter: who,
    conversation: { id: reporterConversation(r), kind: 'personal' },
    timeZone: 'America/New_York',
    projectId: 'contoso-fo',
    environmentId: 'contoso-prod',
    confirmed: 'true',
    scenarioId: ['process-blocked', 'sign-in', 'batch-stopped', 'env-down'][seq % 4]!,
    title: `Posting of sales invoices fails for every user (${seq})`,
    details: 'Posting fails for every user since 9:00 with a SQL timeout. Batch jobs are stuck in Executing and the warehouse cannot ship. '.repeat(2),
    contact: { name: who.name, email: who.email, phone: '+1 425 555 0100' },
    errors: {},
    createdAt: at.toISOString(),
    updatedAt: at.toISOString(),
  };
  return buildTicket(draft, directory, seq, at, { activityId: `card-${seq}` });
}

function act(t: Ticket, directory: Directory, verb: DeskAction['verb'], now: Date, extra: Record<string, string> = {}): Ticket {
  const action = { verb, data: { ticketId: t.id, rev: t.rev, ...extra } } as DeskAction;
  const result = applyDeskAction(t, action, {
    now,
    actor: DESK_PERSON,
    queues: directory.desk.queues,
    plan: 'premier',
    slaTable: directory.sla.table,
    timeZone: 'America/Los_Angeles',
    businessHours: { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] },
    warningLeadMinutes: directory.sla.warningLeadMinutes,
  });
  if (!result.changed) throw new Error(`prefill: ${verb} did not apply to ${t.id}`);
  return result.ticket;
}

/** The ticket's desk card, as delivered: later updates and thread replies find its activity id. */
function deskCard(t: Ticket): Doc {
  // As DeskService.newTicketOps enqueues it: the card is named by its ticket, rendered when sent.
  const item = newOutboxItem(
    {
      id: `${t.id}:desk:card`,
      op: 'post',
      target: { conversationId: DESK_CHANNEL },
      payload: { kind: 'deskCard', ticketId: t.id },
      ticketId: t.id,
    },
    new Date(t.submittedAt),
  );
  const sentAt = new Date(t.submittedAt).toISOString();
  const sent: OutboxItem = { ...item, status: 'sent', attempts: 1, sentAt, sentActivityId: `desk-${t.id}` };
  return [OUTBOX_COLLECTION, item.id, storedForm(sent)];
}

/** What the bot stores when it first hears from a personal chat (bot/supportBot.ts). */
function conversationRecord(id: string, spec: PrefillSpec) {
  return {
    id,
    kind: 'personal',
    tenantId: TENANT,
    reference: {
      user: { id: `user-${id}`, name: 'Reporter' },
      bot: { id: '28:bot', name: 'F&O Support' },
      conversation: { id, conversationType: 'personal', tenantId: TENANT },
      channelId: 'msteams',
      serviceUrl: spec.serviceUrl,
    },
    updatedAt: spec.now.toISOString(),
  };
}

import path from 'node:path';
import { AttachmentFiles } from '../../src/attachments/attachmentFiles.js';
import type { Ticket, TimelineEntry } from '../../src/domain/ticket.js';
import { COLLECTIONS } from '../../src/services/collections.js';
import { type AttachmentDoc, INCIDENT_COLLECTIONS } from '../../src/services/incidentService.js';
import type { Store } from '../../src/store/store.js';
import type { BotUnderTest } from '../helpers/botHarness.js';
import { TENANT } from '../helpers/fixtures.js';

// Tickets for the Incidents tab's tests, written straight into the store so that these tests do
// not depend on the outage and incident flows (the Chromium test reports one through the bot).

export const NOW = '2026-11-21T14:00:00Z'; // 9:00 AM in New York
export const FABRIKAM_TENANT = '11111111-1111-1111-1111-111111111111';

export const PEOPLE = {
  alex: { aadObjectId: '00000000-0000-0000-0000-0000000000020', name: 'Alex Wilber' },
  megan: { aadObjectId: '00000000-0000-0000-0000-0000000000021', name: 'Megan Bowen' },
  fabrikamOwner: { aadObjectId: '11111111-0000-0000-0000-000000000001', name: 'Fabrikam Owner' },
  patti: { aadObjectId: '00000000-0000-0000-0000-0000000000024', name: 'Patti Fernandez' },
} as const;

const PROJECTS: Record<string, { name: string; orgId: string; environment: string }> = {
  'contoso-fo': { name: 'Contoso Finance and Operations', orgId: 'contoso', environment: 'CONTOSO-PROD' },
  'contoso-ax2012': { name: 'Contoso AX 2012 R3 (on-premises)', orgId: 'contoso', environment: 'AX2012-PROD' },
  'contoso-commerce-pilot': { name: 'Contoso Commerce pilot', orgId: 'contoso', environment: 'PILOT-UAT' },
  'contoso-europe-fo': { name: 'Contoso Europe Finance', orgId: 'contoso-europe', environment: 'CONTOSO-EU-UAT' },
  'fabrikam-fo': { name: 'Fabrikam Finance', orgId: 'fabrikam', environment: 'FABRIKAM-PROD' },
};

export interface TabTicketSpec {
  seq: number;
  reporter: { aadObjectId: string; name: string };
  kind?: Ticket['kind'];
  projectId?: string;
  tenantId?: string;
  minutesAgo?: number;
  severity?: Ticket['severity'];
  status?: Ticket['status'];
  /** Minutes from NOW to the SLA deadline (negative: passed). */
  dueIn?: number;
  acknowledgedMet?: boolean;
  title?: string;
  resolution?: string;
  /** More timeline entries after "submitted", minutes after submission. */
  events?: { after: number; by: { aadObjectId: string; name: string }; type: TimelineEntry['type']; text: string }[];
}

export function tabTicket(s: TabTicketSpec, now = NOW): Ticket {
  const nowMs = Date.parse(now);
  const submitted = nowMs - (s.minutesAgo ?? 1000 - s.seq) * 60_000;
  const at = new Date(submitted).toISOString();
  const dueAt = new Date(nowMs + (s.dueIn ?? 120) * 60_000).toISOString();
  const kind = s.kind ?? 'incident';
  const severity = s.severity ?? (kind === 'outage' ? 'A' : 'B');
  const id = `${kind === 'outage' ? 'OUT' : 'INC'}-${String(s.seq).padStart(6, '0')}`;
  const projectId = s.projectId ?? 'contoso-fo';
  const project = PROJECTS[projectId]!;
  const reporter = { aadObjectId: s.reporter.aadObjectId, name: s.reporter.name };
  const acknowledged =
    s.acknowledgedMet === undefined
      ? undefined
      : { at, by: { aadObjectId: PEOPLE.patti.aadObjectId, name: PEOPLE.patti.name }, minutes: s.acknowledgedMet ? 12 : 300, met: s.acknowledgedMet };
  return {
    id,
    rev: 0,
    kind,
    severity,
    status: s.status ?? (acknowledged ? 'acknowledged' : 'submitted'),
    queue: 'fo-support',
    ...(acknowledged ? { acknowledged, assignee: acknowledged.by } : {}),
    sla:
      kind === 'outage'
        ? { kind: 'acknowledgement', target: '30 minutes, 24x7', dueAt, warnAt: dueAt }
        : { kind: 'response', target: '4 hours, business hours', dueAt, warnAt: dueAt },
    deliveryProblems: [],
    orgId: project.orgId,
    tenantId: s.tenantId ?? (project.orgId === 'fabrikam' ? FABRIKAM_TENANT : TENANT),
    projectId,
    projectName: project.name,
    environmentId: project.environment.toLowerCase(),
    environmentName: project.environment,
    title: s.title ?? `Ticket number ${s.seq}`,
    details: 'What happens, and the steps to reproduce it.',
    ...(s.resolution ? { resolution: s.resolution } : {}),
    ...(kind === 'incident' ? { category: { id: 'platform', name: 'Platform' }, area: { id: 'batch-jobs', name: 'Batch jobs' } } : {}),
    reporter,
    contact: { name: s.reporter.name, email: 'someone@example.com', phone: '+1 425 555 0100' },
    submittedAt: at,
    ackDueAt: dueAt,
    timeZone: 'America/Los_Angeles',
    origin: { conversationId: 'a:personal', conversationKind: 'personal' },
    draftId: `draft-${s.seq}`,
    timeline: [
      { at, by: reporter, type: 'submitted', text: `${kind === 'outage' ? 'Outage' : 'Incident'} submitted (severity ${severity}).` },
      ...(s.events ?? []).map((e) => ({ at: new Date(submitted + e.after * 60_000).toISOString(), by: e.by, type: e.type, text: e.text })),
    ],
  };
}

export function putTickets(store: Store, ...specs: TabTicketSpec[]): Promise<string[]> {
  return putTicketsAt(store, NOW, specs);
}

/** The same, with `minutesAgo` and `dueIn` counted from `now` (the browser test runs on the real clock). */
export function putTicketsAt(store: Store, now: string, specs: TabTicketSpec[]): Promise<string[]> {
  const tickets = specs.map((s) => tabTicket(s, now));
  return store.write(tickets.map((t) => ({ op: 'put' as const, collection: COLLECTIONS.tickets, id: t.id, value: t })));
}

export interface TestFile {
  name: string;
  contentType: string;
  bytes: Buffer;
}

/**
 * An incident INC-<seq> in contoso-fo (Megan's unless `reporter`), its files on disk with their
 * metadata, as the incident flow writes them (src/services/incidentService.ts addFile).
 */
export async function putTicketWithFiles(bot: BotUnderTest, seq: number, files: TestFile[], reporter: { aadObjectId: string; name: string } = PEOPLE.megan): Promise<void> {
  const draftId = `draft-${seq}`;
  const store = new AttachmentFiles(path.join(bot.dataDir, 'attachments'));
  const attachments: NonNullable<Ticket['attachments']> = [];
  for (const f of files) {
    const ext = path.extname(f.name).slice(1);
    const id = `${draftId}:${ext}`;
    const relative = await store.save(draftId, `${ext}-file.${ext}`, f.bytes);
    attachments.push({ id, name: f.name, contentType: f.contentType, size: f.bytes.length });
    const doc: AttachmentDoc = {
      id,
      draftId,
      name: f.name,
      contentType: f.contentType,
      size: f.bytes.length,
      sha256: 'test',
      path: relative,
      receivedAt: NOW,
      by: reporter.aadObjectId,
      tenantId: TENANT,
    };
    await bot.running.store.write([{ op: 'put', collection: INCIDENT_COLLECTIONS.attachments, id, value: doc }]);
  }
  const ticket: Ticket = { ...tabTicket({ seq, reporter, minutesAgo: 30 }), ...(attachments.length ? { attachments } : {}) };
  await bot.running.store.write([{ op: 'put', collection: COLLECTIONS.tickets, id: ticket.id, value: ticket }]);
}



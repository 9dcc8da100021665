import { createHash, randomUUID } from 'node:crypto';
import {
  ALLOWED_TYPES_TEXT,
  declaredType,
  displayName,
  extensionOf,
  formatSize,
  MAX_ATTACHMENT_BYTES,
  MAX_ATTACHMENTS,
  SNIFF_BYTES,
} from '../attachments/attachmentPolicy.js';
import type { AttachmentFiles } from '../attachments/attachmentFiles.js';
import type { Download } from '../attachments/download.js';
import type { Directory } from '../directory.js';
import { dueAt } from '../domain/sla.js';
import { type Ticket, ticketNumber } from '../domain/ticket.js';
import type { ConversationContext, UserContext } from '../domain/user.js';
import {
  advanceIncident,
  areaOf,
  ATTACHMENT_STEPS,
  categoryOf,
  type DraftAttachment,
  finalizeIncident,
  type IncidentAction,
  type IncidentDraft,
  type IncidentFlowContext,
  type IncidentPrefill,
  isActiveIncident,
  type ProjectOption,
  SEVERITIES,
  startIncidentDraft,
  validateAll,
} from '../flows/incidentFlow.js';
import { IncidentForm, type IncidentFormOptions } from '../flows/incidentForm.js';
import {
  contractName,
  contractTitle,
  type FileOutcome,
  filesView,
  incidentView,
  type IncidentViewExtras,
  showsSuggestions,
} from '../flows/incidentViews.js';
import { type OutageDraft, withProfileEmail } from '../flows/outageFlow.js';
import { messageView, type View } from '../flows/views.js';
import type { Logger } from '../logger.js';
import type { UsablePlan } from '../plans/entitlements.js';
import type { PlanService } from '../plans/planService.js';
import type { IssueSearch } from '../search/issueSearch.js';
import { ConflictError, type Store, StoreUnavailableError, type WriteOp } from '../store/store.js';
import { type Clock, formatClock, isTimeZone } from '../time.js';
import { COLLECTIONS } from './collections.js';
import type { WrittenBatch } from '../outbox/outboxItem.js';
import { newTicketFields, writeNewTicket } from './ticketWriter.js';

// Submit an incident (SPEC §3) against the store: drafts, Issue search suggestions at every step,
// "This solved my problem" (counted per knowledge-base entry), files sent in personal chat, the
// support plan's incident, and the ticket with the desk's writes in one atomic write. The dialog
// page's submitForm() runs the same checks and the same creation as the card flow.

/** Store collections of this service (besides drafts, tickets and counters). */
export const INCIDENT_COLLECTIONS = {
  /** `<draftId>:<sha256 prefix>` -> AttachmentDoc: an accepted file's metadata. */
  attachments: 'incidentAttachments',
  /** knowledge-base entry id -> SolvedCounter: how many drafts "This solved my problem" closed. */
  solved: 'kbSolved',
} as const;

export interface AttachmentDoc {
  id: string;
  draftId: string;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  /** Relative to DATA_DIR/attachments. */
  path: string;
  receivedAt: string;
  by: string;
  tenantId: string;
}

export interface SolvedCounter {
  issueId: string;
  kbNumber: string;
  count: number;
  updatedAt: string;
}

/** Facts about the Teams turn that the core cannot see itself. */
export interface IncidentOrigin {
  /** The card's message, for thread replies in a channel. */
  activityId?: string;
  /** The bot's id (28:...), for a deep link to the user's personal chat with it. */
  botId?: string;
  /** Where the card is shown now (files reach a bot only in personal chat). */
  here?: ConversationContext['kind'];
}

/** A file sent to the bot in a message, as the Teams layer read it from the activity. */
export interface IncomingFile {
  name: string;
  contentType: string;
  url: string;
  /** 'file': a Teams file (download URL); 'inline': an image pasted into the message. */
  kind: 'file' | 'inline';
}

/** Downloads one incoming file, at most `maxBytes` (the Teams layer adds the bot's token where needed). */
export type FileFetcher = (file: IncomingFile, maxBytes: number) => Promise<Download>;

export type SubmitFormResult =
  | { ok: true; ticketId: string; view: View }
  | { ok: false; errors: Record<string, string> };

export type FormOptionsResult = { ok: true; options: IncidentFormOptions } | { ok: false; message: string };

const MAX_CONFLICT_RETRIES = 8;
const MAX_FILES_PER_MESSAGE = 20;

const UNAVAILABLE =
  "We couldn't save your incident just now. Nothing you typed is lost: try again in a moment, or " +
  'call phone support if your business is stopped.';

/** The flow's field names as the dialog form names them. */
const FORM_FIELD: Record<string, string> = {
  name: 'contact.name',
  email: 'contact.email',
  phone: 'contact.phone',
  inEnvironment: 'environmentId',
};

export class IncidentService {
  constructor(
    private readonly deps: {
      store: Store;
      directory: Directory;
      clock: Clock;
      logger: Logger;
      plans: PlanService;
      search: Pick<IssueSearch, 'suggest' | 'byId'>;
      files: AttachmentFiles;
      newId?: () => string;
      /** The desk loop: writes that go with a new ticket (desk card, deadlines), and a call after. */
      newTicket?: { ops(t: Ticket): WriteOp[]; created(t: Ticket, written: WrittenBatch): void };
    },
  ) {}

  // ---- starting ------------------------------------------------------------------------------

  /** "submit incident": continue the user's open draft in this conversation, or start one. */
  async start(user: UserContext, conversation: ConversationContext, origin: IncidentOrigin = {}): Promise<View> {
    const { store } = this.deps;
    const found = await this.context(user);
    if ('refusal' in found) return found.refusal;
    const { ctx } = found;
    const here = { ...origin, here: origin.here ?? conversation.kind };
    try {
      const open = await store.find<IncidentDraft>(COLLECTIONS.drafts, 'incident', draftKey(conversation.id, user.aadObjectId));
      const resumed = open
        .map((d) => d.value)
        .filter((d) => isActiveIncident(d) && d.tenantId === user.tenantId)
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0];
      if (resumed) {
        const since = formatClock(resumed.createdAt, resumed.timeZone);
        return this.viewOf(user, resumed, { ...here, notice: `Continuing the incident you started at ${since}. Cancel it to start over.` });
      }
      const draft = startIncidentDraft(this.newId(), user, conversation, ctx, this.timeZoneOf(user, ctx));
      await store.write([{ op: 'put', collection: COLLECTIONS.drafts, id: draft.id, value: draft, ifMatch: 'absent' }]);
      return this.view(user, draft, ctx, here);
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      this.deps.logger.error({ err }, 'cannot start an incident draft');
      return messageView('Submit an incident', UNAVAILABLE);
    }
  }

  /**
   * The outage flow's "My situation isn't listed": an incident draft prefilled with the outage
   * draft's project, environment and what was typed. Its id derives from the outage draft, so a
   * replayed click shows the same incident draft instead of starting another.
   */
  async startFromOutage(user: UserContext, outage: OutageDraft, origin: IncidentOrigin = {}): Promise<View> {
    const { store } = this.deps;
    const id = `${outage.id}-incident`.slice(0, 64);
    const here = { ...origin, here: origin.here ?? outage.conversation.kind };
    const notice =
      "Your situation isn't one of the production outage scenarios, so it goes to Microsoft Support as a normal " +
      'incident, with the response target of your support plan and the severity you choose. The project, ' +
      'environment and what you typed are filled in.';
    try {
      for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
        const existing = await store.get<IncidentDraft>(COLLECTIONS.drafts, id);
        if (existing) return this.viewOf(user, existing.value, here);
        const found = await this.context(user);
        if ('refusal' in found) return found.refusal;
        const prefill: IncidentPrefill = {
          ...(outage.projectId ? { projectId: outage.projectId } : {}),
          ...(outage.environmentId ? { environmentId: outage.environmentId } : {}),
          title: outage.title,
          details: outage.details,
          contact: withProfileEmail(outage, user.email).contact, // the profile may have come after the outage's start
          fromOutage: outage.id,
        };
        const draft = startIncidentDraft(id, user, outage.conversation, found.ctx, outage.timeZone, prefill);
        try {
          await store.write([{ op: 'put', collection: COLLECTIONS.drafts, id, value: draft, ifMatch: 'absent' }]);
        } catch (err) {
          if (err instanceof ConflictError) continue; // a double click made it first: show that one
          throw err;
        }
        return this.view(user, draft, found.ctx, { ...here, notice, noticeColor: 'Good' });
      }
      throw new Error(`incident draft ${id}: too many concurrent changes`);
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      this.deps.logger.error({ err }, 'cannot start an incident draft from an outage');
      return messageView('Submit an incident', UNAVAILABLE);
    }
  }

  // ---- card actions --------------------------------------------------------------------------

  /** A card action on a draft. Replays, double clicks and stale cards return the current state. */
  async act(user: UserContext, action: IncidentAction, origin: IncidentOrigin = {}): Promise<View> {
    const { store } = this.deps;
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      let stored;
      try {
        stored = await store.get<IncidentDraft>(COLLECTIONS.drafts, action.data.draftId);
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        this.deps.logger.error({ err }, 'cannot read an incident draft');
        return messageView('Submit an incident', UNAVAILABLE);
      }
      if (!stored || stored.value.kind !== 'incident')
        return messageView('This incident draft is no longer available', 'Type “submit incident” to start a new one.');
      const draft = stored.value;
      if (draft.reporter.aadObjectId !== user.aadObjectId || draft.tenantId !== user.tenantId)
        return messageView(
          'Not your incident',
          `This incident draft belongs to ${draft.reporter.name}. Type “submit incident” to start your own.`,
        );
      if (!isActiveIncident(draft) || action.data.rev !== draft.rev) return this.viewOf(user, draft, origin);
      const found = await this.context(user, draft);
      if ('refusal' in found) return found.refusal;
      const ctx = found.ctx;
      const { draft: next, effects } = advanceIncident(draft, action, ctx);
      if (next === draft) return this.view(user, draft, ctx, origin);
      // The latest activity tells the user's zone best (a chat message may not carry one).
      if (isTimeZone(user.timeZone)) next.timeZone = user.timeZone;
      const effect = effects[0];
      try {
        if (effect?.type === 'submitTicket') return await this.submitCard(user, next, stored.eTag, origin, ctx);
        if (effect?.type === 'countSolved') return await this.solve(user, next, stored.eTag, effect.issueId, ctx);
        let extras: IncidentViewExtras = {};
        if (effect?.type === 'addSoftwareAssurance') extras = await this.addSoftwareAssurance(user, next, effect);
        await store.write([{ op: 'put', collection: COLLECTIONS.drafts, id: next.id, value: next, ifMatch: stored.eTag }]);
        const after = next.step === 'contract' ? await this.context(user, next) : found;
        return this.view(user, next, 'ctx' in after ? after.ctx : ctx, { ...origin, ...extras });
      } catch (err) {
        if (err instanceof ConflictError) continue; // someone else moved the draft: decide again
        if (!(err instanceof StoreUnavailableError)) throw err;
        this.deps.logger.error({ err, draftId: draft.id }, 'cannot save the incident draft or ticket');
        // The card again with everything typed, against the stored revision so the button retries.
        const shown = { ...next, rev: draft.rev, step: next.step === 'done' || next.step === 'solved' ? draft.step : next.step };
        return this.view(user, shown, ctx, { ...origin, saveFailed: true, notice: UNAVAILABLE, noticeColor: 'Attention' });
      }
    }
    throw new Error(`incident draft ${action.data.draftId}: too many concurrent changes`);
  }

  /** Submit from the contract card: the plan's incident, then the ticket; a refusal keeps everything. */
  private async submitCard(
    user: UserContext,
    draft: IncidentDraft,
    eTag: string,
    origin: IncidentOrigin,
    ctx: IncidentFlowContext,
  ): Promise<View> {
    const result = await this.submit(user, draft, eTag, origin, ctx);
    if ('ticket' in result)
      return this.view(user, { ...draft, step: 'done', ticketId: result.ticket.id }, ctx, {
        ...origin,
        ticket: result.ticket,
        ...(result.notice ? { notice: result.notice, noticeColor: 'Good' as const } : {}),
      });
    const refused: IncidentDraft = { ...draft, step: 'contract', errors: { contractRef: result.refused } };
    await this.deps.store.write([{ op: 'put', collection: COLLECTIONS.drafts, id: draft.id, value: refused, ifMatch: eTag }]);
    const again = await this.context(user, refused);
    return this.view(user, refused, 'ctx' in again ? again.ctx : ctx, origin);
  }

  /**
   * Takes one incident from the plan (idempotent by draft id), then creates the ticket, moves the
   * draft to done, takes the next number and writes the desk's work in one atomic write. The
   * draft's eTag makes a double click or a replay lose (ConflictError), never create twice.
   */
  private async submit(
    user: UserContext,
    draft: IncidentDraft,
    eTag: string,
    origin: IncidentOrigin,
    ctx: IncidentFlowContext,
  ): Promise<{ ticket: Ticket; notice?: string } | { refused: string }> {
    const { store, directory, clock, plans } = this.deps;
    const contract = ctx.contracts.find((c) => c.ref === draft.contractRef);
    if (!contract || !draft.orgId || !draft.projectId) return { refused: 'Choose the support plan to use.' };
    const consumed = await plans.consumeIncident(user, draft.orgId, contract.ref, draft.id, draft.projectId);
    if (!consumed.ok) {
      if (consumed.error.code === 'store.unavailable') throw new StoreUnavailableError(consumed.error.message);
      return { refused: consumed.error.message };
    }
    const { ticket, written } = await writeNewTicket(
      store,
      (seq) => buildIncidentTicket(draft, ctx, directory, contract, seq, clock.now(), origin),
      (t) => [
        { op: 'put', collection: COLLECTIONS.drafts, id: draft.id, value: { ...draft, step: 'done', ticketId: t.id }, ifMatch: eTag },
        ...(this.deps.newTicket?.ops(t) ?? []),
      ],
    );
    this.deps.newTicket?.created(ticket, written);
    this.deps.logger.info({ ticketId: ticket.id, projectId: ticket.projectId, severity: ticket.severity }, 'incident created');
    const left = consumed.value.left;
    const notice =
      consumed.value.limited && left !== undefined
        ? `One incident was used from ${contract.name}: ${left} left.`
        : undefined;
    return { ticket, ...(notice ? { notice } : {}) };
  }

  /** "This solved my problem": the draft closes and the entry's counter goes up, in one write. */
  private async solve(user: UserContext, draft: IncidentDraft, eTag: string, issueId: string, ctx: IncidentFlowContext): Promise<View> {
    const { store, clock } = this.deps;
    for (let attempt = 0; ; attempt++) {
      const counter = await store.get<SolvedCounter>(INCIDENT_COLLECTIONS.solved, issueId);
      const value: SolvedCounter = {
        issueId,
        kbNumber: draft.solvedBy?.kbNumber ?? '',
        count: (counter?.value.count ?? 0) + 1,
        updatedAt: clock.now().toISOString(),
      };
      try {
        await store.write([
          { op: 'put', collection: COLLECTIONS.drafts, id: draft.id, value: draft, ifMatch: eTag },
          { op: 'put', collection: INCIDENT_COLLECTIONS.solved, id: issueId, value, ifMatch: counter?.eTag ?? 'absent' },
        ]);
        this.deps.logger.info({ draftId: draft.id, issueId, count: value.count }, 'incident solved by a known issue');
        return this.view(user, draft, ctx, { solvedCount: value.count });
      } catch (err) {
        // Someone else counted the same entry meanwhile: count again. A stale draft goes up.
        const counted = err instanceof ConflictError && err.collection === INCIDENT_COLLECTIONS.solved;
        if (!counted || attempt >= MAX_CONFLICT_RETRIES) throw err;
      }
    }
  }

  /** "Add a Software Assurance plan" on the contract card; the new plan is chosen when usable. */
  private async addSoftwareAssurance(
    user: UserContext,
    draft: IncidentDraft,
    effect: { subscriptionNumber: string; contactEmail: string },
  ): Promise<IncidentViewExtras> {
    if (!draft.orgId) return {};
    const added = await this.deps.plans.addSoftwareAssurance(user, draft.orgId, effect.subscriptionNumber, effect.contactEmail);
    if (!added.ok) {
      if (added.error.code === 'store.unavailable') throw new StoreUnavailableError(added.error.message);
      draft.errors = { ...draft.errors, [added.error.field ?? 'subscriptionNumber']: added.error.message };
      return {};
    }
    const ref = `sa:${added.value.subscriptionNumber}`;
    const usable = draft.projectId ? await this.contracts(user, draft.projectId) : [];
    draft.sa = { subscriptionNumber: '', contactEmail: '' };
    if (usable.some((c) => c.ref === ref)) {
      draft.contractRef = ref;
      return { notice: `Software Assurance plan ${added.value.subscriptionNumber} is added and chosen for this incident.`, noticeColor: 'Good' };
    }
    return {
      notice: `Software Assurance plan ${added.value.subscriptionNumber} is added to your support plans, but it can't be used for this project: Software Assurance covers on-premises products.`,
      noticeColor: 'Warning',
    };
  }

  // ---- files sent in personal chat -------------------------------------------------------------

  /**
   * Files sent as ordinary messages: each is checked (type, size, count, content) and the accepted
   * ones are stored with the user's draft that is at the screenshots step or later. A draft started
   * in a group chat or channel takes files sent in personal chat too (Teams gives bots files there only).
   */
  async addFiles(
    user: UserContext,
    conversation: ConversationContext,
    files: IncomingFile[],
    fetchFile: FileFetcher,
    origin: IncidentOrigin = {},
  ): Promise<View> {
    const { store } = this.deps;
    if (conversation.kind !== 'personal')
      return messageView(
        'Send files in personal chat',
        `Teams gives me files only in a personal chat: [open a personal chat with me](${personalChatUrl(origin.botId)}) and send them there; they are added to your incident draft.`,
      );
    let drafts;
    try {
      drafts = (await store.find<IncidentDraft>(COLLECTIONS.drafts, 'incidentFiles', user.aadObjectId))
        .map((d) => d.value)
        .filter((d) => d.tenantId === user.tenantId && ATTACHMENT_STEPS.includes(d.step));
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      return messageView('Files not added', UNAVAILABLE);
    }
    // This conversation's draft first, else the one most recently worked on (started in a channel).
    const target = drafts.sort(
      (a, b) => Number(b.conversation.id === conversation.id) - Number(a.conversation.id === conversation.id) || b.updatedAt.localeCompare(a.updatedAt),
    )[0];
    if (!target)
      return messageView(
        'No incident is waiting for files',
        'Files are added to an incident at its Screenshots step: type “submit incident”, describe the issue, and send your screenshots or logs when asked.',
      );
    const outcomes: FileOutcome[] = [];
    let latest = target;
    for (const [i, file] of files.entries()) {
      // A message with dozens of files gets the rest refused without any work.
      const r =
        i < MAX_FILES_PER_MESSAGE
          ? await this.addFile(user, target.id, file, fetchFile)
          : { outcome: { name: displayName(file.name, 'file'), accepted: false, text: `too many files: an incident takes at most ${MAX_ATTACHMENTS}.` } };
      outcomes.push(r.outcome);
      if ('draft' in r && r.draft) latest = r.draft;
    }
    return filesView(latest, outcomes);
  }

  private async addFile(
    user: UserContext,
    draftId: string,
    file: IncomingFile,
    fetchFile: FileFetcher,
  ): Promise<{ outcome: FileOutcome; draft?: IncidentDraft }> {
    const { store, files, clock } = this.deps;
    const ext = extensionOf(file.name, file.contentType);
    const name = displayName(file.name, `pasted image${ext ? `.${ext}` : ''}`);
    const refuse = (text: string, draft?: IncidentDraft) => ({ outcome: { name, accepted: false, text }, ...(draft ? { draft } : {}) });
    const type = declaredType(file.name, file.contentType);
    if (!type) return refuse(`${ext ? `.${ext} files` : 'this kind of file'} can't be attached. Send ${ALLOWED_TYPES_TEXT}.`);
    const before = await store.get<IncidentDraft>(COLLECTIONS.drafts, draftId);
    if (!before || !ATTACHMENT_STEPS.includes(before.value.step)) return refuse('the incident is no longer open for files.');
    if (before.value.attachments.length >= MAX_ATTACHMENTS)
      return refuse(`too many files: an incident takes at most ${MAX_ATTACHMENTS}, and this one has ${MAX_ATTACHMENTS}.`, before.value);

    const download = await fetchFile(file, MAX_ATTACHMENT_BYTES);
    if (!download.ok) {
      if (download.reason === 'tooLarge') return refuse(`too large: at most ${formatSize(MAX_ATTACHMENT_BYTES)} a file.`, before.value);
      this.deps.logger.warn({ draftId, detail: download.detail }, 'attachment download failed');
      return refuse("couldn't be downloaded from Teams. Send it again.", before.value);
    }
    const bytes = download.bytes;
    if (bytes.length === 0) return refuse('the file is empty.', before.value);
    if (!type.sniff(bytes.subarray(0, SNIFF_BYTES)))
      return refuse(`its content isn't a ${type.label}, whatever its name says.`, before.value);

    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const attachmentId = `${draftId}:${sha256.slice(0, 16)}`;
    const fileName = `${sha256.slice(0, 16)}.${type.extensions.includes(ext) ? ext : type.extensions[0]}`;
    if (before.value.attachments.some((a) => a.id === attachmentId)) return refuse('already attached.', before.value);
    let relative: string;
    try {
      relative = await files.save(draftId, fileName, bytes);
    } catch (err) {
      this.deps.logger.error({ err, draftId }, 'cannot write an attachment');
      return refuse("couldn't be saved just now. Send it again in a moment.", before.value);
    }
    const meta: DraftAttachment = { id: attachmentId, name, contentType: type.contentType, size: bytes.length };
    const doc: AttachmentDoc = {
      ...meta,
      draftId,
      sha256,
      path: relative,
      receivedAt: clock.now().toISOString(),
      by: user.aadObjectId,
      tenantId: user.tenantId,
    };
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      // The draft's eTag keeps the count right when several messages with files arrive at once.
      const stored = attempt === 0 ? before : await store.get<IncidentDraft>(COLLECTIONS.drafts, draftId);
      if (!stored || !ATTACHMENT_STEPS.includes(stored.value.step)) return refuse('the incident is no longer open for files.');
      if (stored.value.attachments.some((a) => a.id === attachmentId)) return refuse('already attached.', stored.value);
      if (stored.value.attachments.length >= MAX_ATTACHMENTS)
        return refuse(`too many files: an incident takes at most ${MAX_ATTACHMENTS}.`, stored.value);
      // Not a card action: `rev` stays, so the card on screen keeps working.
      const next: IncidentDraft = { ...stored.value, attachments: [...stored.value.attachments, meta], updatedAt: doc.receivedAt };
      try {
        await store.write([
          { op: 'put', collection: COLLECTIONS.drafts, id: draftId, value: next, ifMatch: stored.eTag },
          { op: 'put', collection: INCIDENT_COLLECTIONS.attachments, id: attachmentId, value: doc, ifMatch: 'absent' },
        ]);
        this.deps.logger.info({ draftId, attachmentId, size: bytes.length, type: type.contentType }, 'attachment added');
        return { outcome: { name, accepted: true, text: `added (${formatSize(bytes.length)}).` }, draft: next };
      } catch (err) {
        if (err instanceof ConflictError && err.collection === COLLECTIONS.drafts) continue;
        if (err instanceof ConflictError) return refuse('already attached.', stored.value);
        if (err instanceof StoreUnavailableError) return refuse("couldn't be saved just now. Send it again in a moment.", stored.value);
        throw err;
      }
    }
    return refuse('many files arrived at once: send this one again.');
  }

  // ---- the dialog page ------------------------------------------------------------------------

  /** What the dialog's form offers: the current organisation's projects with their plans, categories, severities. */
  async formOptions(user: UserContext): Promise<FormOptionsResult> {
    const found = await this.context(user);
    if ('refusal' in found) return { ok: false, message: String(found.refusal.data.text ?? 'You cannot submit incidents here.') };
    const { ctx } = found;
    const projects = await Promise.all(
      ctx.projects.map(async (p) => {
        const contracts = await this.contracts(user, p.id);
        return {
          id: p.id,
          name: p.name,
          environments: p.environments,
          contracts: contracts.map((c) => ({
            ref: c.ref,
            title: contractTitle(c),
            incidents: c.incidents.limited ? `${c.incidents.left} of ${c.incidents.total} left` : 'Unlimited',
            limited: c.incidents.limited,
          })),
          noContractsHelp: contracts.some(hasIncidentsLeft) ? '' : (await this.noContractsHelp(user, p.id)).join(' '),
        };
      }),
    );
    const org = ctx.projects[0]!;
    return {
      ok: true,
      options: {
        organization: { id: org.orgId, name: org.orgName },
        projects,
        categories: ctx.categories.map((c) => ({ id: c.id, name: c.name, areas: c.areas.map((a) => ({ id: a.id, name: a.name })) })),
        severities: SEVERITIES.map((s) => ({ id: s.id, title: s.title, meaning: s.meaning })),
        contact: { name: user.name, email: user.email ?? '', phone: '' },
      },
    };
  }

  /**
   * The dialog's Submit: the same checks and the same creation as the card flow. The idempotency
   * key (one per opened form) makes a retried or double submission return the same incident.
   * Errors are keyed by IncidentForm field paths (`contact.email`), or `form` for the whole.
   */
  async submitForm(
    user: UserContext,
    conversation: ConversationContext,
    form: unknown,
    idempotencyKey: string,
  ): Promise<SubmitFormResult> {
    const parsed = IncidentForm.safeParse(form);
    if (!parsed.success) {
      const errors: Record<string, string> = {};
      for (const issue of parsed.error.issues) errors[issue.path.join('.') || 'form'] ??= issue.message;
      return { ok: false, errors };
    }
    const f = parsed.data;
    const { store } = this.deps;
    const id = formDraftId(user, idempotencyKey);
    try {
      for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
        const existing = await store.get<IncidentDraft>(COLLECTIONS.drafts, id);
        if (existing && existing.value.reporter.aadObjectId !== user.aadObjectId)
          return { ok: false, errors: { form: 'That form belongs to someone else: open a new one.' } };
        if (existing?.value.step === 'done' && existing.value.ticketId) return this.formDone(user, existing.value);
        const found = await this.context(user);
        if ('refusal' in found) return { ok: false, errors: { form: String(found.refusal.data.text) } };
        const start = startIncidentDraft(id, user, conversation, found.ctx, this.timeZoneOf(user, found.ctx), { projectId: f.projectId });
        const draft: IncidentDraft = {
          ...start,
          step: 'contract',
          projectId: f.projectId, // kept when unknown, so that the project check names it
          category: f.category,
          area: f.area,
          inEnvironment: f.environmentId ? 'yes' : 'no',
          environmentId: f.environmentId ?? '',
          title: f.title,
          details: f.details,
          errorMessage: f.errorMessage ?? '',
          contact: f.contact,
          contractRef: f.contractRef,
          severity: f.severity,
          confirmCritical: f.confirmCritical ? 'true' : 'false',
          confirm24x7: f.confirm24x7 ? 'true' : 'false',
        };
        const ctx = await this.withContracts(user, found.ctx, draft);
        const errors = validateAll(draft, ctx);
        if (errors.projectId) delete errors.contractRef; // no project, no plans to choose from
        if (Object.keys(errors).length > 0)
          return { ok: false, errors: Object.fromEntries(Object.entries(errors).map(([k, v]) => [FORM_FIELD[k] ?? k, v])) };
        const ready = finalizeIncident(draft);
        let eTag: string;
        try {
          [eTag] = (await store.write([
            { op: 'put', collection: COLLECTIONS.drafts, id, value: ready, ifMatch: existing?.eTag ?? 'absent' },
          ])) as [string];
        } catch (err) {
          if (err instanceof ConflictError) continue; // the same form submitted twice at once
          throw err;
        }
        try {
          const result = await this.submit(user, ready, eTag, { here: conversation.kind }, ctx);
          if ('refused' in result) return { ok: false, errors: { contractRef: result.refused } };
          return { ok: true, ticketId: result.ticket.id, view: this.doneView(ready, ctx, result.ticket, result.notice) };
        } catch (err) {
          if (err instanceof ConflictError) continue; // lost to the other submission: return its ticket
          throw err;
        }
      }
      return { ok: false, errors: { form: 'This form is being submitted from elsewhere right now. Try again in a moment.' } };
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      this.deps.logger.error({ err }, 'cannot submit an incident form');
      return { ok: false, errors: { form: UNAVAILABLE } };
    }
  }

  private async formDone(user: UserContext, draft: IncidentDraft): Promise<SubmitFormResult> {
    const view = await this.viewOf(user, draft, {});
    return { ok: true, ticketId: draft.ticketId!, view };
  }

  // ---- context and views ----------------------------------------------------------------------

  /**
   * The projects the user may file for: those of their current organisation (LCS: the name in the
   * corner) where they are a member, or of the draft's organisation while they still belong to it.
   */
  private async context(
    user: UserContext,
    draft?: IncidentDraft,
  ): Promise<{ ctx: IncidentFlowContext } | { refusal: View }> {
    const { directory, plans, clock, search } = this.deps;
    const current = await plans.currentOrganization(user);
    if (!current.ok) return { refusal: messageView("You can't submit an incident here", current.error.message) };
    const orgIds = current.value.choices.map((o) => o.id);
    const orgId = draft?.orgId && orgIds.includes(draft.orgId) ? draft.orgId : current.value.current.id;
    const org = directory.organizations.find((o) => o.id === orgId)!;
    const me = user.aadObjectId.toLowerCase();
    const projects: ProjectOption[] = org.projects
      .filter((p) => p.members.some((m) => m.aadObjectId === me))
      .map((p) => ({
        id: p.id,
        name: p.name,
        orgId: org.id,
        orgName: org.name,
        environments: p.environments.map((e) => ({ id: e.id, name: e.name, type: e.type })),
      }));
    const base: IncidentFlowContext = {
      projects,
      categories: directory.categories,
      contracts: [],
      knownIssue: (id) => {
        const e = search.byId(id);
        return e && { id: e.id, kbNumber: e.kbNumber, title: e.title, link: e.link };
      },
      now: clock.now(),
      ...(user.email ? { profileEmail: user.email } : {}),
    };
    return { ctx: draft ? await this.withContracts(user, base, draft) : base };
  }

  /** The usable plans for the draft's project, needed from the contract step on. */
  private async withContracts(user: UserContext, ctx: IncidentFlowContext, draft: IncidentDraft): Promise<IncidentFlowContext> {
    if (draft.step !== 'contract' || !draft.projectId || !ctx.projects.some((p) => p.id === draft.projectId)) return ctx;
    return { ...ctx, contracts: await this.contracts(user, draft.projectId) };
  }

  private async contracts(user: UserContext, projectId: string): Promise<UsablePlan[]> {
    // Limited plans with none left are listed too: choosing one is refused with the reason.
    const r = await this.deps.plans.usableContracts(user, projectId, { includeExhausted: true });
    if (!r.ok && r.error.code === 'store.unavailable') throw new StoreUnavailableError(r.error.message);
    return r.ok ? r.value : [];
  }

  /** LCS's guidance for each group with nothing usable: what ties such a plan to the project. */
  private async noContractsHelp(user: UserContext, projectId: string): Promise<string[]> {
    const r = await this.deps.plans.supportPlans(user, projectId);
    if (!r.ok) return [r.error.message];
    return r.value.report.groups.filter((g) => g.missing && g.guidance).map((g) => `${g.title}: ${g.guidance}`);
  }

  private async view(user: UserContext, draft: IncidentDraft, ctx: IncidentFlowContext, extras: IncidentViewExtras & IncidentOrigin): Promise<View> {
    const category = categoryOf(draft, ctx);
    const area = areaOf(draft, ctx);
    const suggestions =
      category && showsSuggestions(draft.step)
      ? this.deps.search.suggest({
          category: category.name,
          ...(area ? { area: area.name } : {}),
          title: draft.title,
          details: draft.details,
          errorMessage: draft.errorMessage,
        })
      : [];
    const noContractsHelp =
      draft.step === 'contract' && !ctx.contracts.some(hasIncidentsLeft) && draft.projectId
        ? await this.noContractsHelp(user, draft.projectId)
        : [];
    return incidentView(draft, ctx, this.deps.directory, {
      ...extras,
      suggestions,
      noContractsHelp,
      personalChatUrl: personalChatUrl(extras.botId),
      ...(extras.here ? { here: extras.here } : {}),
    });
  }

  /** Where a draft stands (a replay, a stale card, a resumed form): its ticket or its counter too. */
  private async viewOf(user: UserContext, draft: IncidentDraft, origin: IncidentOrigin & IncidentViewExtras): Promise<View> {
    const found = await this.context(user, draft);
    if ('refusal' in found) return found.refusal;
    if (draft.step === 'done' && draft.ticketId) {
      const t = await this.deps.store.get<Ticket>(COLLECTIONS.tickets, draft.ticketId);
      return this.view(user, draft, found.ctx, { ...origin, ...(t ? { ticket: t.value } : {}) });
    }
    if (draft.step === 'solved' && draft.solvedBy) {
      const c = await this.deps.store.get<SolvedCounter>(INCIDENT_COLLECTIONS.solved, draft.solvedBy.issueId);
      return this.view(user, draft, found.ctx, { ...origin, solvedCount: c?.value.count ?? 1 });
    }
    return this.view(user, draft, found.ctx, origin);
  }

  private doneView(draft: IncidentDraft, ctx: IncidentFlowContext, ticket: Ticket, notice?: string): View {
    return incidentView({ ...draft, step: 'done', ticketId: ticket.id }, ctx, this.deps.directory, {
      ticket,
      ...(notice ? { notice } : {}),
    });
  }

  private timeZoneOf(user: UserContext, ctx: IncidentFlowContext): string {
    if (isTimeZone(user.timeZone)) return user.timeZone;
    const orgId = ctx.projects[0]?.orgId;
    return this.deps.directory.organizations.find((o) => o.id === orgId)?.timeZone ?? 'UTC';
  }

  private newId(): string {
    return this.deps.newId?.() ?? randomUUID();
  }
}

const hasIncidentsLeft = (c: UsablePlan) => !c.incidents.limited || c.incidents.left > 0;

export function draftKey(conversationId: string, aadObjectId: string): string {
  return `${conversationId}|${aadObjectId.toLowerCase()}`;
}

/** The dialog form's draft id: one per user and idempotency key. */
function formDraftId(user: UserContext, key: string): string {
  const digest = createHash('sha256').update(`${user.tenantId}|${user.aadObjectId.toLowerCase()}|${key}`).digest('hex');
  return `form-${digest.slice(0, 32)}`;
}

/** A deep link to the user's personal chat with the bot (Teams: users=28:<bot app id>). */
export function personalChatUrl(botId: string | undefined): string {
  if (!botId) return 'https://teams.microsoft.com/l/chat/0/0';
  const id = botId.startsWith('28:') ? botId : `28:${botId}`;
  return `https://teams.microsoft.com/l/chat/0/0?users=${encodeURIComponent(id)}`;
}

const NO_ENVIRONMENT = 'Not in a particular environment';

/** The incident ticket: response target by the plan and severity, counted in the org's business hours. */
export function buildIncidentTicket(
  draft: IncidentDraft,
  ctx: Pick<IncidentFlowContext, 'categories'>,
  directory: Directory,
  contract: UsablePlan,
  seq: number,
  now: Date,
  origin: IncidentOrigin,
): Ticket {
  const org = directory.organizations.find((o) => o.id === draft.orgId);
  const project = org?.projects.find((p) => p.id === draft.projectId);
  if (!org || !project) throw new Error(`draft ${draft.id} points at a missing project`);
  const environment = draft.inEnvironment === 'yes' ? project.environments.find((e) => e.id === draft.environmentId) : undefined;
  const category = categoryOf(draft, ctx);
  const area = areaOf(draft, ctx);
  const severity = draft.severity as Ticket['severity'];
  const plan = contract.slaPlan ?? project.supportPlan;
  const target = directory.sla.table[plan][severity];
  const queues = directory.desk.queues;
  const where = [category?.name, area?.name].filter(Boolean).join(' / ');
  return {
    id: ticketNumber('incident', seq),
    kind: 'incident',
    severity,
    // The first queue takes production outages; incidents go to the next one when there is one.
    queue: (queues[1] ?? queues[0]!).id,
    orgId: org.id,
    projectId: project.id,
    projectName: project.name,
    environmentId: environment?.id ?? '',
    environmentName: environment?.name ?? NO_ENVIRONMENT,
    title: draft.title,
    details: draft.details,
    ...(category ? { category: { id: category.id, name: category.name } } : {}),
    ...(area ? { area: { id: area.id, name: area.name } } : {}),
    ...(draft.errorMessage ? { errorMessage: draft.errorMessage } : {}),
    attachments: draft.attachments,
    contract: { ref: contract.ref, name: contractName(contract) },
    ...newTicketFields(draft, {
      now,
      sla: { kind: 'response', target, due: dueAt(now, target, org.timeZone, org.businessHours) },
      warningLeadMinutes: directory.sla.warningLeadMinutes,
      ...(origin.activityId ? { activityId: origin.activityId } : {}),
      submitted: `Incident submitted (severity ${severity}${where ? `, ${where}` : ''}).`,
    }),
  };
}


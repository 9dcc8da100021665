import type { TaskModuleRequest, TaskModuleResponse, TurnContext } from 'botbuilder';
import { z } from 'zod';
import type { ConversationContext, UserContext } from '../src/domain/user.js';
import type { View } from '../src/flows/views.js';
import type { Logger } from '../src/logger.js';
import type { DialogSessions } from '../src/web/dialogSessions.js';
import { cardInputValues } from '../src/web/draftPrefill.js';
import {
  type CountSolved,
  IdempotencyKey,
  type IncidentFormPort,
  KbNumberText,
  solvedMessage,
} from '../src/web/incidentRoutes.js';
import { FILES_DIALOG_PATH, isTheme, type TicketFiles } from '../src/web/ticketFiles.js';
import { renderCard } from './cards.js';

// The incident form as a Teams dialog (task module). task/fetch opens web/incidentDialog.html on
// the bot's public host with a fresh dialog session (the page's credential for this user's form
// choices); task/submit receives what the page sent with dialog.url.submit and runs the same
// IncidentService.submitForm as the card flow: a message on success, or the page re-opened with
// the values and the errors (stored in a new session) when something must be fixed.

export const DIALOG_TITLE = 'Submit an incident';
export const DIALOG_PATH = '/dialogs/incident';

/**
 * What opens the dialog: an Action.Submit with `msteams: { type: 'task/fetch' }` and this data;
 * from an incident card, the draft's id, so the form starts with what the cards already hold.
 */
const FetchData = z.object({ dialog: z.literal('incident'), draftId: z.string().min(1).max(64).optional() }).loose();

const SubmitData = z.discriminatedUnion('action', [
  z.object({
    dialog: z.literal('incident'),
    action: z.literal('submit'),
    form: z.record(z.string(), z.unknown()),
    idempotencyKey: IdempotencyKey,
  }),
  z.object({
    dialog: z.literal('incident'),
    action: z.literal('solved'),
    kbNumber: KbNumberText,
    idempotencyKey: IdempotencyKey,
  }),
]);

export interface IncidentDialogsDeps {
  incidents: IncidentFormPort;
  countSolved: CountSolved;
  sessions: DialogSessions;
  /** The values of the user's incident card draft, to prefill the form (src/web/draftPrefill.ts). */
  draftValues?: (user: UserContext, draftId: string) => Promise<Record<string, unknown> | undefined>;
  /** The bot's public base URL (PUBLIC_BASE_URL; in local mode the bot's own address). */
  publicBaseUrl: () => string | undefined;
  logger: Logger;
}

/** The button that opens the dialog: the view of the “incident form” command. */
export function incidentFormOpenView(): View {
  return {
    card: 'incidentFormOpen',
    data: {
      title: DIALOG_TITLE,
      text:
        'Fill the whole incident in one form. Possible solutions from Issue search appear as you ' +
        'describe the issue.',
    },
  };
}

export class IncidentDialogs {
  private readonly log: Logger;

  constructor(private readonly deps: IncidentDialogsDeps) {
    this.log = deps.logger.child({ module: 'bot.dialogs' });
  }

  /** task/fetch: the dialog's URL, or a message saying why it cannot open. */
  async fetch(
    user: UserContext | undefined,
    conversation: ConversationContext,
    request: TaskModuleRequest,
  ): Promise<TaskModuleResponse> {
    const data = FetchData.safeParse(request.data ?? {});
    if (!data.success) {
      this.log.warn('task/fetch for an unknown dialog');
      return message('That button opens nothing I know. Type “incident form” to open the incident form.');
    }
    if (!user) return message("Teams didn't tell me who you are, so I can't open the incident form.");
    const base = this.deps.publicBaseUrl();
    if (!base) {
      this.log.error('PUBLIC_BASE_URL is not set: the incident dialog cannot open');
      return message('The incident form is not set up on this server yet. Type “submit incident” to use the cards.');
    }
    const draftId = data.data.draftId;
    const saved = draftId ? await this.deps.draftValues?.(user, draftId) : undefined;
    const values = saved && { ...saved, ...cardInputValues(data.data) };
    return this.open(base, await this.deps.sessions.create(user, conversation, values ? { values } : {}));
  }

  /** task/submit: the form from the page (or “This solved my problem”). */
  async submit(
    context: TurnContext,
    user: UserContext | undefined,
    conversation: ConversationContext,
    request: TaskModuleRequest,
  ): Promise<TaskModuleResponse> {
    const parsed = SubmitData.safeParse(request.data ?? {});
    if (!parsed.success) {
      this.log.warn({ issues: parsed.error.issues.map((i) => i.path.join('.')) }, 'unreadable task/submit');
      return message('The form sent something I could not read, so nothing was submitted. Open the form again.');
    }
    if (!user) return message("Teams didn't tell me who you are, so nothing was submitted.");
    const data = parsed.data;
    if (data.action === 'solved') {
      await this.deps.countSolved(user, data.kbNumber, data.idempotencyKey);
      return message(solvedMessage(data.kbNumber));
    }
    const result = await this.deps.incidents.submitForm(user, conversation, data.form, data.idempotencyKey);
    if (result.ok) {
      // The confirmation stays in the conversation (the dialog's message disappears when closed);
      // the incident's updates arrive there too.
      await context.sendActivity({ attachments: [renderCard(result.view)] });
      return message(`Incident ${result.ticketId} submitted`);
    }
    const base = this.deps.publicBaseUrl();
    if (!base) return message(Object.values(result.errors).join(' '));
    const session = await this.deps.sessions.create(user, conversation, {
      values: data.form,
      errors: result.errors,
      idempotencyKey: data.idempotencyKey,
    });
    return this.open(base, session);
  }

  private open(base: string, session: string): TaskModuleResponse {
    return openDialog(base, DIALOG_PATH, session, DIALOG_TITLE);
  }
}

/** What the desk and status cards' "Attachments" button sends (src/desk/deskViews.ts filesButton). */
const FilesFetchData = z.object({ dialog: z.literal('attachments'), ticketId: z.string().min(1).max(32) }).loose();

/** Whether a task/fetch is for the attachments dialog rather than the incident form. */
export function isFilesFetch(request: TaskModuleRequest): boolean {
  return (request.data as { dialog?: unknown } | undefined)?.dialog === 'attachments';
}

/**
 * A ticket's attachments as a Teams dialog: task/fetch from the desk card's button checks that the
 * user may see the ticket and opens src/web/ticketFiles.ts's page with a session for it.
 */
export class TicketFilesDialog {
  private readonly log: Logger;

  constructor(
    private readonly deps: {
      files: Pick<TicketFiles, 'open'>;
      publicBaseUrl: () => string | undefined;
      logger: Logger;
    },
  ) {
    this.log = deps.logger.child({ module: 'bot.ticketFiles' });
  }

  async fetch(user: UserContext | undefined, conversation: ConversationContext, request: TaskModuleRequest): Promise<TaskModuleResponse> {
    const data = FilesFetchData.safeParse(request.data ?? {});
    if (!data.success) return message('That button names no ticket. Type “status <ticket>” to see one.');
    if (!user) return message("Teams didn't tell me who you are, so I can't show the attachments.");
    const base = this.deps.publicBaseUrl();
    if (!base) {
      this.log.error('PUBLIC_BASE_URL is not set: the attachments dialog cannot open');
      return message('Attachments cannot be shown on this server yet: PUBLIC_BASE_URL is not set.');
    }
    const opened = await this.deps.files.open(user, conversation, data.data.ticketId);
    if (!opened.ok) return message(opened.message);
    const count = opened.ticket.attachments?.length ?? 0;
    // The page has no script to ask Teams for its theme: the request says it (context.theme).
    const theme = (request.context as { theme?: unknown } | undefined)?.theme;
    const path = `${FILES_DIALOG_PATH}${typeof theme === 'string' && isTheme(theme) ? `?theme=${theme}&` : '?'}`;
    return openDialog(base, path, opened.session, `${opened.ticket.id}: ${count === 1 ? '1 attachment' : `${count} attachments`}`);
  }
}

/** A dialog on the bot's public host: the page at `path` (ending in `?` or `&` if it has a query), its session in the URL. */
function openDialog(base: string, path: string, session: string, title: string): TaskModuleResponse {
  const query = /[?&]$/.test(path) ? '' : '?';
  const url = `${base.replace(/\/+$/, '')}${path}${query}session=${encodeURIComponent(session)}`;
  return { task: { type: 'continue', value: { url, fallbackUrl: url, title, height: 'large', width: 'large' } } };
}

function message(text: string): TaskModuleResponse {
  return { task: { type: 'message', value: text } };
}

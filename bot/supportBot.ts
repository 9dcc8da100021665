import {
  type AdaptiveCardInvokeResponse,
  type Activity,
  ActivityTypes,
  type InvokeResponse,
  type MessagingExtensionQuery,
  type MessagingExtensionResponse,
  type TaskModuleRequest,
  type TaskModuleResponse,
  MessageFactory,
  TeamsActivityHandler,
  TeamsInfo,
  TurnContext,
} from 'botbuilder';
import { z } from 'zod';
import type { ConversationContext, UserContext } from '../src/domain/user.js';
import { OutageAction } from '../src/flows/outageFlow.js';
import { helpView, messageView, type View } from '../src/flows/views.js';
import { recognize } from '../src/intents.js';
import type { Logger } from '../src/logger.js';
import type { ConversationService } from '../src/services/conversationService.js';
import type { OutageService } from '../src/services/outageService.js';
import type { IncidentOrigin, IncidentService } from '../src/services/incidentService.js';
import { IncidentAction } from '../src/flows/incidentFlow.js';
import { DeskAction } from '../src/desk/deskActions.js';
import type { DeskService } from '../src/desk/deskService.js';
import type { PlanService } from '../src/plans/planService.js';
import { PlansAction, PlanViews } from '../src/plans/planViews.js';
import { IncidentsAction, type IncidentList } from '../src/incidents/incidentList.js';
import type { IssueSearch } from '../src/search/issueSearch.js';
import { searchView } from '../src/search/searchViews.js';
import { fixedCard, renderCard, renderCardJson } from './cards.js';
import { type IncidentDialogs, incidentFormOpenView, isFilesFetch, type TicketFilesDialog } from './dialogs.js';
import { isInsertedCard, searchKnownIssues } from './messageExtension.js';
import { fileFetcher, incomingFiles } from './incomingFiles.js';
import type { ConnectorClient } from './adapter.js';
import { type MemberProfile, pipelineMember } from './connectorSender.js';
import { memberScope, ProfileLookups } from './profiles.js';

export interface BotDeps {
  outage: OutageService;
  desk: DeskService;
  conversations: ConversationService;
  plans: PlanService;
  search: IssueSearch;
  incidents: IncidentList;
  /** Submit an incident: the card flow and files sent in personal chat. */
  newIncident: IncidentService;
  /** The incident form as a Teams dialog (task/fetch, task/submit). */
  dialogs: IncidentDialogs;
  /** A ticket's attachments as a Teams dialog (the desk card's "Attachments" button). */
  ticketFiles?: TicketFilesDialog;
  logger: Logger;
  /**
   * How long a turn waits for the user's Teams profile (which only prefills the contact) before
   * going on without it: default PROFILE_WAIT_MS.
   */
  profileWaitMs?: number;
}

/**
 * The Teams profile only prefills the contact's e-mail, which the user can type. A lookup that
 * Teams leaves unanswered must not hold a turn that waits for it (the outage report's contact
 * card, "submit incident", the incident form) past this: without a limit the turn waited as long
 * as the connection stayed open. "report outage" itself does not wait (bot/profiles.ts).
 */
export const PROFILE_WAIT_MS = 2_000;

const CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

// The answer to "help" is the same for everyone: bound once, not on every turn.
const helpCard = fixedCard(helpView());

interface ActionRoute {
  prefix: string;
  schema: z.ZodType;
  run(user: UserContext, action: unknown, context: TurnContext): Promise<View>;
  /** The way forward when the card's data cannot be read. */
  retry: string;
}

/** The Teams layer: turns activities into calls on src/ services and views into cards. */
export class SupportBot extends TeamsActivityHandler {
  private readonly log: Logger;
  private readonly plans: PlanViews;
  private readonly profiles: ProfileLookups;

  constructor(private readonly deps: BotDeps) {
    super();
    this.log = deps.logger.child({ module: 'bot' });
    this.plans = new PlanViews(deps.plans);
    this.profiles = new ProfileLookups({ lookup: memberOf, waitMs: deps.profileWaitMs ?? PROFILE_WAIT_MS, log: this.log });
    this.onConversationUpdate(async (context, next) => {
      await this.rememberConversation(context);
      await next();
    });
  }

  /**
   * Messages and card actions (Action.Execute), nearly every turn the bot gets, go straight to
   * their handlers here. Through TeamsActivityHandler each passed four to six nested dispatch steps
   * (the Turn, Message or invoke, and Dialog handler chains), compiled by botbuilder to generator
   * functions: 4-5 % of the main thread's time under the acknowledgement load, and a good part of
   * the garbage its turns left. Every other activity goes through TeamsActivityHandler as before.
   */
  override async run(context: TurnContext): Promise<void> {
    const { activity } = context;
    if (activity?.type === ActivityTypes.Message) return this.onMessageTurn(context);
    if (activity?.type === ActivityTypes.Invoke && activity.name === 'adaptiveCard/action') {
      await context.sendActivity({ type: ActivityTypes.InvokeResponse, value: await this.cardActionResponse(context) });
      return;
    }
    return super.run(context);
  }

  /**
   * An adaptiveCard/action invoke's answer, as ActivityHandler gave it: the card as the clicker
   * should now see it, or a 400 with an Adaptive Card error for an invoke without an Action.Execute
   * (ActivityHandler failed the turn when the value had no action at all).
   */
  private async cardActionResponse(context: TurnContext): Promise<InvokeResponse<AdaptiveCardInvokeResponse>> {
    const value: unknown = context.activity.value;
    if (!isRecord(value)) return cardInvokeError('BadRequest', 'Missing value property');
    const action = value.action;
    if (!isRecord(action) || action.type !== 'Action.Execute')
      return cardInvokeError('NotSupported', `The action '${String(isRecord(action) ? action.type : action)}' is not supported.`);
    const view = await this.handleAction(context, action);
    // Universal Actions: the card in the response replaces the card for the person who clicked.
    return { status: 200, body: { statusCode: 200, type: CARD_CONTENT_TYPE, value: renderCardJson(view) as never } };
  }

  /** A message: files for an incident draft, or a command. */
  private async onMessageTurn(context: TurnContext): Promise<void> {
    const { deps } = this;
    await this.rememberConversation(context);
    // Screenshots and logs for an incident draft arrive as ordinary messages with files.
    const files = incomingFiles(context.activity);
    if (files.length > 0) {
      const user = userOf(context);
      const view = user
        ? await deps.newIncident.addFiles(user, conversationOf(context.activity), files, fileFetcher(context, this.log), incidentOrigin(context))
        : messageView('Who are you?', "Teams didn't tell me who you are, so I can't add your files.");
      await context.sendActivity(MessageFactory.attachment(renderCard(view)));
      return;
    }
    const text = TurnContext.removeRecipientMention(context.activity) ?? context.activity.text;
    if (isInsertedCard(context.activity, text)) return; // shared with people, not a command
    const intent = recognize(text);
    if (intent.kind === 'help') {
      await context.sendActivity(MessageFactory.attachment(helpCard()));
      return;
    }
    let view: View;
    switch (intent.kind) {
      case 'newIncident': {
        // As for an outage: the profile prefills the contact card, asked for now, not waited for.
        const user = userOf(context);
        if (user) this.profiles.start(context);
        view = user
          ? await deps.newIncident.start(user, conversationOf(context.activity), incidentOrigin(context))
          : messageView('Who are you?', "Teams didn't tell me who you are, so I can't check your projects.");
        break;
      }
      case 'incidentForm':
        view = incidentFormOpenView();
        break;
      case 'outage': {
        // The profile only prefills the contact card, two cards later: asked for now, not waited for.
        const user = userOf(context);
        if (user) this.profiles.start(context);
        view = user
          ? await deps.outage.start(user, conversationOf(context.activity))
          : messageView('Who are you?', "Teams didn't tell me who you are, so I can't check your projects.");
        break;
      }
      case 'status':
      case 'myTickets': {
        const user = userOf(context);
        if (!user) view = messageView('Who are you?', "Teams didn't tell me who you are.");
        else view = intent.kind === 'status' ? await deps.desk.status(user, intent.ticketId) : await deps.desk.myTickets(user);
        break;
      }
      case 'myIncidents':
      case 'incidents': {
        const user = userOf(context);
        view = user
          ? await deps.incidents.list(user, intent.kind === 'myIncidents' ? 'mine' : 'project')
          : messageView('Who are you?', "Teams didn't tell me who you are, so I can't list your incidents.");
        break;
      }
      case 'search':
        view = searchView(deps.search, intent.query);
        break;
      case 'plans':
      case 'addContract':
      case 'addSoftwareAssurance':
      case 'organization': {
        const user = userOf(context);
        view = user
          ? await this.plans.onIntent(user, intent.kind)
          : messageView('Who are you?', "Teams didn't tell me who you are, so I can't show your support plans.");
        break;
      }
      case 'unknown':
        view = helpView(`I didn't understand “${intent.text}”.`);
        break;
    }
    await context.sendActivity(MessageFactory.attachment(renderCard(view)));
  }

  /**
   * Opens a dialog (Action.Submit with msteams task/fetch): a ticket's attachments, or the incident
   * form, whose contact the profile prefills.
   */
  protected override async handleTeamsTaskModuleFetch(context: TurnContext, request: TaskModuleRequest): Promise<TaskModuleResponse> {
    if (isFilesFetch(request) && this.deps.ticketFiles)
      return this.deps.ticketFiles.fetch(userOf(context), conversationOf(context.activity), request);
    return this.deps.dialogs.fetch(await this.userWithProfile(context), conversationOf(context.activity), request);
  }

  /** What the dialog page sent with dialog.url.submit. */
  protected override async handleTeamsTaskModuleSubmit(context: TurnContext, request: TaskModuleRequest): Promise<TaskModuleResponse> {
    return this.deps.dialogs.submit(context, userOf(context), conversationOf(context.activity), request);
  }

  /** The search message extension; it answers every request, a bad one with a message. */
  protected override async handleTeamsMessagingExtensionQuery(
    _context: TurnContext,
    query: MessagingExtensionQuery,
  ): Promise<MessagingExtensionResponse> {
    try {
      return searchKnownIssues(this.deps.search, query);
    } catch (err) {
      this.log.error({ err }, 'message extension query failed');
      return { composeExtension: { type: 'message', text: "Search isn't available just now. Try again in a moment." } };
    }
  }

  /** The acting user with the e-mail and name of the Teams profile, when Teams answers in time. */
  private async userWithProfile(context: TurnContext): Promise<UserContext | undefined> {
    const user = userOf(context);
    return user && withProfile(user, await this.profiles.get(context));
  }

  /**
   * Card actions by verb prefix (`<flow>.<step>`): each flow's closed set of actions is parsed with
   * its own zod union, and an unknown verb or bad data gets a clear card, never an error.
   */
  private readonly actionRoutes: ActionRoute[] = [
    {
      prefix: 'outage.',
      schema: OutageAction,
      run: async (user, action, context) => {
        const activityId = context.activity.replyToId;
        // The contact card (details -> contact, or the incident a situation not listed becomes) is
        // prefilled from the profile asked for at "report outage".
        const { verb } = action as OutageAction;
        const who = verb === 'outage.details' || verb === 'outage.notListed' ? withProfile(user, await this.profiles.get(context)) : user;
        return this.deps.outage.act(who, action as OutageAction, activityId ? { activityId } : {});
      },
      retry: 'type “report outage” to carry on where you left off',
    },
    {
      prefix: 'incident.',
      schema: IncidentAction,
      run: async (user, action, context) => {
        // Screenshots -> contact shows the contact card, prefilled from the profile asked for at the start.
        const who = (action as IncidentAction).verb === 'incident.screenshots' ? withProfile(user, await this.profiles.get(context)) : user;
        return this.deps.newIncident.act(who, action as IncidentAction, incidentOrigin(context));
      },
      retry: 'type “submit incident” to carry on where you left off',
    },
    { prefix: 'desk.', schema: DeskAction, run: (user, action) => this.deps.desk.act(user, action as DeskAction), retry: 'nothing was changed' },
    { prefix: 'plans.', schema: PlansAction, run: (user, action) => this.plans.act(user, action as PlansAction), retry: 'type “support plans” to start again' },
    {
      prefix: 'ticket.',
      schema: z.object({ verb: z.literal('ticket.view'), data: z.object({ ticketId: z.string().min(1).max(40) }) }),
      run: (user, action) => this.deps.desk.status(user, (action as { data: { ticketId: string } }).data.ticketId),
      retry: 'type “my tickets”',
    },
    {
      prefix: 'incidents.',
      schema: IncidentsAction,
      run: (user, action) => {
        const { scope, page } = (action as IncidentsAction).data;
        return this.deps.incidents.list(user, scope, page);
      },
      retry: 'type “my incidents”',
    },
  ];

  private async handleAction(context: TurnContext, action: { verb?: unknown; data?: unknown }): Promise<View> {
    const user = userOf(context);
    if (!user) return messageView('Who are you?', "Teams didn't tell me who you are, so I can't continue.");
    const raw = { verb: action.verb, data: action.data ?? {} };
    const verb = typeof action.verb === 'string' ? action.verb : undefined;
    const route = verb === undefined ? undefined : this.actionRoutes.find((r) => verb.startsWith(r.prefix));
    if (route) {
      const parsed = route.schema.safeParse(raw);
      if (parsed.success) return route.run(user, parsed.data, context);
      // Paths only: the data may hold what a user typed (an access ID in "Add contract").
      this.log.warn({ verb: raw.verb, issues: parsed.error.issues.map((i) => i.path.join('.')) }, 'bad card action');
    } else this.log.warn({ verb: raw.verb }, 'unknown card action');
    return messageView(
      "That button didn't work",
      `The card sent something I could not read, so nothing was submitted: ${route?.retry ?? 'type “help” to see what I can do'}.`,
    );
  }

  private async rememberConversation(context: TurnContext): Promise<void> {
    const activity = context.activity;
    const reference = TurnContext.getConversationReference(activity);
    const kind = conversationOf(activity).kind;
    const tenantId = tenantOf(activity);
    await this.deps.conversations.remember({
      id: activity.conversation.id,
      kind,
      ...(tenantId ? { tenantId } : {}),
      // activityId is this turn's message: not part of where to post, and it would force a write per turn.
      reference: { ...reference, activityId: undefined } as Record<string, unknown>,
    });
  }
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A 400 answer to an adaptiveCard/action invoke, shaped as ActivityHandler shapes it. */
function cardInvokeError(code: string, message: string): InvokeResponse<AdaptiveCardInvokeResponse> {
  return { status: 400, body: { statusCode: 400, type: 'application/vnd.microsoft.error', value: { code, message } as never } };
}

const ChannelData = z
  .object({ tenant: z.object({ id: z.string() }).partial().optional() })
  .loose()
  .optional();

// Teams sets conversation.tenantId on every activity: channelData is parsed only without it.
function tenantOf(activity: Partial<Activity>): string | undefined {
  return activity.conversation?.tenantId ?? tenantOfChannelData(activity.channelData);
}

function tenantOfChannelData(channelData: unknown): string | undefined {
  const parsed = ChannelData.safeParse(channelData);
  return parsed.success ? parsed.data?.tenant?.id : undefined;
}

/** What the incident flow needs from the turn: the card's message, the bot's id, where it is shown. */
function incidentOrigin(context: TurnContext): IncidentOrigin {
  const a = context.activity;
  return {
    ...(a.replyToId ? { activityId: a.replyToId } : {}),
    ...(a.recipient?.id ? { botId: a.recipient.id } : {}),
    here: conversationOf(a).kind,
  };
}

export function conversationOf(activity: Partial<Activity>): ConversationContext {
  const type = activity.conversation?.conversationType;
  const kind = type === 'channel' ? 'channel' : type === 'groupChat' ? 'groupChat' : 'personal';
  return { id: activity.conversation?.id ?? '', kind };
}

/**
 * The user's Teams profile, asked for as TeamsInfo.getMember asks (of the team in a team's channel,
 * else of the conversation), through the turn's connector client's own pipeline when it has one.
 * Rejects after `waitMs` without an answer (the pipeline's request is aborted; TeamsInfo's cannot
 * be, and is left to finish on its own).
 */
async function memberOf(context: TurnContext, userId: string, waitMs: number): Promise<MemberProfile> {
  const a = context.activity;
  const client = context.turnState.get<ConnectorClient | undefined>(context.adapter.ConnectorClientKey);
  const read = client && a.serviceUrl ? pipelineMember(client, a.serviceUrl) : undefined;
  const conversationId = memberScope(a);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`no answer in ${waitMs} ms`);
      controller.abort(err);
      reject(err);
    }, waitMs);
  });
  try {
    // Without the pipeline (or a user or conversation to ask about, which TeamsInfo then names).
    const lookup = read && userId && conversationId ? read(conversationId, userId, controller.signal) : TeamsInfo.getMember(context, userId);
    return await Promise.race([lookup, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The acting user, or undefined when Teams sent no Azure AD identity (e.g. a non-Teams channel). */
function userOf(context: TurnContext): UserContext | undefined {
  const a = context.activity;
  const tenantId = tenantOf(a);
  if (!a.from?.aadObjectId || !tenantId) return undefined;
  return {
    aadObjectId: a.from.aadObjectId.toLowerCase(),
    tenantId: tenantId.toLowerCase(),
    name: a.from.name ?? 'Unknown user',
    ...(a.localTimezone ? { timeZone: a.localTimezone } : {}),
  };
}

/** The user with the profile's e-mail and name; without a profile the user simply types the e-mail. */
function withProfile(user: UserContext, member: MemberProfile | undefined): UserContext {
  const email = member?.email ?? member?.userPrincipalName;
  return { ...user, ...(email ? { email } : {}), ...(member?.name ? { name: member.name } : {}) };
}

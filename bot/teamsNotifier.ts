import type { Activity, ConversationAccount, ConversationReference, Mention } from 'botbuilder';
import type { Directory } from '../src/directory.js';
import type { Logger } from '../src/logger.js';
import { DeliveryError, type Notifier, toDeliveryError } from '../src/outbox/notifier.js';
import type { SendableItem } from '../src/outbox/outboxItem.js';
import type { ConversationService } from '../src/services/conversationService.js';
import type { ConnectorClient, SupportAdapter } from './adapter.js';
import { renderCard } from './cards.js';
import { type ConnectorSender, operationsSender, pipelineSender } from './connectorSender.js';

/**
 * Delivers outbox items to Teams through botbuilder's connector client: a post (a new thread when
 * the conversation is a channel), a reply in a channel thread, or an update of an earlier message
 * for everyone.
 */
export class TeamsNotifier implements Notifier {
  private warnedRetries = false;
  private warnedPipeline = false;
  /** One connector client per service URL, made on first use and kept (see senderFor). */
  private readonly senders = new Map<string, Promise<ConnectorSender>>();

  constructor(
    private readonly deps: {
      adapter: SupportAdapter;
      appId: string;
      conversations: ConversationService;
      directory: Directory;
      logger: Logger;
    },
  ) {}

  async send(item: SendableItem, signal?: AbortSignal): Promise<{ activityId?: string }> {
    const reference = await this.referenceFor(item.target.conversationId);
    if (!reference?.serviceUrl)
      throw new DeliveryError(`no way to reach conversation ${item.target.conversationId} yet`, { permanent: false });
    const { threadId, activityId } = item.target;
    // The outbox fills the activity id in from activityOf before it sends; without one, no retry helps.
    if (item.op === 'update' && !activityId)
      throw new DeliveryError(`update ${item.id} names no activity to update`, { permanent: true });
    const conversationId =
      item.op === 'reply' && threadId
        ? `${threadRoot(item.target.conversationId)};messageid=${threadId}`
        : item.target.conversationId;
    const conversation = { ...reference.conversation!, id: conversationId };
    const activity = outgoing(this.activityOf(item), reference, conversation);
    try {
      const sender = await this.senderFor(reference.serviceUrl);
      if (item.op === 'update') {
        await sender.update(conversationId, activityId!, { ...activity, id: activityId }, signal);
        return { activityId };
      }
      // A post goes to the conversation (in a channel: a new thread), a reply to its thread's root.
      const sent =
        item.op === 'reply' && threadId
          ? await sender.reply(conversationId, threadId, { ...activity, replyToId: threadId }, signal)
          : await sender.post(conversationId, activity, signal);
      return sent.id ? { activityId: sent.id } : {};
    } catch (err) {
      throw toDeliveryError(err);
    }
  }

  /**
   * The connector client for a service URL, made once and kept. continueConversationAsync would
   * make a new one per send (a whole HTTP pipeline, with credentials) plus a TurnContext: the top
   * cost of a proactive send. A client keeps no state between requests and its credentials get the
   * bot's token per request (cached, refreshed before it expires), so every send can share it.
   * Teams has a handful of service URLs (one per region), so the map stays small. Sends go through
   * the client's pipeline without botbuilder's operation layer (bot/connectorSender.ts).
   */
  private senderFor(serviceUrl: string): Promise<ConnectorSender> {
    const known = this.senders.get(serviceUrl);
    if (known) return known;
    const client = this.deps.adapter.connectorClientFor(this.deps.appId, serviceUrl).then((c) => {
      this.withoutRetries(c);
      return this.senderOf(c, serviceUrl);
    });
    this.senders.set(serviceUrl, client);
    // A client that could not be made is tried again on the next send; this send gets the error.
    void client.catch(() => {
      if (this.senders.get(serviceUrl) === client) this.senders.delete(serviceUrl);
    });
    return client;
  }

  /** The client's pipeline sender, or its operations if botbuilder keeps the pipeline elsewhere. */
  private senderOf(client: ConnectorClient, serviceUrl: string): ConnectorSender {
    const sender = pipelineSender(client, serviceUrl);
    if (sender) return sender;
    if (!this.warnedPipeline) {
      this.warnedPipeline = true;
      // Delivery still works, through the slower operation layer: worth a look after an upgrade.
      this.deps.logger.warn('cannot reach the connector client pipeline; proactive sends go through its operations');
    }
    return operationsSender(client);
  }

  /**
   * Takes the retry policy out of a new connector client, once: its default policy
   * (@azure/core-rest-pipeline: 3 retries of 429, 5xx and network errors, each waiting out
   * Retry-After) would hold one of the outbox's send slots for every Retry-After second; the
   * outbox already waits Retry-After per conversation and backs off the rest, so a throttled item
   * must come back to it at once. botbuilder 4.23 offers no option for this: ConnectorClientOptions
   * declares `noRetryPolicy` but its ServiceClientContext ignores it, and passes no retry options.
   */
  private withoutRetries(client: ConnectorClient): void {
    if (removeRetryPolicy(client)) return;
    if (this.warnedRetries) return;
    this.warnedRetries = true;
    // Delivery still works, with the slow retries inside botbuilder: worth a look after an upgrade.
    this.deps.logger.warn(
      'cannot remove the connector client retry policy; 429s are retried inside botbuilder',
    );
  }

  private activityOf(item: SendableItem): Partial<Activity> {
    const channelData = { outboxItemId: item.id };
    if (item.payload.kind === 'card')
      return {
        type: 'message',
        attachments: [renderCard({ card: item.payload.card as never, data: item.payload.data })],
        channelData,
      };
    const entities: Mention[] = (item.payload.mentions ?? []).map((m) => ({
      type: 'mention',
      text: `<at>${m.name}</at>`,
      mentioned: { id: m.id, name: m.name },
    })) as Mention[];
    return { type: 'message', text: item.payload.text, textFormat: 'markdown', entities, channelData };
  }

  /** A stored reference, or for a channel named in the directory one built from what we know. */
  private async referenceFor(conversationId: string): Promise<Partial<ConversationReference> | undefined> {
    const known = await this.deps.conversations.get(conversationId);
    if (known) return known.reference as Partial<ConversationReference>;
    const { directory } = this.deps;
    const channels = [
      directory.desk.channel,
      ...directory.organizations.flatMap((o) => o.projects.flatMap((p) => (p.linkedChannel ? [{ ...p.linkedChannel, tenantId: o.tenantId }] : []))),
    ];
    const channel = channels.find((c) => c.channelId === threadRoot(conversationId));
    if (!channel) return undefined;
    const serviceUrl = channel.serviceUrl ?? (await this.deps.conversations.lastServiceUrl());
    if (!serviceUrl) return undefined; // no activity seen yet: retried until one arrives
    const tenantId = 'tenantId' in channel ? (channel.tenantId as string) : undefined;
    return {
      channelId: 'msteams',
      serviceUrl,
      bot: { id: this.deps.appId || 'fo-support-bot', name: 'F&O Support' },
      conversation: { id: channel.channelId, isGroup: true, conversationType: 'channel', name: channel.name, ...(tenantId ? { tenantId } : {}) },
    } as Partial<ConversationReference>;
  }
}

/**
 * The activity as TurnContext.sendActivity / updateActivity would send it in a proactive turn
 * (TurnContext.applyConversationReference: the bot speaks, to the reference's user, in the
 * conversation). Unlike a CloudAdapter proactive turn it carries no replyToId: there that is the
 * id of the turn's made-up continuation activity (a fresh uuid), which names no message.
 */
function outgoing(
  content: Partial<Activity>,
  reference: Partial<ConversationReference>,
  conversation: ConversationAccount,
): Partial<Activity> {
  return {
    ...content,
    type: content.type ?? 'message',
    channelId: reference.channelId,
    locale: content.locale ?? reference.locale,
    serviceUrl: reference.serviceUrl,
    conversation,
    from: reference.bot,
    recipient: reference.user,
  };
}

/**
 * Removes the Retry phase (the default retry policy) from a botbuilder ConnectorClient's
 * @azure/core-rest-pipeline pipeline. The pipeline sits in a field botbuilder does not type as
 * public (ServiceClientContext.client, botbuilder-stdlib); false if it is not there or had no
 * retry policy, so an upgrade that moves it is noticed (logged, and caught by the tests).
 */
export function removeRetryPolicy(connectorClient: unknown): boolean {
  type WithPipeline = { client?: { pipeline?: Partial<RetryPhasePipeline> } } | undefined;
  const pipeline = (connectorClient as WithPipeline)?.client?.pipeline;
  if (typeof pipeline?.removePolicy !== 'function') return false;
  return pipeline.removePolicy({ phase: 'Retry' }).length > 0;
}

/** The part of @azure/core-rest-pipeline's Pipeline used here (not a dependency of ours). */
interface RetryPhasePipeline {
  removePolicy(options: { phase: 'Retry' }): unknown[];
}

/** "19:abc@thread.tacv2;messageid=123" -> "19:abc@thread.tacv2". */
function threadRoot(conversationId: string): string {
  return conversationId.split(';messageid=')[0]!;
}

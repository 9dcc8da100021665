import type { Activity, ConversationReference, Mention, TurnContext } from 'botbuilder';
import type { Directory } from '../src/directory.js';
import type { Logger } from '../src/logger.js';
import { DeliveryError, type Notifier, toDeliveryError } from '../src/outbox/notifier.js';
import type { OutboxItem } from '../src/outbox/outboxItem.js';
import type { ConversationService } from '../src/services/conversationService.js';
import type { SupportAdapter } from './adapter.js';
import { renderCard } from './cards.js';

/**
 * Delivers outbox items to Teams with botbuilder: a post (a new thread when the conversation is a
 * channel), a reply in a channel thread, or an update of an earlier message for everyone.
 */
export class TeamsNotifier implements Notifier {
  private warnedRetries = false;

  constructor(
    private readonly deps: {
      adapter: SupportAdapter;
      appId: string;
      conversations: ConversationService;
      directory: Directory;
      logger: Logger;
    },
  ) {}

  async send(item: OutboxItem): Promise<{ activityId?: string }> {
    const reference = await this.referenceFor(item.target.conversationId);
    if (!reference)
      throw new DeliveryError(`no way to reach conversation ${item.target.conversationId} yet`, { permanent: false });
    const conversationId =
      item.op === 'reply' && item.target.threadId
        ? `${threadRoot(item.target.conversationId)};messageid=${item.target.threadId}`
        : item.target.conversationId;
    const activity = this.activityOf(item);
    let activityId: string | undefined;
    // An error inside the callback would go to the adapter's onTurnError and vanish, and the item
    // would be recorded as delivered: keep it and rethrow, so the outbox retries or records it.
    let failure: unknown;
    try {
      await this.deps.adapter.continueConversationAsync(
        this.deps.appId,
        { ...reference, conversation: { ...reference.conversation!, id: conversationId } },
        async (context: TurnContext) => {
          try {
            this.withoutRetries(context);
            if (item.op === 'update') {
              await context.updateActivity({ ...activity, id: item.target.activityId });
              activityId = item.target.activityId;
            } else activityId = (await context.sendActivity(activity))?.id;
          } catch (err) {
            failure = err;
          }
        },
      );
    } catch (err) {
      throw toDeliveryError(err);
    }
    if (failure !== undefined) throw toDeliveryError(failure);
    return activityId ? { activityId } : {};
  }

  /**
   * Takes the retry policy out of this proactive turn's connector client (botbuilder creates one
   * per continueConversationAsync, so no other turn shares it). Its default policy
   * (@azure/core-rest-pipeline: 3 retries of 429, 5xx and network errors, each waiting out
   * Retry-After) would hold one of the outbox's send slots for every Retry-After second; the
   * outbox already waits Retry-After per conversation and backs off the rest, so a throttled item
   * must come back to it at once. botbuilder 4.23 offers no option for this: ConnectorClientOptions
   * declares `noRetryPolicy` but its ServiceClientContext ignores it, and passes no retry options.
   */
  private withoutRetries(context: TurnContext): void {
    if (removeRetryPolicy(context.turnState.get(this.deps.adapter.ConnectorClientKey))) return;
    if (this.warnedRetries) return;
    this.warnedRetries = true;
    // Delivery still works, with the slow retries inside botbuilder: worth a look after an upgrade.
    this.deps.logger.warn(
      'cannot remove the connector client retry policy; 429s are retried inside botbuilder',
    );
  }

  private activityOf(item: OutboxItem): Partial<Activity> {
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

// A minimal Notifier over the Bot Connector REST shape, for tests against connectorServer.ts. The
// real one (bot/) uses botbuilder; this one shows the contract: item id in channelData, errors
// classified with classifyHttpError.

import { classifyHttpError, DeliveryError, type Notifier } from '../../src/outbox/notifier.js';
import type { SendableItem } from '../../src/outbox/outboxItem.js';
import { systemClock, type Clock } from '../../src/time.js';

export class HttpNotifier implements Notifier {
  constructor(
    private readonly baseUrl: string,
    private readonly clock: Clock = systemClock,
  ) {}

  async send(item: SendableItem): Promise<{ activityId?: string }> {
    const conv = `${this.baseUrl}/v3/conversations/${encodeURIComponent(item.target.conversationId)}/activities`;
    const { method, url } =
      item.op === 'post'
        ? { method: 'POST', url: conv }
        : item.op === 'reply'
          ? { method: 'POST', url: `${conv}/${encodeURIComponent(item.target.threadId!)}` }
          : { method: 'PUT', url: `${conv}/${encodeURIComponent(item.target.activityId!)}` };
    const content =
      item.payload.kind === 'text'
        ? { text: item.payload.text }
        : {
            attachments: [
              {
                contentType: 'application/vnd.microsoft.card.adaptive',
                content: { template: item.payload.card, data: item.payload.data },
              },
            ],
          };
    const body = { type: 'message', ...content, channelData: { outboxItemId: item.id } };
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    } catch (err) {
      throw new DeliveryError(`network: ${(err as Error).message}`, {
        permanent: false,
        cause: err,
      });
    }
    const text = await res.text();
    if (!res.ok)
      throw classifyHttpError(res.status, res.headers, this.clock.now(), text.slice(0, 200));
    return { activityId: (JSON.parse(text) as { id?: string }).id };
  }
}

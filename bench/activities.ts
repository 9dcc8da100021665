// Activities as Teams sends them, and the bits of a card a load script needs to click on. Kept
// here (not imported from test/) so the benchmark does not move when the test helpers do.

export const TENANT = '00000000-0000-0000-0000-0000000000001';

export interface Who {
  id: string;
  name: string;
  aadObjectId: string;
}

/** Alex can report an outage on Contoso's production (config/directory.demo.json). */
export const ALEX: Who = { id: 'user-id-0', name: 'Alex Wilber', aadObjectId: '00000000-0000-0000-0000-0000000000020' };
/** Patti is on the support desk. */
export const PATTI: Who = { id: 'user-id-4', name: 'Patti Fernandez', aadObjectId: '00000000-0000-0000-0000-0000000000024' };

/** The demo desk channel (a thread in it). */
export const DESK_CHANNEL = 'channel-support-desk-id';
export const DESK_THREAD = `${DESK_CHANNEL};messageid=desk-root`;

export interface Conv {
  id: string;
  conversationType: 'personal' | 'groupChat' | 'channel';
}

let counter = 0;
const nextId = () => `bench-${process.pid}-${++counter}`;

function base(serviceUrl: string, who: Who, conv: Conv) {
  return {
    id: nextId(),
    channelId: 'msteams',
    serviceUrl,
    timestamp: new Date().toISOString(),
    localTimezone: 'America/New_York',
    from: { id: who.id, name: who.name, aadObjectId: who.aadObjectId },
    recipient: { id: '28:bot', name: 'F&O Support' },
    conversation: { id: conv.id, conversationType: conv.conversationType, tenantId: TENANT },
    channelData: { tenant: { id: TENANT } },
  };
}

/** A typed message whose replies come back in the HTTP response (deliveryMode expectReplies). */
export function message(serviceUrl: string, who: Who, conv: Conv, text: string) {
  return { ...base(serviceUrl, who, conv), type: 'message', text, deliveryMode: 'expectReplies' };
}

/** A Universal Action (Action.Execute) click: the card comes back as the invoke response. */
export function invoke(serviceUrl: string, who: Who, conv: Conv, verb: string, data: Record<string, unknown>) {
  return {
    ...base(serviceUrl, who, conv),
    type: 'invoke',
    name: 'adaptiveCard/action',
    replyToId: 'card-1',
    value: { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' },
  };
}

/** The Adaptive Card in an expectReplies response or an invoke response. */
export function cardOf(body: any): any {
  if (body?.type === 'application/vnd.microsoft.card.adaptive') return body.value;
  const activity = body?.activities?.find((a: any) => a.attachments?.length);
  return activity?.attachments?.[0]?.content;
}

/** The data of the card's Action.Execute button with this verb (draftId, rev), or undefined. */
export function actionData(card: any, verb: string): Record<string, unknown> | undefined {
  let found: any;
  const walk = (n: any): void => {
    if (found || !n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(walk);
    if (n.type === 'Action.Execute' && n.verb === verb) found = n;
    Object.values(n).forEach(walk);
  };
  walk(card);
  return found?.data;
}

/** All the TextBlock text of a card, for checks. */
export function cardText(card: any): string {
  const out: string[] = [];
  const walk = (n: any): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    if (n.type === 'TextBlock') out.push(n.text);
    Object.values(n).forEach(walk);
  };
  walk(card);
  return out.join('\n');
}

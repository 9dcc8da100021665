// What a typed message asks for. Kept forgiving: people type "report an outage!", "prod is down".

export type Intent =
  | { kind: 'outage' }
  | { kind: 'help' }
  | { kind: 'status'; ticketId: string }
  | { kind: 'myTickets' }
  | { kind: 'plans' }
  | { kind: 'addContract' }
  | { kind: 'addSoftwareAssurance' }
  | { kind: 'organization' }
  | { kind: 'unknown'; text: string };

const OUTAGE = [
  /^(please\s+)?(report|raise|log|open|file|create|submit)\s+(a\s+|an\s+)?(production\s+|prod\s+)?outage\b/,
  /^(production|prod)\s+outage\b/,
  /^outage\b/,
  /\b(production|prod)\s+(environment\s+)?(is\s+)?(down|unavailable|not\s+working)\b/,
];
const STATUS = /^(?:status|show|ticket|timeline)(?:\s+of)?\s+#?((?:out|inc)-\d{1,9})\b/;
const MY_TICKETS = [/^(my|show my|list my)\s+(tickets|outages|incidents)\b/, /^tickets$/];
// "support plans", "manage support plans", "show my entitlements", "plans".
const PLANS = [
  /^((please\s+)?(show|list|see|view|manage|check)\s+)?(me\s+)?(my\s+|our\s+|the\s+)?(support\s+)?(plans?|entitlements?|contracts)$/,
  /^what (support\s+)?(plans?|entitlements?) (do|have) (i|we)( have| got)?$/,
];
const ADD_CONTRACT = /^(add|link|enter)\s+(a\s+|my\s+)?(support\s+)?contract(\s+id)?$/;
const ADD_SA = /^add\s+(a\s+|my\s+)?(software\s+assurance|sa)(\s+plan)?$/;
// LCS: your name in the upper-right corner. British and American spellings alike.
const ORGANIZATION = [
  /^((show|which is|what is)\s+)?(my\s+)?(current\s+)?organi[sz]ation$/,
  /^(switch|change|choose|select|pick)\s+(my\s+|the\s+)?(current\s+)?(organi[sz]ation|org)s?$/,
  /^(my\s+)?organi[sz]ations$/,
];
const HELP = [/^(help|\?|menu|commands|what can you do|hi|hello|hey|start)\b/];

export function recognize(raw: string | undefined): Intent {
  const text = (raw ?? '')
    .replace(/<at>.*?<\/at>/gi, ' ') // a leftover @mention of the bot
    .replace(/[.!?]+$/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
  const status = STATUS.exec(text);
  if (status) return { kind: 'status', ticketId: status[1]!.toUpperCase() };
  if (MY_TICKETS.some((r) => r.test(text))) return { kind: 'myTickets' };
  if (OUTAGE.some((r) => r.test(text))) return { kind: 'outage' };
  if (ADD_CONTRACT.test(text)) return { kind: 'addContract' };
  if (ADD_SA.test(text)) return { kind: 'addSoftwareAssurance' };
  if (PLANS.some((r) => r.test(text))) return { kind: 'plans' };
  if (ORGANIZATION.some((r) => r.test(text))) return { kind: 'organization' };
  if (text === '' || HELP.some((r) => r.test(text))) return { kind: 'help' };
  return { kind: 'unknown', text: (raw ?? '').trim().slice(0, 100) };
}

// What a typed message asks for. Kept forgiving: people type "report an outage!", "prod is down".

export type Intent =
  | { kind: 'outage' }
  | { kind: 'help' }
  | { kind: 'status'; ticketId: string }
  | { kind: 'myTickets' }
  | { kind: 'unknown'; text: string };

const OUTAGE = [
  /^(please\s+)?(report|raise|log|open|file|create|submit)\s+(a\s+|an\s+)?(production\s+|prod\s+)?outage\b/,
  /^(production|prod)\s+outage\b/,
  /^outage\b/,
  /\b(production|prod)\s+(environment\s+)?(is\s+)?(down|unavailable|not\s+working)\b/,
];
const STATUS = /^(?:status|show|ticket|timeline)(?:\s+of)?\s+#?((?:out|inc)-\d{1,9})\b/;
const MY_TICKETS = [/^(my|show my|list my)\s+(tickets|outages|incidents)\b/, /^tickets$/];
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
  if (text === '' || HELP.some((r) => r.test(text))) return { kind: 'help' };
  return { kind: 'unknown', text: (raw ?? '').trim().slice(0, 100) };
}

// What a typed message asks for. Kept forgiving: people type "report an outage!", "prod is down".

export type Intent =
  | { kind: 'outage' }
  | { kind: 'newIncident' }
  /** The incident form as a Teams dialog (a card with the button that opens it). */
  | { kind: 'incidentForm' }
  | { kind: 'help' }
  | { kind: 'status'; ticketId: string }
  | { kind: 'myTickets' }
  | { kind: 'myIncidents' }
  | { kind: 'incidents' }
  /** Issue search; `query` keeps its case (AND / OR are operators only in upper case); '' = usage. */
  | { kind: 'search'; query: string }
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
// "submit incident", "new incident", "open a support case", "file an incident", "I need to open a case".
const NEW_INCIDENT = [
  /^(please\s+)?(submit|open|create|file|raise|log|report|start|new)\s+(a\s+|an\s+)?(new\s+)?(support\s+)?(incident|case|ticket|request)\b/,
  /^(i\s+)?(need|want)\s+(to\s+(open|submit|file|create|raise)\s+)?(a\s+|an\s+)?(new\s+)?(support\s+)?(incident|case)\b/,
];
// "incident form", "open the incident form", "incident dialog": the whole form in one Teams dialog.
const INCIDENT_FORM = /^((open|show|use)\s+(the\s+|an?\s+)?)?incident\s+(form|dialog)$/;
const STATUS = /^(?:status|show|ticket|timeline)(?:\s+of)?\s+#?((?:out|inc)-\d{1,9})\b/;
const MY_TICKETS = [/^(my|show my|list my)\s+(tickets|outages)\b/, /^tickets$/];
const MY_INCIDENTS = /^((show|list)\s+)?my\s+incidents$/;
// "incidents": the user's own, and the project's for its owners and organisation admins.
const INCIDENTS = /^((show|list)\s+)?(all\s+|the\s+|our\s+|project\s+)?incidents$/;
// "search batch AND workflow status:open", "find …", "known issues …", "kb 4512345". Matched on the
// text as typed (not lower-cased) so that the query keeps its AND / OR.
const SEARCH = /^(?:search|find|look\s?up|known\s+issues?)\b(?:\s+(?:for|known\s+issues?)\b)?[\s:]*(.*)$/i;
const KB_LOOKUP = /^kb\s*#?\s*\d{4,8}$/i;
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
  const typed = (raw ?? '')
    .replace(/<at>.*?<\/at>/gi, ' ') // a leftover @mention of the bot
    .replace(/[.!?]+$/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  const text = typed.toLowerCase();
  const status = STATUS.exec(text);
  if (status) return { kind: 'status', ticketId: status[1]!.toUpperCase() };
  if (MY_TICKETS.some((r) => r.test(text))) return { kind: 'myTickets' };
  if (MY_INCIDENTS.test(text)) return { kind: 'myIncidents' };
  if (INCIDENTS.test(text)) return { kind: 'incidents' };
  if (KB_LOOKUP.test(typed)) return { kind: 'search', query: typed };
  const search = SEARCH.exec(typed);
  if (search) return { kind: 'search', query: search[1]!.trim() };
  if (OUTAGE.some((r) => r.test(text))) return { kind: 'outage' };
  if (INCIDENT_FORM.test(text)) return { kind: 'incidentForm' };
  if (NEW_INCIDENT.some((r) => r.test(text))) return { kind: 'newIncident' };
  if (ADD_CONTRACT.test(text)) return { kind: 'addContract' };
  if (ADD_SA.test(text)) return { kind: 'addSoftwareAssurance' };
  if (PLANS.some((r) => r.test(text))) return { kind: 'plans' };
  if (ORGANIZATION.some((r) => r.test(text))) return { kind: 'organization' };
  if (text === '' || HELP.some((r) => r.test(text))) return { kind: 'help' };
  return { kind: 'unknown', text: (raw ?? '').trim().slice(0, 100) };
}

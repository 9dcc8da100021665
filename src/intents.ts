// What a typed message asks for. Kept forgiving: people type "report an outage!", "prod is down".

export type Intent = { kind: 'outage' } | { kind: 'help' } | { kind: 'unknown'; text: string };

const OUTAGE = [
  /^(please\s+)?(report|raise|log|open|file|create|submit)\s+(a\s+|an\s+)?(production\s+|prod\s+)?outage\b/,
  /^(production|prod)\s+outage\b/,
  /^outage\b/,
  /\b(production|prod)\s+(environment\s+)?(is\s+)?(down|unavailable|not\s+working)\b/,
];
const HELP = [/^(help|\?|menu|commands|what can you do|hi|hello|hey|start)\b/];

export function recognize(raw: string | undefined): Intent {
  const text = (raw ?? '')
    .replace(/<at>.*?<\/at>/gi, ' ') // a leftover @mention of the bot
    .replace(/[.!?]+$/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
  if (OUTAGE.some((r) => r.test(text))) return { kind: 'outage' };
  if (text === '' || HELP.some((r) => r.test(text))) return { kind: 'help' };
  return { kind: 'unknown', text: (raw ?? '').trim().slice(0, 100) };
}

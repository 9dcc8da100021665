import { messageView, type View } from '../flows/views.js';
import { DEFAULT_LIMIT, type IssueHit, type IssueSearch } from './issueSearch.js';
import { ISSUE_STATUSES, type IssueStatus, kbDigits, parseStatus, statusColor } from './knownIssue.js';

// "search <words>" in chat and the search message extension: the typed text becomes a query and
// a status filter, the hits become the searchResults card. The query language itself (AND / OR, KB
// numbers) is the search core's (issueSearch.ts); the `status:` filter is read here, because it is
// a chat convention: the search endpoint and the core take statuses as a list.

/** The one-line reminder of the syntax, shown under every result list. */
export const SEARCH_SYNTAX =
  'Tip: words match in any order; join with AND (both) or OR (either), in capitals; filter with ' +
  'status:open (or resolved, workaround, postponed, by-design, not-reproducible, wont-fix; several: ' +
  'status:open,workaround); a KB number such as “kb 4512345” opens that entry.';

// A status as people type it after "status:": any case, with spaces, hyphens or underscores
// between words ("by-design", "wont_fix"), the apostrophe optional, several joined with , or |.
// Quotes allow spaces: status:"by design",workaround.
const STATUS_ITEM = String.raw`(?:"[^"]*"|“[^”]*”|[^\s,|"“]+)`;
const STATUS_FILTER = new RegExp(String.raw`(^|\s)status:(\s*${STATUS_ITEM}(?:\s*[,|]\s*${STATUS_ITEM})*|)`, 'gi');
const STATUS_ITEMS = new RegExp(STATUS_ITEM, 'g');

export interface SearchText {
  /** The query without its status filters, for the search core. */
  query: string;
  status: IssueStatus[];
  /** What followed "status:" but is not a status, as typed. */
  unknownStatus: string[];
}

/** Separates `status:` filters from the words of a query. */
export function parseSearchText(text: string): SearchText {
  const status: IssueStatus[] = [];
  const unknownStatus: string[] = [];
  const query = text.replace(STATUS_FILTER, (_all, lead: string, value: string) => {
    const parts = [...value.matchAll(STATUS_ITEMS)].map((m) => m[0].replace(/^["“]|["”]$/g, '').trim()).filter(Boolean);
    for (const part of parts) {
      const found = parseStatus(part.replace(/[-_]+/g, ' ')) ?? compactStatus(part);
      if (found) {
        if (!status.includes(found)) status.push(found);
      } else unknownStatus.push(part);
    }
    if (!parts.length) unknownStatus.push('');
    return lead;
  });
  return { query: query.replace(/\s+/g, ' ').trim(), status, unknownStatus };
}

/** "wontfix", "notreproducible", "bydesign": the words run together. */
function compactStatus(part: string): IssueStatus | undefined {
  const key = part.toLowerCase().replace(/[^a-z]/g, '');
  return ISSUE_STATUSES.find((s) => s.toLowerCase().replace(/[^a-z]/g, '') === key);
}

/** One result as the card shows it; the message extension shows the same, one entry a card. */
export function resultRow(hit: IssueHit) {
  const { issue } = hit;
  return {
    title: issue.title,
    kbNumber: issue.kbNumber,
    status: issue.status,
    statusColor: statusColor(issue.status),
    snippet: hit.snippet,
    link: issue.link,
    area: `${issue.category} · ${issue.area}`,
  };
}

/** One known issue on its own (the message extension inserts this card into a conversation). */
export function knownIssueView(hit: IssueHit): View {
  return { card: 'searchResults', data: { heading: '', summary: '', footer: '', results: [resultRow(hit)] } };
}

/** "search" alone: how to search; `exampleKb` is a KB number that exists, so the example works. */
export function searchUsageView(notice = '', exampleKb = 'KB4512345'): View {
  return messageView(
    'Search known issues',
    'Type “search” and a few words about the problem, e.g. “search vendor invoice posting”, or a ' +
      `KB number: “kb ${exampleKb.replace(/^KB/, '')}”. ` +
      'Join words with AND (both must appear) or OR (either), in capitals: ' +
      '“search batch AND workflow”. Filter by status with status:open, status:resolved, ' +
      'status:workaround, status:postponed, status:by-design, status:not-reproducible or ' +
      'status:wont-fix (several: status:open,workaround).',
    notice,
  );
}

function quoted(text: string): string {
  return `“${text.length > 80 ? `${text.slice(0, 79)}…` : text}”`;
}

/** The card for "search <text>": the top 10, a KB number's entry, usage, or what to try next. */
export function searchView(search: IssueSearch, text: string): View {
  const parsed = parseSearchText(text);
  const exampleKb = search.search('', { limit: 1 })[0]?.issue.kbNumber;
  if (parsed.unknownStatus.length)
    return searchUsageView(
      `${parsed.unknownStatus.map((s) => (s ? quoted(s) : 'An empty status')).join(', ')} ` +
        `${parsed.unknownStatus.length === 1 ? 'is not a status' : 'are not statuses'}. ` +
        `The statuses are ${ISSUE_STATUSES.join(', ')}.`,
      exampleKb,
    );
  const statusNote = parsed.status.length ? ` with status ${parsed.status.join(' or ')}` : '';
  if (!parsed.query) {
    if (!parsed.status.length) return searchUsageView('', exampleKb);
    // A status alone: the newest entries with it (the search core's answer to an empty query).
    const newest = search.search('', { status: parsed.status, limit: DEFAULT_LIMIT });
    if (newest.length === 0) return messageView('No known issues found', `No known issue has the status ${parsed.status.join(' or ')}.`);
    return resultsView(`Known issues${statusNote}`, `The ${newest.length} most recently updated.`, newest);
  }

  // "kb 4512345" is a lookup; bare digits are one only when such an entry exists (else an error code).
  const kbOnly = /^kb\s*#?\s*\d{4,8}$/i.test(parsed.query)
    ? kbDigits(parsed.query.replace(/^kb\s*#?\s*/i, ''))
    : /^\d{6,8}$/.test(parsed.query) && search.byKb(parsed.query)
      ? parsed.query
      : undefined;
  if (kbOnly !== undefined) {
    const issue = search.byKb(kbOnly);
    const hit = issue && search.search(issue.kbNumber, { limit: 1 })[0];
    if (!hit)
      return messageView(
        `No known issue KB${kbOnly}`,
        `No known issue has the KB number KB${kbOnly}. Check the number, or search by words: ` +
          '“search <words about the problem>”.',
      );
    if (parsed.status.length && !parsed.status.includes(hit.issue.status))
      return messageView(
        `${hit.issue.kbNumber} is ${hit.issue.status}`,
        `${hit.issue.kbNumber} (${hit.issue.title}) has the status ${hit.issue.status}, not ${parsed.status.join(' or ')}.`,
      );
    return resultsView(`Known issue ${hit.issue.kbNumber}`, '', [hit]);
  }

  const hits = search.search(parsed.query, { status: parsed.status, limit: DEFAULT_LIMIT });
  if (hits.length === 0)
    return messageView(
      'No known issues found',
      `Nothing matched ${quoted(parsed.query)}${statusNote}. Check the spelling, try fewer or more ` +
        'general words (or OR instead of AND)' +
        (statusNote ? ', or drop the status filter' : '') +
        '. If it is a problem nobody has reported yet, submit an incident to Microsoft Support: type “submit incident”.',
    );
  const summary =
    hits.length === 1
      ? `1 known issue${statusNote}.`
      : `The ${hits.length} most relevant known issues${statusNote}, best first.`;
  return resultsView(`Known issues for ${quoted(parsed.query)}`, summary, hits);
}

function resultsView(heading: string, summary: string, hits: IssueHit[]): View {
  return {
    card: 'searchResults',
    data: { heading, summary, footer: SEARCH_SYNTAX, results: hits.map(resultRow) },
  };
}

import { byId, h, show } from './lib/dom.js';
import { getJson } from './lib/http.js';
import { connectToTeams, type TeamsHost } from './lib/teamsHost.js';

// The Incidents tab: a personal static tab of the F&O Support app (manifest entityId `incidents`).
// - Inside Teams: teams-js gives the theme and a Teams SSO token (authentication.getAuthToken); the
//   token goes to /api/tab/tickets as `Authorization: Bearer`, and the server says who that is.
// - Outside Teams (teams-js does not answer in time): the page says how to open it in Teams. The
//   API is still asked, without a token: in local mode it answers with the demo user's tickets (a
//   banner says so); otherwise it answers 401 and the page shows only the instructions.
// The list and one ticket's timeline are two views of the page, chosen by the URL's hash
// (#/INC-000123), so that Back returns to the list.

type SlaState = 'due' | 'met' | 'missed' | 'overdue';
interface Row {
  id: string;
  kind: 'incident' | 'outage';
  kindLabel: string;
  title: string;
  severity: string;
  statusLabel: string;
  project: string;
  reportedBy?: string;
  submitted: string;
  sla: { state: SlaState; text: string; dueAt: string };
}
interface ListAnswer {
  user: { name: string };
  mode: 'local' | 'teams';
  intro: string;
  total: number;
  tickets: Row[];
  links: { reportOutage: string; submitIncident: string } | null;
}
interface Detail extends Row {
  slaTarget: string;
  facts: { title: string; value: string }[];
  details: string;
  errorMessage?: string;
  resolution?: string;
  timeline: { at: string; when: string; who: string; type: string; text: string }[];
  /** The files sent with it; the links hold a session for them (src/web/ticketFiles.ts). */
  files: { name: string; about: string; opensInPlace: boolean; image: boolean; url: string; downloadUrl: string }[];
}
interface ErrorAnswer {
  error?: string;
  message?: string;
}

/** The SLA state's colour (style.css .status-*): met green, due amber, missed and overdue red. */
const SLA_COLOURS: Record<SlaState, string> = { met: 'good', due: 'warning', missed: 'attention', overdue: 'attention' };
const COMMANDS = { reportOutage: 'report outage', submitIncident: 'submit incident' } as const;

let host: TeamsHost | undefined;
let token: string | undefined;
let signInProblem = '';
let links: ListAnswer['links'] = null;
let loads = 0; // the newest load wins: a slow answer never replaces a newer view

const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const query = `?tz=${encodeURIComponent(timeZone)}`;

async function start(): Promise<void> {
  host = await connectToTeams();
  if (host) {
    try {
      token = await host.getAuthToken();
    } catch (err) {
      // Local mode inside Teams has no app registration to sign in to: the API may still answer.
      signInProblem = `Teams could not sign you in to F&O Support (${reason(err)}). Ask your Teams admin to approve the app, then open the tab again.`;
    }
  }
  show(byId('outside-teams'), !host);
  wire();
  await route();
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function authHeaders(): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Fetches JSON with the token; an answer the page cannot use is turned into a message to show. */
async function load<T>(url: string): Promise<{ ok: true; body: T } | { ok: false; status: number; message: string }> {
  let answer;
  try {
    answer = await getJson<T & ErrorAnswer>(url, undefined, authHeaders());
  } catch {
    return { ok: false, status: 0, message: 'Your incidents could not be loaded: check your connection and press Refresh.' };
  }
  if (answer.status === 200) return { ok: true, body: answer.body };
  const said = answer.body.message ?? '';
  if (answer.status === 401) return { ok: false, status: 401, message: signInProblem || said || 'Teams did not sign you in. Close the tab and open it again.' };
  if (answer.status === 503) return { ok: false, status: 503, message: `${said || 'Sign-in cannot be checked right now.'} Press Refresh in a minute.` };
  return { ok: false, status: answer.status, message: said || `Your incidents could not be loaded (${answer.status}).` };
}

// ---- the two views ---------------------------------------------------------------------------

function ticketIdInHash(): string | undefined {
  const match = /^#\/((?:OUT|INC)-\d{1,9})$/i.exec(location.hash);
  return match?.[1]?.toUpperCase();
}

async function route(): Promise<void> {
  const id = ticketIdInHash();
  if (id) await showDetail(id);
  else await showList();
}

function failed(message: string, status: number): void {
  show(byId('loading'), false);
  show(byId('list-view'), false);
  show(byId('detail-view'), false);
  // Outside Teams, a 401 only means "not local mode": the instructions already say what to do.
  if (!host && status === 401) return;
  const el = byId('load-error');
  el.textContent = message;
  show(el, true);
  show(byId('bot-actions'), !!host); // Refresh (and the buttons) stay within reach in Teams
}

function ready(answer: { mode: 'local' | 'teams'; user: { name: string } }): void {
  show(byId('loading'), false);
  show(byId('load-error'), false);
  show(byId('bot-actions'), true);
  const banner = byId('banner');
  banner.textContent = answer.mode === 'local' ? `Local mode: showing ${answer.user.name} (demo)` : '';
  show(banner, answer.mode === 'local');
}

let lastList: ListAnswer | undefined;

async function showList(): Promise<void> {
  const mine = ++loads;
  const answer = await load<ListAnswer>(`../api/tab/tickets${query}`);
  if (mine !== loads) return;
  if (!answer.ok) return failed(answer.message, answer.status);
  const list = answer.body;
  lastList = list;
  links = list.links;
  ready(list);
  show(byId('detail-view'), false);
  show(byId('outside-teams'), !host);
  byId('list-intro').textContent =
    list.total > list.tickets.length ? `${list.intro} The ${list.tickets.length} newest of ${list.total}.` : list.intro;
  show(byId('list-intro'), list.tickets.length > 0);
  show(byId('list-empty'), list.tickets.length === 0);
  byId('tickets').replaceChildren(...list.tickets.map(ticketItem));
  show(byId('list-view'), true);
}

function slaBadge(sla: Row['sla']): HTMLElement {
  return h('span', { class: `status sla status-${SLA_COLOURS[sla.state]}`, 'data-sla': sla.state }, sla.text);
}

function ticketItem(t: Row): HTMLElement {
  return h(
    'li',
    { class: 'ticket', 'data-ticket': t.id },
    h(
      'div',
      { class: 'ticket-line' },
      h('span', { class: 'ticket-id' }, t.id),
      h('span', { class: `kind kind-${t.kind}` }, t.kindLabel),
      h('span', {}, `Severity ${t.severity}`),
      h('span', { class: 'quiet' }, t.statusLabel),
    ),
    h('a', { class: 'ticket-title', href: `#/${t.id}`, 'aria-label': `${t.id}: ${t.title}, open its timeline` }, t.title),
    h('div', { class: 'ticket-sla' }, slaBadge(t.sla)),
    h('p', { class: 'meta' }, [t.project, t.reportedBy ? `reported by ${t.reportedBy}` : '', t.submitted].filter(Boolean).join(' · ')),
  );
}

async function showDetail(id: string): Promise<void> {
  const mine = ++loads;
  const answer = await load<{ ticket: Detail }>(`../api/tab/tickets/${encodeURIComponent(id)}${query}`);
  if (mine !== loads) return;
  if (!answer.ok) {
    if (answer.status !== 404) return failed(answer.message, answer.status);
    // A ticket that is gone or not the user's: say so above the list.
    await showList();
    const el = byId('load-error');
    el.textContent = answer.message;
    show(el, true);
    return;
  }
  const t = answer.body.ticket;
  if (!lastList) {
    // Opened straight on a ticket: learn the mode and the links for the banner and the buttons.
    const list = await load<ListAnswer>(`../api/tab/tickets${query}`);
    if (mine !== loads) return;
    if (list.ok) {
      lastList = list.body;
      links = list.body.links;
      ready(list.body);
    }
  } else ready(lastList);
  show(byId('list-view'), false);
  show(byId('outside-teams'), false); // the list view has the instructions; here the ticket has the room
  byId('detail-heading').textContent = `${t.id}: ${t.title}`;
  byId('detail-status').replaceChildren(
    h('span', { class: `kind kind-${t.kind}` }, t.kindLabel),
    h('span', {}, `Severity ${t.severity}`),
    h('span', {}, t.statusLabel),
    slaBadge(t.sla),
  );
  byId('detail-sla-target').textContent = t.slaTarget;
  byId('detail-facts').replaceChildren(...t.facts.flatMap((f) => [h('dt', {}, f.title), h('dd', {}, f.value)]));
  byId('detail-details').textContent = t.details;
  byId('detail-error').textContent = t.errorMessage ?? '';
  show(byId('detail-error-block'), !!t.errorMessage);
  byId('detail-files').replaceChildren(...(t.files ?? []).map(fileItem));
  show(byId('detail-files-block'), !!t.files?.length);
  byId('detail-resolution').textContent = t.resolution ?? '';
  show(byId('detail-resolution-block'), !!t.resolution);
  byId('timeline').replaceChildren(
    ...t.timeline.map((e) =>
      h(
        'li',
        { class: `event event-${e.type}` },
        h('time', { datetime: e.at }, e.when),
        h('span', { class: 'who' }, e.who),
        h('span', { class: 'what' }, e.text),
      ),
    ),
  );
  show(byId('detail-view'), true);
  byId('detail-view').focus();
}

/** One attached file: its name, what it is, Open (images, text) and Download, and an image's preview. */
function fileItem(f: Detail['files'][number]): HTMLElement {
  // The API's links are relative to the server's root; the page is one level down (/tab/incidents).
  const at = (url: string) => `..${url}`;
  const open = f.opensInPlace ? [h('a', { href: at(f.url), target: '_blank', rel: 'noopener' }, 'Open'), ' · '] : [];
  return h(
    'li',
    { class: 'file' },
    h('p', { class: 'file-name' }, f.name),
    h('p', { class: 'quiet' }, `${f.about} · `, ...open, h('a', { href: at(f.downloadUrl), download: f.name }, 'Download')),
    ...(f.image ? [h('a', { href: at(f.url), target: '_blank', rel: 'noopener' }, h('img', { class: 'file-preview', src: at(f.url), alt: f.name }))] : []),
  );
}

// ---- the buttons -----------------------------------------------------------------------------

async function openChat(which: keyof typeof COMMANDS): Promise<void> {
  const hint = byId('action-hint');
  show(hint, false);
  const link = links?.[which];
  if (link && host) {
    try {
      await host.openLink(link);
      return;
    } catch (err) {
      hint.textContent = `Teams could not open the chat (${reason(err)}). Type “${COMMANDS[which]}” in your chat with F&O Support.`;
    }
  } else if (link) {
    window.open(link, '_blank', 'noopener');
    return;
  } else {
    // Local mode: no bot id, so no deep link. The Playground is where the chat is.
    hint.textContent = `In Teams this opens your chat with F&O Support with “${COMMANDS[which]}” typed in. In local mode, type it in the Agents Playground.`;
  }
  show(hint, true);
}

function wire(): void {
  byId('report-outage').addEventListener('click', () => void openChat('reportOutage'));
  byId('submit-incident').addEventListener('click', () => void openChat('submitIncident'));
  byId('refresh').addEventListener('click', () => {
    lastList = undefined;
    void route();
  });
  window.addEventListener('hashchange', () => void route());
}

void start();

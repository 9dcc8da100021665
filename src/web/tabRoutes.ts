import type restify from 'restify';
import type { Directory } from '../directory.js';
import type { Ticket } from '../domain/ticket.js';
import type { IncidentList } from '../incidents/incidentList.js';
import type { Logger } from '../logger.js';
import { COLLECTIONS } from '../services/collections.js';
import type { Store } from '../store/store.js';
import { type Clock, isTimeZone } from '../time.js';
import { guarded } from './httpErrors.js';
import { botLinks, canSeeInTab, TAB_LIST_LIMIT, tabAccepts, tabDetail, tabRow } from './tabTickets.js';
import type { TicketFiles } from './ticketFiles.js';
import { DEMO_USER_HEADER, type ResolveWebUser, TAB_CONVERSATION } from './webUser.js';

// The Incidents tab's data API (the page is web/incidentsTab.html, served at /tab/incidents):
// - GET /api/tab/tickets[?tz=<IANA zone>]: the user's incidents and open outages, and for project
//   owners and organisation admins their projects' (current organisation), newest first, each with
//   its SLA state; plus the deep links of the tab's buttons.
// - GET /api/tab/tickets/:id[?tz=]: one ticket with its timeline and its files' links (each detail
//   opens a session for them, src/web/ticketFiles.ts); 404 for a ticket the user may not see,
//   whether or not it exists.
// The user: a Teams SSO token's with an app id, the demo user in local mode (webUser.ts); 401 for a
// missing or bad token, 503 when the signing keys cannot be fetched. Never another tenant's tickets.

export interface TabRoutesDeps {
  incidents: Pick<IncidentList, 'visible'>;
  store: Store;
  directory: Directory;
  clock: Clock;
  users: ResolveWebUser;
  /** The bot's id (MicrosoftAppId): the buttons' deep links open the chat with it. */
  botId?: string;
  /** A ticket's files (the detail's links). */
  files?: Pick<TicketFiles, 'links'>;
  logger: Logger;
}

const TICKET_ID = /^(OUT|INC)-\d{1,9}$/;

export function tabRoutes(deps: TabRoutesDeps): (server: restify.Server) => void {
  const log = deps.logger.child({ module: 'web.tab' });

  /** The zone the page asked for (the browser's), else the user's, else each ticket's own. */
  const zoneOf = (req: restify.Request, fallback: string | undefined) => {
    const tz = new URL(req.url ?? '/', 'http://localhost').searchParams.get('tz') ?? undefined;
    return isTimeZone(tz) ? tz : isTimeZone(fallback) ? fallback : undefined;
  };

  return (server) => {
    server.get('/api/tab/tickets', guarded(log, async (req, res) => {
      res.header('Cache-Control', 'no-store');
      const { user, demo } = await deps.users(req.header('authorization'), req.header(DEMO_USER_HEADER));
      const { tickets, org, projects } = await deps.incidents.visible(user, 'project', tabAccepts);
      const now = deps.clock.now();
      const zone = zoneOf(req, user.timeZone);
      const shown = tickets.slice(0, TAB_LIST_LIMIT);
      const names = projects.map((p) => p.name);
      res.send(200, {
        user: { name: user.name },
        mode: demo ? 'local' : 'teams',
        intro:
          projects.length && org
            ? `Yours and those of ${names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : names[0]} (${org.name}), newest first.`
            : 'Yours, newest first.',
        total: tickets.length,
        tickets: shown.map((t) => tabRow(t, user, now, zone ?? t.timeZone)),
        links: botLinks(deps.botId) ?? null,
      });
    }));

    server.get('/api/tab/tickets/:id', guarded(log, async (req, res) => {
      res.header('Cache-Control', 'no-store');
      const { user } = await deps.users(req.header('authorization'), req.header(DEMO_USER_HEADER));
      const id = String(req.params.id ?? '').trim().toUpperCase();
      const stored = TICKET_ID.test(id) ? await deps.store.get<Ticket>(COLLECTIONS.tickets, id) : undefined;
      if (!stored || !canSeeInTab(deps.directory, user, stored.value)) {
        res.send(404, { error: 'not_found', message: `There is no ticket ${id.slice(0, 20)} among those you can see.` });
        return;
      }
      const t = stored.value;
      const files = deps.files ? await deps.files.links(user, TAB_CONVERSATION, t) : [];
      res.send(200, { ticket: { ...tabDetail(t, user, deps.clock.now(), zoneOf(req, user.timeZone) ?? t.timeZone), files } });
    }));
  };
}

import type restify from 'restify';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import { type IssueHit, type IssueSearch } from '../search/issueSearch.js';
import { guarded } from './httpErrors.js';
import { IssueStatus, statusColor } from '../search/knownIssue.js';

// GET /api/search: Issue search for the web pages (the incident dialog's "Possible issue
// solutions", refreshed as the user types). Two forms:
// - `q`: the query language of "search <words>" (words, AND / OR, KB numbers);
// - `title`, `details`, `errorMessage`: an incident draft as typed so far, ranked the way the card
//   flow ranks its suggestions (the error message weighs most).
// Either form takes `category` and `area` (names, as in the knowledge base) as a boost, `status`
// (comma-separated) as a filter and `limit` (default 10). The knowledge base is Microsoft's public
// known issues, not tenant data, so the endpoint needs no user; its inputs are bounded.

const Text = (max: number) => z.string().trim().max(max, `at most ${max} characters`).optional();

export const SearchQuery = z
  .strictObject({
    q: Text(1000),
    title: Text(1000),
    details: Text(20000),
    errorMessage: Text(8000),
    category: Text(80),
    area: Text(80),
    status: z
      .string()
      .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
      .pipe(z.array(IssueStatus).max(7))
      .optional(),
    limit: z.coerce.number().int().min(1).max(50).optional(),
  })
  .refine((r) => !(r.q && (r.title || r.details || r.errorMessage)), {
    message: 'send either q or the draft fields (title, details, errorMessage), not both',
  });
export type SearchQuery = z.infer<typeof SearchQuery>;

/** One result as the pages show it: the LCS status and its colour, a snippet with **matches**. */
export interface SearchResultJson {
  id: string;
  kbNumber: string;
  title: string;
  status: string;
  /** Adaptive Card colour name of the status (Good, Accent, Warning, Attention, Default). */
  statusColor: string;
  snippet: string;
  link: string;
  area: string;
  category: string;
  score: number;
}

export function toResultJson(hit: IssueHit): SearchResultJson {
  const { issue } = hit;
  return {
    id: issue.id,
    kbNumber: issue.kbNumber,
    title: issue.title,
    status: issue.status,
    statusColor: statusColor(issue.status),
    snippet: hit.snippet,
    link: issue.link,
    area: issue.area,
    category: issue.category,
    score: hit.score,
  };
}

/** Runs a validated query: the draft form through suggest(), `q` through search(). */
export function runSearch(search: IssueSearch, query: SearchQuery): IssueHit[] {
  const options = {
    ...(query.status ? { status: query.status } : {}),
    ...(query.limit ? { limit: query.limit } : {}),
  };
  const context = {
    ...(query.category ? { category: query.category } : {}),
    ...(query.area ? { area: query.area } : {}),
  };
  if (query.title || query.details || query.errorMessage) {
    return search.suggest(
      {
        ...context,
        ...(query.title ? { title: query.title } : {}),
        ...(query.details ? { details: query.details } : {}),
        ...(query.errorMessage ? { errorMessage: query.errorMessage } : {}),
      },
      options,
    );
  }
  return search.search(query.q ?? '', { ...options, ...context });
}

/** The query string as one value per key; a repeated key is an error, not a silent pick. */
export function queryOf(
  req: restify.Request,
): { ok: true; values: Record<string, string> } | { ok: false; repeated: string } {
  const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
  const values: Record<string, string> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    if (all.length > 1) return { ok: false, repeated: key };
    values[key] = all[0] as string;
  }
  return { ok: true, values };
}

export interface SearchRoutesDeps {
  search: IssueSearch;
  logger: Logger;
}

export function searchRoutes(deps: SearchRoutesDeps): (server: restify.Server) => void {
  const log = deps.logger.child({ module: 'web.search' });
  return (server) => {
    server.get('/api/search', guarded(log, async (req, res) => {
      res.header('Cache-Control', 'no-store');
      const raw = queryOf(req);
      if (!raw.ok) {
        res.send(400, { error: 'bad_request', message: `${raw.repeated}: give it once` });
        return;
      }
      const parsed = SearchQuery.safeParse(raw.values);
      if (!parsed.success) {
        res.send(400, { error: 'bad_request', message: z.prettifyError(parsed.error) });
        return;
      }
      const started = performance.now();
      const hits = runSearch(deps.search, parsed.data);
      log.debug({ results: hits.length, ms: Math.round(performance.now() - started) }, 'search');
      res.send(200, { count: hits.length, results: hits.map(toResultJson) });
    }));
  };
}

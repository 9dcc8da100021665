import type restify from 'restify';
import { z } from 'zod';
import type { ConversationContext, UserContext } from '../domain/user.js';
import type { Logger } from '../logger.js';
import type { IncidentService } from '../services/incidentService.js';
import type { DialogSession, DialogSessions } from './dialogSessions.js';
import { guarded } from './httpErrors.js';
import { DEMO_USER_HEADER, type ResolveWebUser, WEB_CONVERSATION } from './webUser.js';

// The incident dialog page's API:
// - GET  /api/incidents/form[?session=]: the choices (projects, environments, categories and
//   areas, contracts, severities), the contact prefill, and after a refused submit the values
//   and errors. With a session (opened by the bot in Teams): that session's user. Without: the
//   demo user in local mode, else the user of a Teams SSO token (401 without one; webUser.ts).
// - POST /api/incidents {form, idempotencyKey}: the page outside Teams (inside Teams it submits
//   through the bot, task/submit). The demo user in local mode, else a Teams SSO token's user.
//   201 with the incident number, 400 with the errors by field.
// - POST /api/incidents/solved {kbNumber}: "This solved my problem" outside Teams; the same users.
// Both submit paths run IncidentService.submitForm: the same checks and creation as the card flow.

/** What the dialog needs of the incident service: the form's choices and its submit. */
export type IncidentFormPort = Pick<IncidentService, 'formOptions' | 'submitForm'>;

/** Counts "This solved my problem" once per opened form (src/web/solvedCounter.ts). */
export type CountSolved = (user: UserContext, kbNumber: string, formKey: string) => Promise<number | undefined>;

export const IdempotencyKey = z.string().regex(/^[A-Za-z0-9_-]{8,100}$/, 'expected 8 to 100 letters, digits, - or _');

export const SubmitBody = z.object({
  form: z.record(z.string(), z.unknown()),
  idempotencyKey: IdempotencyKey,
});

export const KbNumberText = z.string().regex(/^KB\d{4,8}$/, 'expected a KB number such as KB4512345');

export const SolvedBody = z.object({ kbNumber: KbNumberText, idempotencyKey: IdempotencyKey });

export interface IncidentRoutesDeps {
  incidents: IncidentFormPort;
  countSolved: CountSolved;
  sessions: DialogSessions;
  /** The local-mode demo user or a Teams SSO token's user (src/web/webUser.ts). */
  users: ResolveWebUser;
  logger: Logger;
}

export function incidentRoutes(deps: IncidentRoutesDeps): (server: restify.Server) => void {
  const log = deps.logger.child({ module: 'web.incidents' });

  /** The request's user; throws the 401, 403 or 503 that guarded() answers with. */
  const requestUser = async (req: restify.Request): Promise<UserContext> =>
    (await deps.users(req.header('authorization'), req.header(DEMO_USER_HEADER))).user;

  return (server) => {
    server.get('/api/incidents/form', guarded(log, async (req, res) => {
      res.header('Cache-Control', 'no-store');
      const session = new URL(req.url ?? '/', 'http://localhost').searchParams.get('session');
      let user: UserContext;
      let draft: Pick<DialogSession, 'values' | 'errors' | 'idempotencyKey'> = {};
      if (session !== null) {
        const found = await deps.sessions.get(session);
        // A session for a ticket's attachments (ticketFiles.ts) opens nothing else.
        if (!found || found.ticketId) {
          res.send(401, {
            error: 'session_expired',
            message: 'This form has expired. Close it and open it again from the bot.',
          });
          return;
        }
        user = found.user;
        draft = found;
      } else user = await requestUser(req);
      const options = await deps.incidents.formOptions(user);
      if (!options.ok) {
        res.send(403, { error: 'not_allowed', message: options.message });
        return;
      }
      res.send(200, {
        options: options.options,
        ...(draft.values ? { values: draft.values } : {}),
        ...(draft.errors ? { errors: draft.errors } : {}),
        ...(draft.idempotencyKey ? { idempotencyKey: draft.idempotencyKey } : {}),
      });
    }));

    server.post('/api/incidents', guarded(log, async (req, res) => {
      const user = await requestUser(req);
      const body = SubmitBody.safeParse(req.body);
      if (!body.success) {
        res.send(400, { error: 'bad_request', message: z.prettifyError(body.error) });
        return;
      }
      const result = await deps.incidents.submitForm(user, WEB_CONVERSATION, body.data.form, body.data.idempotencyKey);
      if (!result.ok) {
        res.send(400, { error: 'invalid', errors: result.errors });
        return;
      }
      log.info({ ticketId: result.ticketId }, 'incident submitted from the web page');
      res.send(201, {
        ticketId: result.ticketId,
        message: `Incident ${result.ticketId} submitted. Type “my incidents” in the bot's chat to follow it.`,
      });
    }));

    server.post('/api/incidents/solved', guarded(log, async (req, res) => {
      const user = await requestUser(req);
      const body = SolvedBody.safeParse(req.body);
      if (!body.success) {
        res.send(400, { error: 'bad_request', message: z.prettifyError(body.error) });
        return;
      }
      const count = await deps.countSolved(user, body.data.kbNumber, body.data.idempotencyKey);
      if (count === undefined) {
        res.send(400, { error: 'unknown_issue', message: `${body.data.kbNumber} is not in the knowledge base.` });
        return;
      }
      log.info({ kbNumber: body.data.kbNumber, count }, 'incident solved by a known issue (web page)');
      res.send(200, { count, message: solvedMessage(body.data.kbNumber) });
    }));
  };
}

export function solvedMessage(kbNumber: string): string {
  return `Glad that helped: ${kbNumber} solved the problem. Nothing was submitted.`;
}

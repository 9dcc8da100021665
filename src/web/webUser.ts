import { bearerToken, type TeamsSso } from '../auth/teamsSso.js';
import type { Directory } from '../directory.js';
import type { ConversationContext, UserContext } from '../domain/user.js';
import { AppError } from '../errors.js';

// Who is using a web page (the Incidents tab, the incident dialog outside Teams), behind the same
// switch as the bot. In local mode (no MicrosoftAppId: the Playground demo on this machine) there
// is no sign-in, so the page acts for a fixed demo user: the Playground's default user, Alex Wilber,
// or another directory member named by the `X-Demo-User` header (an aadObjectId). With an app id a
// request needs a Teams SSO token (`Authorization: Bearer`, src/auth/teamsSso.ts): 401 without a
// valid one, 503 when the signing keys cannot be fetched.

/** The Playground's default current user (.m365agentsplayground.yml), a member of the demo directory. */
export const DEMO_USER_ID = '00000000-0000-0000-0000-0000000000020';
export const DEMO_USER_HEADER = 'x-demo-user';

/** Where updates on an incident filed from the page outside Teams go: no Teams conversation. */
export const WEB_CONVERSATION: ConversationContext = { id: 'web:incident-dialog', kind: 'personal' };

/** The Incidents tab's sessions for a ticket's files (src/web/ticketFiles.ts) name this conversation. */
export const TAB_CONVERSATION: ConversationContext = { id: 'web:incidents-tab', kind: 'personal' };

export const NOT_LOCAL_MESSAGE =
  'This page works on its own only in local mode. Open it from the app in Teams (for the incident ' +
  'form, type “incident form” in the chat with the bot), which signs you in.';

/** The demo user named by the request (header) or the default one; undefined if not a member. */
export function demoUser(directory: Directory, requested: string | undefined): UserContext | undefined {
  const id = (requested?.trim() || DEMO_USER_ID).toLowerCase();
  for (const org of directory.organizations)
    for (const project of org.projects)
      for (const member of project.members)
        if (member.aadObjectId.toLowerCase() === id)
          return { aadObjectId: id, tenantId: org.tenantId.toLowerCase(), name: member.name, email: member.email };
  return undefined;
}

/** Who a web API request acts for, and whether that is the local-mode demo user. */
export interface WebUser {
  user: UserContext;
  demo: boolean;
}

/** Resolves a request's user from its Authorization and X-Demo-User headers; throws AppError 401/403/503. */
export type ResolveWebUser = (authorization: string | undefined, demoUserHeader: string | undefined) => Promise<WebUser>;

export function webUserResolver(deps: { directory: Directory; localMode: boolean; sso?: Pick<TeamsSso, 'verify'> }): ResolveWebUser {
  return async (authorization, requested) => {
    if (deps.localMode) {
      const user = demoUser(deps.directory, requested);
      if (!user) throw new AppError('unknown_user', `${DEMO_USER_HEADER} names no member of the directory.`, 403);
      return { user, demo: true };
    }
    if (!deps.sso || !bearerToken(authorization)) throw new AppError('unauthorized', NOT_LOCAL_MESSAGE, 401);
    return { user: await deps.sso.verify(authorization), demo: false };
  };
}

import type { Directory } from '../directory.js';
import type { ConversationContext, UserContext } from '../domain/user.js';

// Who is using a web page outside Teams. In local mode (no MicrosoftAppId: the Playground demo on
// this machine) there is no sign-in, so the page acts for a fixed demo user: the Playground's
// default user, Alex Wilber, or another directory member named by the `X-Demo-User` header (an
// aadObjectId). Outside local mode a page needs a Teams SSO token, which is not validated yet
// (the Incidents tab's issue): those requests get 401.

/** The Playground's default current user (.m365agentsplayground.yml), a member of the demo directory. */
export const DEMO_USER_ID = '00000000-0000-0000-0000-0000000000020';
export const DEMO_USER_HEADER = 'x-demo-user';

/** Where updates on an incident filed from the page outside Teams go: no Teams conversation. */
export const WEB_CONVERSATION: ConversationContext = { id: 'web:incident-dialog', kind: 'personal' };

export const NOT_LOCAL_MESSAGE =
  'This page submits on its own only in local mode. Open the incident form from the bot in Teams ' +
  '(type “incident form”); signing in here with a Teams SSO token is not supported yet.';

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

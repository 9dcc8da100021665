import {
  type Directory,
  type Environment,
  type Organization,
  OUTAGE_ROLES,
  PRODUCT_LABELS,
  type Project,
  ROLE_LABELS,
} from '../directory.js';
import type { UserContext } from './user.js';

// Who may report a production outage for which project (SPEC §2, the LCS "Access and
// availability" rules). Each refusal is one sentence that also says what to do instead.

export interface OutageTarget {
  org: Organization;
  project: Project;
  environment: Environment;
}

export interface Refusal {
  projectId?: string;
  projectName?: string;
  reason: string;
}

export interface Eligibility {
  /** Organisations of the user's tenant where the user is a member of some project. */
  orgs: Organization[];
  targets: OutageTarget[];
  refusals: Refusal[];
}

const OUTAGE_PRODUCTS = new Set(['finance', 'supply-chain-management']);

/** Organisations visible from a tenant: tenant isolation starts here. */
export function orgsOfTenant(directory: Directory, tenantId: string): Organization[] {
  const t = tenantId.toLowerCase();
  return directory.organizations.filter((o) => o.tenantId === t);
}

/** Who may report for what; `orgId` narrows it to the user's chosen current organisation. */
export function outageEligibility(directory: Directory, user: UserContext, orgId?: string): Eligibility {
  const inTenant = orgsOfTenant(directory, user.tenantId);
  const chosen = inTenant.filter((o) => o.id === orgId);
  const tenantOrgs = chosen.length > 0 ? chosen : inTenant;
  const me = user.aadObjectId.toLowerCase();
  const targets: OutageTarget[] = [];
  const refusals: Refusal[] = [];
  const orgs: Organization[] = [];
  for (const org of tenantOrgs) {
    let member = false;
    for (const project of org.projects) {
      const membership = project.members.find((m) => m.aadObjectId === me);
      if (!membership) continue;
      member = true;
      const refusal = projectRefusal(project, membership.role);
      if (refusal) refusals.push({ projectId: project.id, projectName: project.name, reason: refusal });
      else
        for (const environment of productionEnvironments(project))
          targets.push({ org, project, environment });
    }
    if (member) orgs.push(org);
  }
  if (chosen.length > 0 && targets.length === 0 && orgs.length > 0 && inTenant.length > 1)
    refusals.push({
      reason: `None of your projects in ${chosen[0]!.name}, your current organisation, can take an outage report, so type “switch organisation” to choose another.`,
    });
  if (tenantOrgs.length === 0)
    refusals.push({
      reason:
        "Your organisation isn't set up for Finance and Operations support in Teams yet, so ask " +
        'your Teams administrator to add it, and use LCS or phone support meanwhile.',
    });
  else if (orgs.length === 0 && chosen.length > 0 && inTenant.length > 1)
    refusals.push({
      reason:
        `You aren't a member of any Finance and Operations project of ${chosen[0]!.name}, your current organisation, ` +
        'so type “switch organisation” to choose another, or ask your project owner to add you in LCS.',
    });
  else if (orgs.length === 0)
    refusals.push({
      reason:
        `You aren't a member of any Finance and Operations project of ${tenantOrgs.map((o) => o.name).join(' or ')}, ` +
        'so ask your project owner to add you to the implementation project in LCS.',
    });
  return { orgs, targets, refusals };
}

function productionEnvironments(project: Project): Environment[] {
  return project.environments.filter((e) => e.type === 'production' && e.managedBy === 'microsoft');
}

/** Why this project cannot take an outage report from this member, or undefined when it can. */
export function projectRefusal(project: Project, role: keyof typeof ROLE_LABELS): string | undefined {
  const name = `“${project.name}”`;
  const incident = 'so submit a normal support incident instead.';
  if (project.type !== 'implementation')
    return `${name} is a ${project.type} project and outages can be reported only for implementation projects, ${incident}`;
  if (project.deployment === 'on-premises')
    return `${name} is an on-premises project and outages can be reported only for environments managed by Microsoft, so contact your partner or submit a normal support incident instead.`;
  if (!project.products.some((p) => OUTAGE_PRODUCTS.has(p)))
    return (
      `${name} runs ${project.products.map((p) => PRODUCT_LABELS[p]).join(' and ')}, and outages can be ` +
      `reported only for Dynamics 365 Finance or Supply Chain Management, ${incident}`
    );
  const production = project.environments.filter((e) => e.type === 'production');
  if (production.length === 0)
    return `${name} has no production environment deployed yet, so for problems in its sandbox environments submit a normal support incident instead.`;
  if (!production.some((e) => e.managedBy === 'microsoft'))
    return `The production environment of ${name} is managed by your organisation, not by Microsoft, ${incident}`;
  if (!OUTAGE_ROLES.includes(role))
    return (
      `You are a ${ROLE_LABELS[role]} in ${name}, and only project owners, organization admins, ` +
      'project team members and environment managers can report an outage, so ask your project owner to change your role or to report it.'
    );
  return undefined;
}

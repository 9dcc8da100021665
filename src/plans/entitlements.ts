import type { SupportPlanKind } from '../domain/sla.js';
import {
  type ContractRegistry,
  type Deployment,
  EMPTY_PLANS,
  type Incidents,
  type OrganizationPlans,
  PLAN_KIND_LABELS,
  type PlanKind,
  PURCHASED_KINDS,
  type SecretKind,
  slaPlanKindOf,
} from './planSchema.js';

// What a user is entitled to in one project, derived as LCS derives it ("Support plans in Lifecycle
// Services"). Pure: the directory's plans, the registry, the user's links and the incident usage
// come in; the grouped entitlements, each with why the user has it, come out. No I/O, no clock.

/** LCS's groups, in LCS's order. */
export const PLAN_GROUPS = ['contract', 'psbc', 'login', 'tenant', 'software-assurance'] as const;
export type PlanGroup = (typeof PLAN_GROUPS)[number];
export const PLAN_GROUP_TITLES: Record<PlanGroup, string> = {
  contract: 'Contract ID / access ID',
  psbc: 'PartnerSource Business Center account',
  login: 'Login-specific',
  tenant: 'Tenant subscription',
  'software-assurance': 'Software Assurance',
};

/** A contract the user linked in Teams (stored; the secret is never kept). */
export interface LinkedContract {
  contractId: string;
  secretKind: SecretKind;
  linkedAt: string;
}

/** A Software Assurance plan the user added (stored). */
export interface AddedSoftwareAssurance {
  subscriptionNumber: string;
  contactEmail: string;
  addedAt: string;
}

/** The user's own links in one organization: store collection `planLinks`, id `<aadObjectId>|<orgId>`. */
export interface PlanLinks {
  aadObjectId: string;
  orgId: string;
  contracts: LinkedContract[];
  softwareAssurance: AddedSoftwareAssurance[];
  updatedAt: string;
}

/** The parts of an organization the derivation reads; the directory's Organization (with plans) fits. */
export interface PlannedOrganization {
  id: string;
  name: string;
  tenantId: string;
  timeZone?: string;
  projects: ReadonlyArray<PlannedProject>;
  plans?: OrganizationPlans;
}
export interface PlannedProject {
  id: string;
  name: string;
  deployment: Deployment;
  members: ReadonlyArray<{ aadObjectId: string; email: string }>;
}

/** Why an entitlement is not usable: the project isn't covered, the login isn't the user's, none left, gone from the registry. */
export type Blocker = 'coverage' | 'login' | 'no-incidents' | 'invalid-contract';

export type IncidentCount =
  { limited: false } | { limited: true; total: number; used: number; left: number };

export interface Entitlement {
  /** Stable reference for consumption and card actions, e.g. `contract:DEMO-1234567`. */
  ref: string;
  group: PlanGroup;
  /** 'unknown': a stored link to a contract the registry no longer holds. */
  kind: PlanKind | 'unknown';
  /** "Unified Advanced", "ProDirect", "5-pack of incidents". */
  name: string;
  tier?: string;
  /** One sentence: why this user has it. */
  why: string;
  incidents: IncidentCount;
  usable: boolean;
  /** What stops it (set when usable is false), and the sentence that says so. */
  blockedBy?: Blocker;
  notUsableReason?: string;
  /** The SLA table's plan, where one exists. */
  slaPlan?: SupportPlanKind;
  /** 'user': added in Teams by this user (a contract can be removed); 'directory': set by the admin. */
  source: 'directory' | 'user';
  contractId?: string;
  subscriptionNumber?: string;
}

export interface EntitlementGroup {
  group: PlanGroup;
  title: string;
  entitlements: Entitlement[];
  /** No usable entitlement of this group for the project. */
  missing: boolean;
  /** When missing: LCS's guidance on what ties such a plan to the project. */
  guidance?: string;
}

export interface EntitlementReport {
  orgId: string;
  orgName: string;
  projectId: string;
  projectName: string;
  deployment: Deployment;
  groups: EntitlementGroup[];
}

/** Who is asking; email is the work account they sign in to Teams with. */
export interface PlanUser {
  aadObjectId: string;
  email?: string;
}

export interface DeriveInput {
  org: PlannedOrganization;
  registry: ContractRegistry;
  links?: PlanLinks;
  /** Incidents used so far, by ref (store collection `planUsage`); missing means none. */
  usage?: ReadonlyMap<string, number>;
  user: PlanUser;
  project: PlannedProject;
  /** For dates in the sentences; defaults to the organization's zone. */
  timeZone?: string;
}

/** Refs of incident pools, shared by everybody who holds the plan. */
export const planRef = {
  contract: (contractId: string) => `contract:${contractId}`,
  psbc: (orgId: string, accountId: string, planId: string) =>
    `psbc:${orgId}:${accountId}:${planId}`,
  login: (orgId: string, benefitId: string) => `login:${orgId}:${benefitId}`,
  tenant: (orgId: string, subscriptionId: string) => `tenant:${orgId}:${subscriptionId}`,
  softwareAssurance: (subscriptionNumber: string) => `sa:${subscriptionNumber}`,
};

interface Coverage {
  deployments: readonly Deployment[];
  projects?: readonly string[] | undefined;
}

/** The user's logins in the organization: the work account, and a linked Microsoft account if any. */
export function loginsOf(
  org: PlannedOrganization,
  user: PlanUser,
): { work?: string; microsoft?: string } {
  const me = user.aadObjectId.toLowerCase();
  const work =
    user.email?.toLowerCase() ??
    org.projects
      .flatMap((p) => p.members)
      .find((m) => m.aadObjectId.toLowerCase() === me)
      ?.email.toLowerCase();
  const microsoft = (org.plans ?? EMPTY_PLANS).microsoftAccounts.find(
    (m) => m.aadObjectId === me,
  )?.account;
  return { ...(work ? { work } : {}), ...(microsoft ? { microsoft } : {}) };
}

export function deriveEntitlements(input: DeriveInput): EntitlementReport {
  const { org, project, user, registry } = input;
  const plans = org.plans ?? EMPTY_PLANS;
  const me = user.aadObjectId.toLowerCase();
  const logins = loginsOf(org, user);
  const mine = new Set([logins.work, logins.microsoft].filter((l): l is string => !!l));
  const timeZone = input.timeZone ?? org.timeZone ?? 'UTC';
  const day = (iso: string) => formatDay(iso, timeZone);

  const make = (
    base: Omit<Entitlement, 'incidents' | 'usable' | 'blockedBy' | 'notUsableReason' | 'slaPlan'>,
    incidents: Incidents,
    coverage: Coverage,
    blocked?: [Blocker, string],
  ): Entitlement => {
    const count = countOf(incidents, input.usage?.get(base.ref) ?? 0);
    const covered = coverageProblem(coverage, project, org, base.group);
    const block: [Blocker, string] | undefined = blocked
      ? blocked
      : covered
        ? ['coverage', covered]
        : count.limited && count.left === 0
          ? ['no-incidents', `No incidents left (${count.used} of ${count.total} used).`]
          : undefined;
    const sla = base.kind === 'unknown' ? undefined : slaPlanKindOf(base.kind, base.tier);
    return {
      ...base,
      incidents: count,
      usable: !block,
      ...(block ? { blockedBy: block[0], notUsableReason: block[1] } : {}),
      ...(sla ? { slaPlan: sla } : {}),
    };
  };

  // Contract ID / access ID: linked to the login, in the directory (imported) or in Teams (stored).
  const contracts: Entitlement[] = [];
  const linked = new Set<string>();
  for (const c of plans.contracts) {
    const link = c.linkedTo.find((l) => l.aadObjectId === me);
    if (!link) continue;
    linked.add(c.contractId);
    contracts.push(
      make(
        {
          ref: planRef.contract(c.contractId),
          group: 'contract',
          kind: c.kind,
          name: contractName(c),
          tier: c.tier,
          contractId: c.contractId,
          source: 'directory',
          why: `Linked to your login with contract ${c.contractId} on ${day(link.linkedAt)}.`,
        },
        c.incidents,
        { deployments: [c.deployment], projects: c.projects },
      ),
    );
  }
  for (const l of input.links?.contracts ?? []) {
    if (linked.has(l.contractId)) continue;
    linked.add(l.contractId);
    const c = registry.find(
      (r) => r.contractId === l.contractId && r.organizations.includes(org.id),
    );
    const base = {
      ref: planRef.contract(l.contractId),
      group: 'contract' as const,
      contractId: l.contractId,
      source: 'user' as const,
      why: `Linked to your login with contract ${l.contractId} on ${day(l.linkedAt)}.`,
    };
    contracts.push(
      c
        ? make({ ...base, kind: c.kind, name: contractName(c), tier: c.tier }, c.incidents, {
            deployments: [c.deployment],
            projects: c.projects,
          })
        : make(
            { ...base, kind: 'unknown', name: `Contract ${l.contractId}` },
            0,
            { deployments: [] },
            [
              'invalid-contract',
              'This contract is no longer valid: ask your account manager (TAM or SAM) for a new contract ID and access ID, then remove this one.',
            ],
          ),
    );
  }

  // PartnerSource Business Center: the plans of accounts where one of the user's logins is a professional.
  const psbc: Entitlement[] = [];
  for (const a of plans.psbcAccounts) {
    const login = a.professionals.find((p) => mine.has(p));
    if (!login) continue;
    for (const p of a.plans)
      psbc.push(
        make(
          {
            ref: planRef.psbc(org.id, a.id, p.id),
            group: 'psbc',
            kind: p.kind,
            name: p.name ?? PLAN_KIND_LABELS[p.kind],
            source: 'directory',
            why: `Your login ${login} is a professional in the PartnerSource Business Center account ${a.name}.`,
          },
          p.incidents,
          { deployments: ['on-premises'], projects: p.projects },
        ),
      );
  }

  // Login-specific: benefits of the user's logins, and those bought for them with an unlinked account.
  const login: Entitlement[] = [];
  for (const b of plans.loginBenefits) {
    const ours = mine.has(b.login);
    if (!ours && b.holder !== me) continue;
    const purchased = PURCHASED_KINDS.includes(b.kind);
    const why = purchased
      ? `Bought on support.microsoft.com with ${b.login === logins.microsoft ? 'your Microsoft account' : 'the Microsoft account'} ${b.login}${b.purchasedAt ? ` on ${day(b.purchasedAt)}` : ''}.`
      : `Belongs to your login ${b.login}.`;
    const blocked: [Blocker, string] | undefined = ours
      ? undefined
      : purchased
        ? [
            'login',
            `It belongs to the Microsoft account ${b.login}, and you sign in with your work account${logins.work ? ` ${logins.work}` : ''}${logins.microsoft ? ` and the Microsoft account ${logins.microsoft}` : ' with no Microsoft account linked'}: ask your administrator to link ${b.login} to you.`,
          ]
        : [
            'login',
            `It belongs to the login ${b.login}, not the one you sign in with${logins.work ? ` (${logins.work})` : ''}.`,
          ];
    login.push(
      make(
        {
          ref: planRef.login(org.id, b.id),
          group: 'login',
          kind: b.kind,
          name: PLAN_KIND_LABELS[b.kind],
          source: 'directory',
          why,
        },
        b.incidents,
        { deployments: b.deployments, projects: b.projects },
        blocked,
      ),
    );
  }

  // Tenant subscription: everyone in the tenant's organization.
  const tenant = plans.tenantSubscriptions.map((s) =>
    make(
      {
        ref: planRef.tenant(org.id, s.id),
        group: 'tenant',
        kind: s.kind,
        name: s.name ?? PLAN_KIND_LABELS[s.kind],
        source: 'directory',
        why:
          s.kind === 'prodirect'
            ? "Your tenant's ProDirect subscription."
            : "Your tenant's Dynamics 365 subscription.",
      },
      'unlimited',
      s,
    ),
  );

  // Software Assurance: the organization's, and those the user added (the directory's details win;
  // an added one covers on-premises projects, as Software Assurance covers on-premises licences).
  const sa: Entitlement[] = plans.softwareAssurance.map((s) =>
    make(
      {
        ref: planRef.softwareAssurance(s.subscriptionNumber),
        group: 'software-assurance',
        kind: 'software-assurance',
        name: PLAN_KIND_LABELS['software-assurance'],
        subscriptionNumber: s.subscriptionNumber,
        source: 'directory',
        why: `Software Assurance subscription ${s.subscriptionNumber} of ${org.name} (contact ${s.contactEmail}).`,
      },
      s.incidents,
      s,
    ),
  );
  for (const s of input.links?.softwareAssurance ?? []) {
    if (plans.softwareAssurance.some((d) => d.subscriptionNumber === s.subscriptionNumber))
      continue;
    const e = make(
      {
        ref: planRef.softwareAssurance(s.subscriptionNumber),
        group: 'software-assurance',
        kind: 'software-assurance',
        name: PLAN_KIND_LABELS['software-assurance'],
        subscriptionNumber: s.subscriptionNumber,
        source: 'user',
        why: `You added Software Assurance subscription ${s.subscriptionNumber} on ${day(s.addedAt)} (contact ${s.contactEmail}); Microsoft checks its incidents when you submit one.`,
      },
      'unlimited',
      { deployments: ['on-premises'] },
    );
    sa.push(e);
  }

  const byGroup: Record<PlanGroup, Entitlement[]> = {
    contract: contracts,
    psbc,
    login,
    tenant,
    'software-assurance': sa,
  };
  return {
    orgId: org.id,
    orgName: org.name,
    projectId: project.id,
    projectName: project.name,
    deployment: project.deployment,
    groups: PLAN_GROUPS.map((group) => {
      const entitlements = byGroup[group].sort((a, b) => Number(b.usable) - Number(a.usable));
      const missing = !entitlements.some((e) => e.usable);
      return {
        group,
        title: PLAN_GROUP_TITLES[group],
        entitlements,
        missing,
        ...(missing
          ? { guidance: guidanceFor(group, project, logins, entitlements.length > 0) }
          : {}),
      };
    }),
  };
}

/** A plan the incident flow may charge an incident to. */
export interface UsablePlan {
  ref: string;
  group: PlanGroup;
  kind: Entitlement['kind'];
  name: string;
  tier?: string;
  incidents: IncidentCount;
  slaPlan?: SupportPlanKind;
}

/**
 * The plans usable for an incident in the report's project, in LCS's group order; with
 * `includeExhausted`, also limited plans with no incidents left (the incident flow lists them so
 * that choosing one gets the reason, as LCS shows the count).
 */
export function usableContracts(report: EntitlementReport, options: { includeExhausted?: boolean } = {}): UsablePlan[] {
  return report.groups
    .flatMap((g) => g.entitlements)
    .filter((e) => e.usable || (options.includeExhausted === true && e.blockedBy === 'no-incidents'))
    .map(({ ref, group, kind, name, tier, incidents, slaPlan }) => ({
      ref,
      group,
      kind,
      name,
      ...(tier ? { tier } : {}),
      incidents,
      ...(slaPlan ? { slaPlan } : {}),
    }));
}

/** Every entitlement of the report, flat. */
export function allEntitlements(report: EntitlementReport): Entitlement[] {
  return report.groups.flatMap((g) => g.entitlements);
}

/** "Unified Advanced", "Premier", or the name the directory gives the contract. */
export function contractName(c: {
  kind: PlanKind;
  tier: string;
  name?: string | undefined;
}): string {
  if (c.name) return c.name;
  if (c.kind === 'unified') return `Unified ${c.tier.charAt(0).toUpperCase()}${c.tier.slice(1)}`;
  return PLAN_KIND_LABELS[c.kind];
}

function countOf(incidents: Incidents, used: number): IncidentCount {
  if (incidents === 'unlimited') return { limited: false };
  const u = Math.min(Math.max(0, used), incidents);
  return { limited: true, total: incidents, used: u, left: incidents - u };
}

function coverageProblem(
  c: Coverage,
  project: PlannedProject,
  org: PlannedOrganization,
  group: PlanGroup,
): string | undefined {
  if (!c.deployments.includes(project.deployment)) {
    if (group === 'psbc')
      return `PartnerSource Business Center incidents can be used only in on-premises projects, and ${project.name} is a cloud project.`;
    const only = c.deployments.length === 1 ? c.deployments[0] : c.deployments.join(' or ');
    return `It covers ${only} projects only, and ${project.name} is ${project.deployment === 'cloud' ? 'a cloud' : 'an on-premises'} project.`;
  }
  if (c.projects && !c.projects.includes(project.id)) {
    const names = c.projects.map((id) => org.projects.find((p) => p.id === id)?.name ?? id);
    return `It covers ${names.join(', ')} only.`;
  }
  return undefined;
}

function guidanceFor(
  group: PlanGroup,
  project: PlannedProject,
  logins: { work?: string; microsoft?: string },
  held: boolean,
): string {
  switch (group) {
    case 'contract':
      return "Unified, Premier and Advanced support for partners need a contract ID and access ID linked to your login. If you don't know yours, ask your account manager (TAM or SAM) to create them, then choose Add contract.";
    case 'psbc':
      return project.deployment === 'on-premises'
        ? `Make sure your login${logins.work ? ` (${logins.work})` : ''} is added as a professional in your organization in PartnerSource Business Center, and that you sign in with that same login. No online plans can be used through PSBC.`
        : 'PartnerSource Business Center accounts apply only to on-premises projects; no online plans can be used through them.';
    case 'login':
      return logins.microsoft
        ? `MPN gold and silver incidents, Signature cloud support and incidents bought on support.microsoft.com appear for the login they belong to; none were found for ${[logins.work, logins.microsoft].filter(Boolean).join(' or ')}.`
        : 'MPN gold and silver incidents, Signature cloud support and incidents bought on support.microsoft.com appear for the login they belong to. Incidents must be bought with a Microsoft account (such as @outlook.com or @hotmail.com), not a work account: ask your administrator to link your Microsoft account to you.';
    case 'tenant':
      return held
        ? `Your tenant's Subscription and ProDirect support don't cover ${project.name}; choose another plan, or ask your administrator.`
        : 'Subscription and ProDirect support appear for everyone in the tenant that bought them; none is recorded for your organization, so ask your administrator.';
    case 'software-assurance':
      return project.deployment === 'on-premises'
        ? 'Add a Software Assurance plan while creating an incident: enter the subscription number and the contact e-mail.'
        : 'Software Assurance covers on-premises products. For an on-premises project, add it while creating an incident with the subscription number and the contact e-mail.';
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "21 Nov 2026" in the zone (month names fixed: ICU versions disagree on "Sep" and "Sept"). */
export function formatDay(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    day: 'numeric',
    month: 'numeric',
    year: 'numeric',
  }).formatToParts(new Date(iso));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  return `${get('day')} ${MONTHS[get('month') - 1]} ${get('year')}`;
}

import { z } from 'zod';
import type { SupportPlanKind } from '../domain/sla.js';
import { SecretHash } from './secretHash.js';

// The directory's support plans, grouped as LCS groups them ("Support plans in Lifecycle Services"):
// contract ID / access ID plans, PartnerSource Business Center accounts, login-specific benefits,
// the tenant's subscriptions and Software Assurance. `OrganizationPlans` sits in each organization
// (`plans`); `ContractRegistry` (the pairs a user may add) sits at the top of the directory.
// Cross-references (project ids, registry organizations) are checked by `checkPlans`.

const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'use letters, digits, . _ -');
const Guid = z
  .string()
  .regex(/^[0-9a-fA-F-]{8,40}$/, 'expected an Azure AD object id (GUID)')
  .transform((s) => s.toLowerCase());
const IsoDate = z.iso.datetime({ offset: true }).or(z.iso.date());

/** A login: the e-mail address a person signs in with (work account or Microsoft account). */
export const Login = z.email('expected an e-mail address').toLowerCase();

// Consumer domains of Microsoft accounts (outlook.com, hotmail.co.uk, live.fr, msn.com ...). A work
// (Azure AD) account can never hold purchased incidents, so the directory refuses one there.
const MICROSOFT_ACCOUNT =
  /@(outlook|hotmail|live|msn|passport|windowslive)\.(com|[a-z]{2}|co\.[a-z]{2}|com\.[a-z]{2})$/i;
export function isMicrosoftAccount(login: string): boolean {
  return MICROSOFT_ACCOUNT.test(login.trim());
}
export const MicrosoftAccount = Login.refine(
  isMicrosoftAccount,
  'expected a Microsoft account (such as @outlook.com, @hotmail.com or @live.com), not a work account',
);

export const Deployment = z.enum(['cloud', 'on-premises']);
export type Deployment = z.infer<typeof Deployment>;

/** How many incidents a plan holds: a count, or unlimited. */
export const Incidents = z.union([z.int().min(0).max(100_000), z.literal('unlimited')]);
export type Incidents = z.infer<typeof Incidents>;

/** Which projects of the organization a plan covers: its deployments, optionally narrowed to ids. */
const projectsField = z.array(Id).min(1).optional();

/** Contract IDs are compared without case or surrounding blanks. */
export const ContractId = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9][A-Z0-9-]{3,39}$/, 'expected a contract ID: 4 to 40 letters, digits or hyphens');

export const ContractKind = z.enum(['unified', 'premier', 'advanced-partner']);
export type ContractKind = z.infer<typeof ContractKind>;
export const UNIFIED_TIERS = ['core', 'advanced', 'performance'] as const;

// The terms a contract grants. Unified tiers are core/advanced/performance; Premier and Advanced
// support for partners carry the tier named on the contract.
const grantShape = {
  kind: ContractKind,
  tier: z.string().trim().min(1).max(60),
  deployment: Deployment,
  // Limited for on-premises contracts, unlimited for cloud ones.
  incidents: Incidents,
  projects: projectsField,
  name: z.string().trim().min(1).max(80).optional(),
};

function checkGrant(
  g: { kind: ContractKind; tier: string; deployment: Deployment; incidents: Incidents },
  ctx: z.RefinementCtx,
) {
  if (g.kind === 'unified' && !(UNIFIED_TIERS as readonly string[]).includes(g.tier))
    ctx.addIssue({
      code: 'custom',
      message: 'a Unified tier is core, advanced or performance',
      path: ['tier'],
    });
  if (g.deployment === 'on-premises' && g.incidents === 'unlimited')
    ctx.addIssue({
      code: 'custom',
      message: 'an on-premises contract has a limited incident count',
      path: ['incidents'],
    });
  if (g.deployment === 'cloud' && g.incidents !== 'unlimited')
    ctx.addIssue({
      code: 'custom',
      message: 'a cloud contract has unlimited incidents ("unlimited")',
      path: ['incidents'],
    });
}

/** What a contract grants, as the registry records it. */
export const ContractGrant = z.strictObject(grantShape).superRefine(checkGrant);
export type ContractGrant = z.infer<typeof ContractGrant>;

/** A login a contract is already linked to (imported from LCS); links made in Teams live in the store. */
export const ContractLink = z.strictObject({ aadObjectId: Guid, linkedAt: IsoDate });
export type ContractLink = z.infer<typeof ContractLink>;

/** A contract ID / access ID plan of the organization (Unified, Premier, Advanced support for partners). */
export const ContractPlan = z
  .strictObject({
    contractId: ContractId,
    ...grantShape,
    linkedTo: z.array(ContractLink).default([]),
  })
  .superRefine(checkGrant);
export type ContractPlan = z.infer<typeof ContractPlan>;

/** PSBC holds on-premises incidents only: no online plan can be used through it. */
export const PsbcPlanKind = z.enum([
  'advanced-partner-on-premises',
  'advantage',
  'advantage-plus',
  'pay-per-incident',
]);
export type PsbcPlanKind = z.infer<typeof PsbcPlanKind>;

export const PsbcPlan = z.strictObject({
  id: Id,
  kind: PsbcPlanKind,
  name: z.string().trim().min(1).max(80).optional(),
  incidents: z.int().min(0).max(100_000),
  projects: projectsField,
});
export type PsbcPlan = z.infer<typeof PsbcPlan>;

/** A PartnerSource Business Center account: its plans reach the logins added there as professionals. */
export const PsbcAccount = z.strictObject({
  id: Id,
  name: z.string().trim().min(1).max(120),
  professionals: z.array(Login).min(1),
  plans: z.array(PsbcPlan),
});
export type PsbcAccount = z.infer<typeof PsbcAccount>;

export const LoginBenefitKind = z.enum([
  'mpn-gold',
  'mpn-silver',
  'signature-cloud',
  'individual-incident',
  'five-pack',
]);
export type LoginBenefitKind = z.infer<typeof LoginBenefitKind>;
/** Bought on support.microsoft.com: these belong to a Microsoft account, never to a work account. */
export const PURCHASED_KINDS: readonly LoginBenefitKind[] = ['individual-incident', 'five-pack'];

/** A benefit of one login: MPN gold/silver incidents, Signature cloud support, purchased incidents. */
export const LoginBenefit = z
  .strictObject({
    id: Id,
    kind: LoginBenefitKind,
    login: Login,
    // The directory user it was bought for, so that they are told why it doesn't apply to them yet.
    holder: Guid.optional(),
    incidents: Incidents,
    deployments: z.array(Deployment).min(1).default(['cloud', 'on-premises']),
    projects: projectsField,
    purchasedAt: IsoDate.optional(),
  })
  .superRefine((b, ctx) => {
    if (PURCHASED_KINDS.includes(b.kind) && !isMicrosoftAccount(b.login))
      ctx.addIssue({
        code: 'custom',
        path: ['login'],
        message:
          'incidents bought on support.microsoft.com belong to a Microsoft account (such as @outlook.com or @hotmail.com), never to a work account',
      });
    const expected = {
      'individual-incident': 1,
      'five-pack': 5,
      'signature-cloud': 'unlimited',
    } as Partial<Record<LoginBenefitKind, Incidents>>;
    const want = expected[b.kind];
    if (want !== undefined && b.incidents !== want)
      ctx.addIssue({
        code: 'custom',
        path: ['incidents'],
        message: `${b.kind} holds ${JSON.stringify(want)} incidents`,
      });
    if (b.kind.startsWith('mpn-') && b.incidents === 'unlimited')
      ctx.addIssue({ code: 'custom', path: ['incidents'], message: 'MPN incidents are counted' });
    if (b.kind === 'signature-cloud' && b.deployments.includes('on-premises'))
      ctx.addIssue({
        code: 'custom',
        path: ['deployments'],
        message: 'Signature cloud support covers cloud projects only',
      });
  });
export type LoginBenefit = z.infer<typeof LoginBenefit>;

/** Subscription and ProDirect: they appear for everyone in the tenant's organization. */
export const TenantSubscriptionKind = z.enum(['subscription', 'prodirect']);
export type TenantSubscriptionKind = z.infer<typeof TenantSubscriptionKind>;
export const TenantSubscription = z.strictObject({
  id: Id,
  kind: TenantSubscriptionKind,
  name: z.string().trim().min(1).max(80).optional(),
  deployments: z.array(Deployment).min(1).default(['cloud']),
  projects: projectsField,
});
export type TenantSubscription = z.infer<typeof TenantSubscription>;

/**
 * A Software Assurance subscription number: 6 to 16 letters and digits with at least one digit;
 * spaces and hyphens are ignored and letters are upper-cased ("v-1234 5678" is V12345678).
 */
export const SubscriptionNumber = z
  .string()
  .transform((s) => s.replace(/[\s-]/g, '').toUpperCase())
  .pipe(
    z
      .string()
      .regex(
        /^(?=[A-Z]*\d)[A-Z0-9]{6,16}$/,
        'Enter the subscription number of your Software Assurance agreement: 6 to 16 letters and digits (spaces and hyphens are ignored).',
      ),
  );
export const ContactEmail = z
  .string()
  .trim()
  .max(254)
  .pipe(
    z.email(
      'Enter the contact e-mail address of the Software Assurance agreement, such as name@contoso.com.',
    ),
  )
  .transform((s) => s.toLowerCase());

/** A Software Assurance plan known to the directory (users add more while creating an incident). */
export const SoftwareAssurancePlan = z.strictObject({
  subscriptionNumber: SubscriptionNumber,
  contactEmail: ContactEmail,
  incidents: Incidents,
  // Software Assurance covers on-premises licences.
  deployments: z.array(Deployment).min(1).default(['on-premises']),
  projects: projectsField,
});
export type SoftwareAssurancePlan = z.infer<typeof SoftwareAssurancePlan>;

/** The Microsoft account a directory user has linked to their work account (for purchased incidents). */
export const LinkedMicrosoftAccount = z.strictObject({
  aadObjectId: Guid,
  account: MicrosoftAccount,
});
export type LinkedMicrosoftAccount = z.infer<typeof LinkedMicrosoftAccount>;

/** Everything an organization holds, embedded in Organization as `plans`. */
export const OrganizationPlans = z.strictObject({
  contracts: z.array(ContractPlan).default([]),
  psbcAccounts: z.array(PsbcAccount).default([]),
  loginBenefits: z.array(LoginBenefit).default([]),
  tenantSubscriptions: z.array(TenantSubscription).default([]),
  softwareAssurance: z.array(SoftwareAssurancePlan).default([]),
  microsoftAccounts: z.array(LinkedMicrosoftAccount).default([]),
});
export type OrganizationPlans = z.infer<typeof OrganizationPlans>;
export const EMPTY_PLANS: OrganizationPlans = {
  contracts: [],
  psbcAccounts: [],
  loginBenefits: [],
  tenantSubscriptions: [],
  softwareAssurance: [],
  microsoftAccounts: [],
};

export const SecretKind = z.enum(['access-id', 'password']);
export type SecretKind = z.infer<typeof SecretKind>;

/** One valid contract ID with its access ID and/or password (hashed) and what it grants. */
export const RegistryContract = z
  .strictObject({
    contractId: ContractId,
    // The organizations in which a user may link it; elsewhere the pair is refused like a wrong one.
    organizations: z.array(Id).min(1),
    secrets: z
      .array(z.strictObject({ kind: SecretKind, hash: SecretHash }))
      .min(1)
      .max(2)
      .refine(
        (s) => new Set(s.map((x) => x.kind)).size === s.length,
        'one secret of each kind at most',
      ),
    ...grantShape,
  })
  .superRefine(checkGrant);
export type RegistryContract = z.infer<typeof RegistryContract>;

/** The contract registry: top level of the directory, `contractRegistry`. */
export const ContractRegistry = z.array(RegistryContract);
export type ContractRegistry = z.infer<typeof ContractRegistry>;

/** Every plan kind a user can hold, whatever the group. */
export type PlanKind =
  ContractKind | PsbcPlanKind | LoginBenefitKind | TenantSubscriptionKind | 'software-assurance';

export const PLAN_KIND_LABELS: Record<PlanKind, string> = {
  unified: 'Unified',
  premier: 'Premier',
  'advanced-partner': 'Advanced support for partners',
  'advanced-partner-on-premises': 'Advanced support for partners (on-premises incidents)',
  advantage: 'Advantage (on-premises incidents)',
  'advantage-plus': 'Advantage+ (on-premises incidents)',
  'pay-per-incident': 'Pay per incident',
  'mpn-gold': 'MPN gold incidents',
  'mpn-silver': 'MPN silver incidents',
  'signature-cloud': 'Signature cloud support',
  'individual-incident': 'Individual incident',
  'five-pack': '5-pack of incidents',
  subscription: 'Subscription',
  prodirect: 'ProDirect',
  'software-assurance': 'Software Assurance',
};

/** The SLA table's plan for a plan kind, where the table has one (else the project's plan applies). */
export function slaPlanKindOf(kind: PlanKind, tier?: string): SupportPlanKind | undefined {
  switch (kind) {
    case 'premier':
      return 'premier';
    case 'prodirect':
      return 'professional-direct';
    case 'subscription':
      return 'subscription';
    case 'unified':
      return tier === 'core' || tier === 'advanced' || tier === 'performance'
        ? `unified-${tier}`
        : undefined;
    default:
      return undefined;
  }
}

/** The parts of an organization that the plan checks read; the directory's Organization fits. */
export interface PlansOrgShape {
  id: string;
  projects: ReadonlyArray<{
    id: string;
    deployment: Deployment;
    members: ReadonlyArray<{ aadObjectId: string }>;
  }>;
  plans?: OrganizationPlans;
}

/**
 * Cross-reference checks, for the Directory's superRefine: project ids exist in their organization
 * and match the plan's deployment, ids are unique, the registry names known organizations, and a
 * contract both pre-linked and in the registry grants the same thing in both places.
 */
export function checkPlans(
  d: { organizations: readonly PlansOrgShape[]; contractRegistry?: ContractRegistry },
  ctx: z.RefinementCtx,
): void {
  const issue = (message: string, path: (string | number)[]) =>
    ctx.addIssue({ code: 'custom', message, path });
  const orgIds = new Set(d.organizations.map((o) => o.id));
  const registry = new Map<string, { grant: ContractGrant; at: number }>();
  (d.contractRegistry ?? []).forEach((c, ci) => {
    if (registry.has(c.contractId))
      issue(`contract ${c.contractId} is in the registry twice`, [
        'contractRegistry',
        ci,
        'contractId',
      ]);
    registry.set(c.contractId, { grant: c, at: ci });
    c.organizations.forEach((o, i) => {
      if (!orgIds.has(o))
        issue(`unknown organization "${o}"`, ['contractRegistry', ci, 'organizations', i]);
    });
    for (const o of c.organizations) {
      const org = d.organizations.find((x) => x.id === o);
      if (org)
        checkProjects(org, c.projects, [c.deployment], ['contractRegistry', ci, 'projects'], issue);
    }
  });

  d.organizations.forEach((org, oi) => {
    const plans = org.plans;
    if (!plans) return;
    const at = (...p: (string | number)[]) => ['organizations', oi, 'plans', ...p];
    const members = new Set(org.projects.flatMap((p) => p.members.map((m) => m.aadObjectId)));
    const unique = (what: string, ids: string[], path: (i: number) => (string | number)[]) => {
      const seen = new Set<string>();
      ids.forEach((id, i) => {
        if (seen.has(id)) issue(`duplicate ${what} "${id}"`, path(i));
        seen.add(id);
      });
    };

    unique(
      'contract',
      plans.contracts.map((c) => c.contractId),
      (i) => at('contracts', i, 'contractId'),
    );
    plans.contracts.forEach((c, ci) => {
      checkProjects(org, c.projects, [c.deployment], at('contracts', ci, 'projects'), issue);
      const reg = registry.get(c.contractId);
      if (reg && !sameGrant(reg.grant, c))
        issue(
          `contract ${c.contractId} grants differently here and in contractRegistry[${reg.at}]`,
          at('contracts', ci),
        );
      c.linkedTo.forEach((l, li) => {
        if (!members.has(l.aadObjectId))
          issue(
            `${l.aadObjectId} is not a member of any project of ${org.id}`,
            at('contracts', ci, 'linkedTo', li, 'aadObjectId'),
          );
      });
    });

    unique(
      'PSBC account',
      plans.psbcAccounts.map((a) => a.id),
      (i) => at('psbcAccounts', i, 'id'),
    );
    plans.psbcAccounts.forEach((a, ai) => {
      unique(
        'PSBC plan',
        a.plans.map((p) => p.id),
        (i) => at('psbcAccounts', ai, 'plans', i, 'id'),
      );
      a.plans.forEach((p, pi) =>
        checkProjects(
          org,
          p.projects,
          ['on-premises'],
          at('psbcAccounts', ai, 'plans', pi, 'projects'),
          issue,
        ),
      );
    });

    unique(
      'login benefit',
      plans.loginBenefits.map((b) => b.id),
      (i) => at('loginBenefits', i, 'id'),
    );
    plans.loginBenefits.forEach((b, bi) =>
      checkProjects(org, b.projects, b.deployments, at('loginBenefits', bi, 'projects'), issue),
    );

    unique(
      'tenant subscription',
      plans.tenantSubscriptions.map((s) => s.id),
      (i) => at('tenantSubscriptions', i, 'id'),
    );
    plans.tenantSubscriptions.forEach((s, si) =>
      checkProjects(
        org,
        s.projects,
        s.deployments,
        at('tenantSubscriptions', si, 'projects'),
        issue,
      ),
    );

    unique(
      'Software Assurance subscription',
      plans.softwareAssurance.map((s) => s.subscriptionNumber),
      (i) => at('softwareAssurance', i, 'subscriptionNumber'),
    );
    plans.softwareAssurance.forEach((s, si) =>
      checkProjects(org, s.projects, s.deployments, at('softwareAssurance', si, 'projects'), issue),
    );

    unique(
      'Microsoft account link for',
      plans.microsoftAccounts.map((m) => m.aadObjectId),
      (i) => at('microsoftAccounts', i, 'aadObjectId'),
    );
    plans.microsoftAccounts.forEach((m, mi) => {
      if (!members.has(m.aadObjectId))
        issue(
          `${m.aadObjectId} is not a member of any project of ${org.id}`,
          at('microsoftAccounts', mi, 'aadObjectId'),
        );
    });
  });
}

function checkProjects(
  org: PlansOrgShape,
  projects: readonly string[] | undefined,
  deployments: readonly Deployment[],
  path: (string | number)[],
  issue: (message: string, path: (string | number)[]) => void,
): void {
  projects?.forEach((id, i) => {
    const p = org.projects.find((x) => x.id === id);
    if (!p) issue(`unknown project "${id}" in organization ${org.id}`, [...path, i]);
    else if (!deployments.includes(p.deployment))
      issue(
        `project ${id} is ${p.deployment}, which this plan does not cover (${deployments.join(', ')})`,
        [...path, i],
      );
  });
}

function sameGrant(a: ContractGrant, b: ContractGrant): boolean {
  return (
    a.kind === b.kind &&
    a.tier === b.tier &&
    a.deployment === b.deployment &&
    a.incidents === b.incidents &&
    JSON.stringify(a.projects ?? null) === JSON.stringify(b.projects ?? null)
  );
}

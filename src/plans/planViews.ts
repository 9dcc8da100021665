import { z } from 'zod';
import type { UserContext } from '../domain/user.js';
import { messageView, type View } from '../flows/views.js';
import { allEntitlements, type Entitlement, type EntitlementGroup } from './entitlements.js';
import type {
  CurrentOrganization,
  PlanError,
  PlanResult,
  PlanService,
  SupportPlansView,
} from './planService.js';
import { ContractId, type Deployment } from './planSchema.js';

// "support plans" in Teams (SPEC §4): the card actions (`plans.*`), and the views built from
// PlanService's answers. The bot parses the action and sends the view; every decision is here.
// A secret typed into "Add contract" goes to PlanService and nowhere else: no view carries it.

const Text = (max: number) => z.string().max(max).optional();
const Where = { orgId: Text(64), projectId: Text(64) };
const ContractRef = z.string().trim().min(1).max(64);

export const PlansAction = z.discriminatedUnion('verb', [
  // The pickers of the plans card: organisation (when several) and project.
  z.object({ verb: z.literal('plans.show'), data: z.object(Where) }),
  z.object({
    verb: z.literal('plans.switchOrg'),
    data: z.object({ orgId: z.string().min(1).max(64), projectId: Text(64) }),
  }),
  z.object({ verb: z.literal('plans.addContractForm'), data: z.object(Where) }),
  z.object({
    verb: z.literal('plans.addContract'),
    // Capped generously: PlanService refuses long secrets itself, with the same generic answer.
    data: z.object({ ...Where, contractId: Text(200), secret: Text(2000) }),
  }),
  z.object({
    verb: z.literal('plans.removeContract'),
    data: z.object({ ...Where, contractId: ContractRef }),
  }),
  z.object({
    verb: z.literal('plans.removeConfirm'),
    data: z.object({ ...Where, contractId: ContractRef }),
  }),
  z.object({ verb: z.literal('plans.addSaForm'), data: z.object(Where) }),
  z.object({
    verb: z.literal('plans.addSa'),
    data: z.object({ ...Where, subscriptionNumber: Text(200), contactEmail: Text(400) }),
  }),
]);
export type PlansAction = z.infer<typeof PlansAction>;

/** What a typed message about plans asks for (src/intents.ts). */
export type PlansIntent = 'plans' | 'addContract' | 'addSoftwareAssurance' | 'organization';

type NoticeColor = 'Good' | 'Warning' | 'Attention';
interface Notice {
  text: string;
  color: NoticeColor;
}

/** "Contoso Finance and Operations (cloud)", unless the name already says which. */
function withDeployment(name: string, deployment: Deployment): string {
  return name.toLowerCase().includes(deployment) ? name : `${name} (${deployment})`;
}

/** Runs plans intents and card actions against PlanService and answers with the next card. */
export class PlanViews {
  constructor(private readonly plans: PlanService) {}

  async onIntent(user: UserContext, intent: PlansIntent): Promise<View> {
    switch (intent) {
      case 'plans':
        return this.show(user, {});
      case 'organization': {
        const current = await this.plans.currentOrganization(user);
        return current.ok ? organizationView(current.value) : errorView(current.error);
      }
      case 'addContract':
      case 'addSoftwareAssurance': {
        const current = await this.plans.currentOrganization(user);
        if (!current.ok) return errorView(current.error);
        const where = { orgId: current.value.current.id, orgName: current.value.current.name, projectId: '' };
        return intent === 'addContract' ? addContractView(where) : addSaView(where);
      }
    }
  }

  async act(user: UserContext, action: PlansAction): Promise<View> {
    switch (action.verb) {
      case 'plans.show':
        return this.show(user, action.data);
      case 'plans.switchOrg':
        return this.show(user, action.data);
      case 'plans.addContractForm':
      case 'plans.addSaForm': {
        const org = await this.orgOf(user, action.data.orgId);
        if (!org.ok) return errorView(org.error);
        const where = { ...org.value, projectId: action.data.projectId ?? '' };
        return action.verb === 'plans.addContractForm' ? addContractView(where) : addSaView(where);
      }
      case 'plans.addContract':
        return this.addContract(user, action.data);
      case 'plans.removeContract':
        return this.confirmRemove(user, action.data);
      case 'plans.removeConfirm': {
        const org = await this.orgOf(user, action.data.orgId);
        if (!org.ok) return errorView(org.error);
        const removed = await this.plans.removeContract(user, org.value.orgId, action.data.contractId);
        const notice: Notice = removed.ok
          ? {
              text: `Contract ${removed.value.contractId} is no longer linked to your login in ${org.value.orgName}.`,
              color: 'Good',
            }
          : { text: removed.error.message, color: 'Attention' };
        return this.show(user, action.data, notice);
      }
      case 'plans.addSa':
        return this.addSa(user, action.data);
    }
  }

  /**
   * The plans card for the organisation on the card (made current: it is the one the user is
   * working in) and its project, or the first project when that one isn't theirs there.
   */
  private async show(
    user: UserContext,
    where: { orgId?: string | undefined; projectId?: string | undefined },
    notice?: Notice,
  ): Promise<View> {
    const current = await this.plans.currentOrganization(user);
    if (!current.ok) return errorView(current.error);
    let switched: string | undefined;
    if (where.orgId && where.orgId !== current.value.current.id) {
      const set = await this.plans.setCurrentOrganization(user, where.orgId);
      if (!set.ok) return errorView(set.error);
      switched = set.value.current.name;
    }
    let result = await this.plans.supportPlans(user, where.projectId || undefined);
    if (!result.ok && result.error.code === 'project.unknown' && where.projectId)
      result = await this.plans.supportPlans(user);
    if (!result.ok) return errorView(result.error);
    const v = result.value;
    const shown =
      notice ??
      (switched
        ? { text: `Your current organisation is now ${switched}.`, color: 'Good' as const }
        : !v.remembered && v.choices.length > 1
          ? {
              text: `You belong to ${v.choices.length} organisations: this is ${v.current.name}. Choose another under Organisation.`,
              color: 'Warning' as const,
            }
          : undefined);
    return supportPlansView(v, shown);
  }

  private async addContract(
    user: UserContext,
    data: Extract<PlansAction, { verb: 'plans.addContract' }>['data'],
  ): Promise<View> {
    const org = await this.orgOf(user, data.orgId);
    if (!org.ok) return errorView(org.error);
    const typed = data.contractId ?? '';
    const secret = data.secret ?? '';
    const added = await this.plans.addContract(user, org.value.orgId, typed, secret);
    if (added.ok) {
      const a = added.value;
      const text = a.alreadyLinked
        ? `Contract ${a.contractId} (${a.name}) was already linked to your login in ${org.value.orgName}.`
        : `Contract ${a.contractId} (${a.name}) is now linked to your login in ${org.value.orgName}.`;
      return this.show(user, data, { text, color: 'Good' });
    }
    // Give back the contract ID only when it looks like one and isn't what went in the secret
    // field: a user who swapped the fields must not see their access ID on the card.
    const id = ContractId.safeParse(typed);
    const keep = id.success && typed.trim() !== secret.trim() ? typed.trim() : '';
    return addContractView({
      ...org.value,
      projectId: data.projectId ?? '',
      contractId: keep,
      error: added.error.message,
    });
  }

  private async confirmRemove(
    user: UserContext,
    data: Extract<PlansAction, { verb: 'plans.removeContract' }>['data'],
  ): Promise<View> {
    const org = await this.orgOf(user, data.orgId);
    if (!org.ok) return errorView(org.error);
    const plans = await this.plans.supportPlans(user, data.projectId || undefined);
    const id = ContractId.safeParse(data.contractId);
    const contractId = id.success ? id.data : data.contractId;
    const e = plans.ok
      ? allEntitlements(plans.value.report).find(
          (x) => x.contractId === contractId && x.source === 'user',
        )
      : undefined;
    if (!e)
      return this.show(user, data, {
        text: `No ${id.success ? `contract ${contractId}` : 'such contract'} that you added is linked to your login in ${org.value.orgName}.`,
        color: 'Attention',
      });
    return {
      card: 'plansRemove',
      data: {
        orgId: org.value.orgId,
        orgName: org.value.orgName,
        projectId: data.projectId ?? '',
        contractId,
        name: e.name,
      },
    };
  }

  private async addSa(
    user: UserContext,
    data: Extract<PlansAction, { verb: 'plans.addSa' }>['data'],
  ): Promise<View> {
    const org = await this.orgOf(user, data.orgId);
    if (!org.ok) return errorView(org.error);
    const subscriptionNumber = data.subscriptionNumber ?? '';
    const contactEmail = data.contactEmail ?? '';
    const added = await this.plans.addSoftwareAssurance(
      user,
      org.value.orgId,
      subscriptionNumber,
      contactEmail,
    );
    if (added.ok) {
      const a = added.value;
      const text = a.alreadyAdded
        ? `Software Assurance plan ${a.subscriptionNumber} was already added.`
        : `Software Assurance plan ${a.subscriptionNumber} (contact ${a.contactEmail}) is added to your support plans in ${org.value.orgName}.`;
      return this.show(user, data, { text, color: 'Good' });
    }
    const errors = { subscriptionNumber: '', contactEmail: '' };
    if (added.error.field) errors[added.error.field] = added.error.message;
    return addSaView({
      ...org.value,
      projectId: data.projectId ?? '',
      subscriptionNumber,
      contactEmail,
      errors,
      ...(added.error.field ? {} : { error: added.error.message }),
    });
  }

  /** The organisation a card acts in: the one it names, else the current one. */
  private async orgOf(
    user: UserContext,
    orgId: string | undefined,
  ): Promise<PlanResult<{ orgId: string; orgName: string }>> {
    const current = await this.plans.currentOrganization(user);
    if (!current.ok) return current;
    const org = orgId
      ? current.value.choices.find((o) => o.id === orgId)
      : current.value.current;
    if (!org)
      return {
        ok: false,
        error: {
          code: 'org.unknown',
          message: `That card is for an organisation you no longer belong to. Choose one of yours: ${current.value.choices.map((o) => o.name).join(', ')}.`,
        },
      };
    return { ok: true, value: { orgId: org.id, orgName: org.name } };
  }
}

// ---- views -------------------------------------------------------------------------------------

export function supportPlansView(v: SupportPlansView, notice?: Notice): View {
  const r = v.report;
  return {
    card: 'plansList',
    data: {
      orgId: r.orgId,
      orgName: r.orgName,
      projectId: r.projectId,
      projectName: withDeployment(r.projectName, r.deployment),
      notice: notice?.text ?? '',
      noticeColor: notice?.color ?? 'Default',
      manyOrgs: v.choices.length > 1,
      orgChoices: v.choices.map((o) => ({ title: o.name, value: o.id })),
      manyProjects: v.projects.length > 1,
      projectChoices: v.projects.map((p) => ({
        title: withDeployment(p.name, p.deployment),
        value: p.id,
      })),
      groups: r.groups.map(groupView),
    },
  };
}

function groupView(g: EntitlementGroup) {
  return {
    title: g.title,
    empty: g.entitlements.length === 0,
    missing: g.missing,
    guidance: g.guidance ?? '',
    entitlements: g.entitlements.map(entitlementView),
  };
}

function entitlementView(e: Entitlement) {
  // "Premier (Premier Support for Enterprise)"; "Unified Advanced" already names its tier.
  const tier = e.tier && !e.name.toLowerCase().includes(e.tier.toLowerCase()) ? ` (${e.tier})` : '';
  return {
    title: `${e.name}${tier}`,
    why: e.why,
    incidents: e.incidents.limited
      ? `${e.incidents.left} of ${e.incidents.total} left`
      : 'Unlimited',
    status: e.usable ? 'Usable for an incident' : `Not usable: ${e.notUsableReason ?? ''}`.trim(),
    statusColor: e.usable ? 'Good' : 'Attention',
    // Only contracts added in Teams can be removed here; the administrator's stay.
    removable: e.group === 'contract' && e.source === 'user' && !!e.contractId,
    contractId: e.contractId ?? '',
  };
}

interface FormWhere {
  orgId: string;
  orgName: string;
  projectId: string;
}

/** The Add contract form. The secret input is always empty: no secret ever comes back. */
export function addContractView(w: FormWhere & { contractId?: string; error?: string }): View {
  return {
    card: 'plansAddContract',
    data: {
      orgId: w.orgId,
      orgName: w.orgName,
      projectId: w.projectId,
      contractId: w.contractId ?? '',
      error: w.error ?? '',
    },
  };
}

export function addSaView(
  w: FormWhere & {
    subscriptionNumber?: string;
    contactEmail?: string;
    errors?: { subscriptionNumber: string; contactEmail: string };
    error?: string;
  },
): View {
  return {
    card: 'plansAddSa',
    data: {
      orgId: w.orgId,
      orgName: w.orgName,
      projectId: w.projectId,
      subscriptionNumber: w.subscriptionNumber ?? '',
      contactEmail: w.contactEmail ?? '',
      errors: w.errors ?? { subscriptionNumber: '', contactEmail: '' },
      error: w.error ?? '',
    },
  };
}

export function organizationView(c: CurrentOrganization): View {
  return {
    card: 'plansOrganization',
    data: {
      orgId: c.current.id,
      orgName: c.current.name,
      many: c.choices.length > 1,
      choices: c.choices.map((o) => ({ title: o.name, value: o.id })),
      others: c.choices
        .filter((o) => o.id !== c.current.id)
        .map((o) => o.name)
        .join(', '),
    },
  };
}

function errorView(e: PlanError): View {
  return messageView('Support plans', e.message);
}

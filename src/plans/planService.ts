import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { UserContext } from '../domain/user.js';
import type { Logger } from '../logger.js';
import {
  ConflictError,
  type IndexSpec,
  type Store,
  StoreUnavailableError,
  type WriteOp,
} from '../store/store.js';
import type { Clock } from '../time.js';
import {
  allEntitlements,
  contractName,
  deriveEntitlements,
  type EntitlementReport,
  type LinkedContract,
  type PlanLinks,
  type PlannedOrganization,
  type PlannedProject,
  type UsablePlan,
  usableContracts,
} from './entitlements.js';
import {
  ContactEmail,
  ContractId,
  type ContractRegistry,
  type Deployment,
  EMPTY_PLANS,
  type Incidents,
  type SecretKind,
  SubscriptionNumber,
} from './planSchema.js';
import { costOf, decoyVerify, verifySecret } from './secretHash.js';

// Support plans over the Store: linking contracts (checked against the registry, throttled),
// Software Assurance plans, the current organization, and consuming incidents atomically.
// Every failure is a typed result with a message fit for the user; secrets are never logged,
// stored or returned.

/** Store collections of this service (merge into the composition root's list). */
export const PLAN_COLLECTIONS = {
  /** `<aadObjectId>|<orgId>` -> PlanLinks: contracts and SA plans the user added in that org. */
  links: 'planLinks',
  /** `<aadObjectId>` -> ThrottleDoc: recent add-contract attempts. */
  throttle: 'planThrottle',
  /** plan ref -> UsageDoc: incidents consumed from a limited plan, with idempotency keys. */
  usage: 'planUsage',
  /** `<aadObjectId>` -> UserPrefs: the current organization. */
  prefs: 'userPrefs',
} as const;

/** Every lookup is by id: no secondary index is needed. */
export const PLAN_INDEXES: IndexSpec = {};

export interface ThrottleDoc {
  attempts: { id: string; at: string }[];
}
export interface UsageDoc {
  ref: string;
  used: number;
  /** idempotency key -> when and by whom; bounded by the plan's incident count. */
  consumed: Record<string, { at: string; by: string }>;
}
export interface UserPrefs {
  currentOrgId?: string;
  updatedAt: string;
}

/** The directory as this service reads it; the Directory with `plans` and `contractRegistry` fits. */
export interface PlansDirectory {
  organizations: readonly PlannedOrganization[];
  contractRegistry?: ContractRegistry;
}

export type PlanErrorCode =
  | 'org.none'
  | 'org.unknown'
  | 'project.unknown'
  | 'contract.incomplete'
  | 'contract.invalid'
  | 'contract.throttled'
  | 'contract.notLinked'
  | 'contract.limit'
  | 'sa.invalid'
  | 'sa.limit'
  | 'plan.unknown'
  | 'plan.notUsable'
  | 'plan.noIncidentsLeft'
  | 'plan.busy'
  | 'store.unavailable';

export interface PlanError {
  code: PlanErrorCode;
  /** Fit to show the user as is. */
  message: string;
  /** contract.throttled: how long to wait. */
  retryAfterSeconds?: number;
  /** contract.invalid: attempts left before the wait. */
  attemptsLeft?: number;
  /** sa.invalid: which field, for the card to mark. */
  field?: 'subscriptionNumber' | 'contactEmail';
}

export type PlanResult<T> = { ok: true; value: T } | { ok: false; error: PlanError };

export interface OrgChoice {
  id: string;
  name: string;
}
export interface ProjectChoice {
  id: string;
  name: string;
  deployment: Deployment;
}
export interface CurrentOrganization {
  current: OrgChoice;
  choices: OrgChoice[];
  /** False when nothing (or an organization no longer available) was remembered. */
  remembered: boolean;
}
export interface SupportPlansView extends CurrentOrganization {
  projects: ProjectChoice[];
  report: EntitlementReport;
}
export interface AddedContract {
  contractId: string;
  name: string;
  tier: string;
  deployment: Deployment;
  incidents: Incidents;
  /** Already linked before: nothing changed. */
  alreadyLinked: boolean;
}
export interface AddedSa {
  subscriptionNumber: string;
  contactEmail: string;
  alreadyAdded: boolean;
}
export interface Consumption {
  ref: string;
  limited: boolean;
  /** Incidents left after this one, for a limited plan. */
  left?: number;
  /** The idempotency key had already consumed one: nothing more was taken. */
  alreadyConsumed: boolean;
}

/** A throttle slot taken by one attempt; `waitIfFailed` seconds once no attempts are left. */
interface Slot {
  id: string;
  attemptsLeft: number;
  waitIfFailed: number;
}

export interface ThrottlePolicy {
  maxFailures: number;
  windowMs: number;
}
export const DEFAULT_THROTTLE: ThrottlePolicy = { maxFailures: 5, windowMs: 15 * 60_000 };

const MAX_RETRIES = 20;
const MAX_CONTRACTS = 50;
const MAX_SA = 20;
const MAX_SECRET_LENGTH = 256;

const ok = <T>(value: T): PlanResult<T> => ({ ok: true, value });
const fail = <T>(
  code: PlanErrorCode,
  message: string,
  extra: Partial<PlanError> = {},
): PlanResult<T> => ({
  ok: false,
  error: { code, message, ...extra },
});

const INVALID_PAIR =
  "That contract ID and access ID (or password) don't match a contract we know. Check both and try again; " +
  "if you don't have them, ask your account manager (TAM or SAM).";
const UNAVAILABLE =
  "Support plans can't be reached just now. Nothing was changed: try again in a moment.";

export class PlanService {
  private readonly throttle: ThrottlePolicy;

  constructor(
    private readonly deps: {
      store: Store;
      directory: PlansDirectory;
      clock: Clock;
      logger: Logger;
      throttle?: ThrottlePolicy;
      newId?: () => string;
    },
  ) {
    this.throttle = deps.throttle ?? DEFAULT_THROTTLE;
  }

  // ---- organizations -------------------------------------------------------------------------

  /** Organizations of the user's tenant where the user is a member of some project. */
  organizationsOf(user: UserContext): PlannedOrganization[] {
    const tenant = user.tenantId.toLowerCase();
    const me = user.aadObjectId.toLowerCase();
    return this.deps.directory.organizations.filter(
      (o) => o.tenantId.toLowerCase() === tenant && o.projects.some((p) => isMember(p, me)),
    );
  }

  /** The user's current organization (remembered), and the ones they may switch to. */
  currentOrganization(user: UserContext): Promise<PlanResult<CurrentOrganization>> {
    return this.guard(async () => {
      const orgs = this.organizationsOf(user);
      if (orgs.length === 0) return noOrganization();
      const prefs = await this.deps.store.get<UserPrefs>(PLAN_COLLECTIONS.prefs, userKey(user));
      const remembered = orgs.find((o) => o.id === prefs?.value.currentOrgId);
      return ok({
        current: choice(remembered ?? orgs[0]!),
        choices: orgs.map(choice),
        remembered: !!remembered,
      });
    });
  }

  /** Remembers the organization the user works in (LCS: your name in the upper-right corner). */
  setCurrentOrganization(
    user: UserContext,
    orgId: string,
  ): Promise<PlanResult<CurrentOrganization>> {
    return this.guard(async () => {
      const orgs = this.organizationsOf(user);
      const org = orgs.find((o) => o.id === orgId);
      if (!org) return unknownOrganization(orgs);
      await this.update<UserPrefs>(PLAN_COLLECTIONS.prefs, userKey(user), () => ({
        currentOrgId: org.id,
        updatedAt: this.deps.clock.now().toISOString(),
      }));
      this.deps.logger.info({ user: user.aadObjectId, orgId }, 'current organization set');
      return ok({ current: choice(org), choices: orgs.map(choice), remembered: true });
    });
  }

  // ---- entitlements --------------------------------------------------------------------------

  /** "support plans": the current organization, its projects of the user, and one project's report. */
  supportPlans(user: UserContext, projectId?: string): Promise<PlanResult<SupportPlansView>> {
    return this.guard(async () => {
      const current = await this.currentOrganization(user);
      if (!current.ok) return current;
      const org = this.org(current.value.current.id)!;
      const me = user.aadObjectId.toLowerCase();
      const projects = org.projects.filter((p) => isMember(p, me));
      const project =
        projectId === undefined ? projects[0] : projects.find((p) => p.id === projectId);
      if (!project) return unknownProject(org, projects);
      const report = await this.report(user, org, project);
      return ok({ ...current.value, projects: projects.map(projectChoice), report });
    });
  }

  /** For the incident flow: the plans usable for an incident in a project, with tier and incidents left. */
  usableContracts(
    user: UserContext,
    projectId: string,
    options: { includeExhausted?: boolean } = {},
  ): Promise<PlanResult<UsablePlan[]>> {
    return this.guard(async () => {
      const found = this.memberProject(user, projectId);
      if (!found) return fail('project.unknown', "You aren't a member of that project.");
      return ok(usableContracts(await this.report(user, found.org, found.project), options));
    });
  }

  // ---- contracts -----------------------------------------------------------------------------

  /**
   * Links a contract to the user's login in an organization, if the pair is in the registry. A wrong
   * pair gets one generic message; every attempt takes a slot of the throttle before the check (so
   * that parallel guesses are counted too), and a success gives its slot back.
   */
  addContract(
    user: UserContext,
    orgId: string,
    contractId: string,
    secret: string,
  ): Promise<PlanResult<AddedContract>> {
    return this.guard(async () => {
      const orgs = this.organizationsOf(user);
      const org = orgs.find((o) => o.id === orgId);
      if (!org) return unknownOrganization(orgs);
      if (!contractId.trim() || !secret.trim())
        return fail(
          'contract.incomplete',
          'Enter both the contract ID and the access ID (or password).',
        );

      const slot = await this.takeAttempt(user);
      if (!slot.ok) return slot;

      const match = await this.verify(org.id, contractId, secret);
      if (!match) {
        // Not the typed contract ID either: a user who swapped the fields would log their secret.
        this.deps.logger.warn(
          { user: user.aadObjectId, orgId, attemptsLeft: slot.value.attemptsLeft },
          'contract link refused',
        );
        const { attemptsLeft, waitIfFailed } = slot.value;
        return attemptsLeft > 0
          ? fail(
              'contract.invalid',
              `${INVALID_PAIR} You can try ${attemptsLeft} more time${attemptsLeft === 1 ? '' : 's'} before having to wait.`,
              { attemptsLeft },
            )
          : fail(
              'contract.invalid',
              `${INVALID_PAIR} Too many unsuccessful attempts: wait ${formatWait(waitIfFailed)} before trying again.`,
              { attemptsLeft: 0, retryAfterSeconds: waitIfFailed },
            );
      }

      const { contract, secretKind } = match;
      const me = user.aadObjectId.toLowerCase();
      const preLinked = (org.plans ?? EMPTY_PLANS).contracts.some(
        (c) => c.contractId === contract.contractId && c.linkedTo.some((l) => l.aadObjectId === me),
      );
      let alreadyLinked = preLinked;
      let tooMany = false;
      const now = this.deps.clock.now().toISOString();
      await this.retry(async () => {
        const [links, throttle] = await Promise.all([
          this.deps.store.get<PlanLinks>(PLAN_COLLECTIONS.links, linksKey(user, org.id)),
          this.deps.store.get<ThrottleDoc>(PLAN_COLLECTIONS.throttle, userKey(user)),
        ]);
        const ops: WriteOp[] = [];
        if (throttle) {
          const attempts = throttle.value.attempts.filter((a) => a.id !== slot.value.id);
          ops.push({
            op: 'put',
            collection: PLAN_COLLECTIONS.throttle,
            id: userKey(user),
            value: { attempts },
            ifMatch: throttle.eTag,
          });
        }
        const current = links?.value ?? emptyLinks(user, org.id, now);
        alreadyLinked =
          preLinked || current.contracts.some((c) => c.contractId === contract.contractId);
        tooMany = !alreadyLinked && current.contracts.length >= MAX_CONTRACTS;
        if (!alreadyLinked && !tooMany) {
          const link: LinkedContract = {
            contractId: contract.contractId,
            secretKind,
            linkedAt: now,
          };
          ops.push({
            op: 'put',
            collection: PLAN_COLLECTIONS.links,
            id: linksKey(user, org.id),
            value: { ...current, contracts: [...current.contracts, link], updatedAt: now },
            ifMatch: links?.eTag ?? 'absent',
          });
        }
        if (ops.length > 0) await this.deps.store.write(ops);
      });
      if (tooMany)
        return fail(
          'contract.limit',
          `You have ${MAX_CONTRACTS} contracts linked in ${org.name}: remove one first.`,
        );
      this.deps.logger.info(
        { user: user.aadObjectId, orgId, contractId: contract.contractId, alreadyLinked },
        'contract linked',
      );
      return ok({
        contractId: contract.contractId,
        name: contractName(contract),
        tier: contract.tier,
        deployment: contract.deployment,
        incidents: contract.incidents,
        alreadyLinked,
      });
    });
  }

  /** Unlinks a contract the user added in Teams (contracts linked in the directory stay). */
  removeContract(
    user: UserContext,
    orgId: string,
    contractId: string,
  ): Promise<PlanResult<{ contractId: string }>> {
    return this.guard(async () => {
      const orgs = this.organizationsOf(user);
      const org = orgs.find((o) => o.id === orgId);
      if (!org) return unknownOrganization(orgs);
      const id = ContractId.safeParse(contractId);
      const wanted = id.success ? id.data : contractId.trim();
      let removed = false;
      await this.retry(async () => {
        const links = await this.deps.store.get<PlanLinks>(
          PLAN_COLLECTIONS.links,
          linksKey(user, org.id),
        );
        removed = !!links?.value.contracts.some((c) => c.contractId === wanted);
        if (!links || !removed) return;
        const now = this.deps.clock.now().toISOString();
        const value: PlanLinks = {
          ...links.value,
          contracts: links.value.contracts.filter((c) => c.contractId !== wanted),
          updatedAt: now,
        };
        await this.deps.store.write([
          {
            op: 'put',
            collection: PLAN_COLLECTIONS.links,
            id: links.id,
            value,
            ifMatch: links.eTag,
          },
        ]);
      });
      if (!removed) {
        const inDirectory = (org.plans ?? EMPTY_PLANS).contracts.some(
          (c) =>
            c.contractId === wanted &&
            c.linkedTo.some((l) => l.aadObjectId === user.aadObjectId.toLowerCase()),
        );
        return fail(
          'contract.notLinked',
          inDirectory
            ? `Contract ${wanted} was linked by your administrator; ask them to remove it.`
            : // Echo only what is shaped like a contract ID: never a secret typed in the wrong place.
              `No ${id.success ? `contract ${wanted}` : 'such contract'} is linked to your login in ${org.name}.`,
        );
      }
      this.deps.logger.info(
        { user: user.aadObjectId, orgId, contractId: wanted },
        'contract unlinked',
      );
      return ok({ contractId: wanted });
    });
  }

  // ---- Software Assurance ----------------------------------------------------------------------

  /** Adds a Software Assurance plan (LCS: while creating an incident). Validated, idempotent by number. */
  addSoftwareAssurance(
    user: UserContext,
    orgId: string,
    subscriptionNumber: string,
    email: string,
  ): Promise<PlanResult<AddedSa>> {
    return this.guard(async () => {
      const orgs = this.organizationsOf(user);
      const org = orgs.find((o) => o.id === orgId);
      if (!org) return unknownOrganization(orgs);
      const parsed = SaInput.safeParse({ subscriptionNumber, contactEmail: email });
      if (!parsed.success) {
        const first = parsed.error.issues[0]!;
        const field = first.path[0] === 'contactEmail' ? 'contactEmail' : 'subscriptionNumber';
        return fail('sa.invalid', first.message, { field });
      }
      const sa = parsed.data;
      let alreadyAdded = false;
      let tooMany = false;
      await this.retry(async () => {
        const links = await this.deps.store.get<PlanLinks>(
          PLAN_COLLECTIONS.links,
          linksKey(user, org.id),
        );
        const now = this.deps.clock.now().toISOString();
        const current = links?.value ?? emptyLinks(user, org.id, now);
        alreadyAdded = current.softwareAssurance.some(
          (s) => s.subscriptionNumber === sa.subscriptionNumber,
        );
        tooMany = !alreadyAdded && current.softwareAssurance.length >= MAX_SA;
        if (alreadyAdded || tooMany) return;
        const value: PlanLinks = {
          ...current,
          softwareAssurance: [...current.softwareAssurance, { ...sa, addedAt: now }],
          updatedAt: now,
        };
        await this.deps.store.write([
          {
            op: 'put',
            collection: PLAN_COLLECTIONS.links,
            id: linksKey(user, org.id),
            value,
            ifMatch: links?.eTag ?? 'absent',
          },
        ]);
      });
      if (tooMany)
        return fail(
          'sa.limit',
          `You have ${MAX_SA} Software Assurance plans in ${org.name}: that is the most we keep.`,
        );
      this.deps.logger.info(
        { user: user.aadObjectId, orgId, alreadyAdded },
        'software assurance added',
      );
      return ok({ ...sa, alreadyAdded });
    });
  }

  // ---- incidents -----------------------------------------------------------------------------

  /**
   * Takes one incident from a plan for an incident in `projectId`. Limited plans are decremented
   * atomically (eTag, retried); the same idempotency key never takes two; unlimited plans take none.
   */
  consumeIncident(
    user: UserContext,
    orgId: string,
    ref: string,
    idempotencyKey: string,
    projectId: string,
  ): Promise<PlanResult<Consumption>> {
    return this.guard(async () => {
      const found = this.memberProject(user, projectId);
      if (!found || found.org.id !== orgId)
        return fail('project.unknown', "You aren't a member of that project.");
      const report = await this.report(user, found.org, found.project);
      const e = allEntitlements(report).find((x) => x.ref === ref);
      if (!e)
        return fail(
          'plan.unknown',
          `That support plan isn't available to you in ${found.project.name}.`,
        );
      // No incidents left is decided below, against the stored count, with the refusal it gets there.
      if (!e.usable && e.blockedBy !== 'no-incidents')
        return fail(
          'plan.notUsable',
          `${e.name} can't be used for this incident. ${e.notUsableReason ?? ''}`.trim(),
        );
      if (!e.incidents.limited) return ok({ ref, limited: false, alreadyConsumed: false });

      const total = e.incidents.total;
      const by = user.aadObjectId.toLowerCase();
      for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
        const doc = await this.deps.store.get<UsageDoc>(PLAN_COLLECTIONS.usage, ref);
        const usage = doc?.value ?? { ref, used: 0, consumed: {} };
        if (usage.consumed[idempotencyKey])
          return ok({
            ref,
            limited: true,
            left: Math.max(0, total - usage.used),
            alreadyConsumed: true,
          });
        if (usage.used >= total)
          return fail(
            'plan.noIncidentsLeft',
            `${e.name} has no incidents left (${total} of ${total} used). Choose another support plan for this incident.`,
          );
        const next: UsageDoc = {
          ref,
          used: usage.used + 1,
          consumed: {
            ...usage.consumed,
            [idempotencyKey]: { at: this.deps.clock.now().toISOString(), by },
          },
        };
        try {
          await this.deps.store.write([
            {
              op: 'put',
              collection: PLAN_COLLECTIONS.usage,
              id: ref,
              value: next,
              ifMatch: doc?.eTag ?? 'absent',
            },
          ]);
          this.deps.logger.info({ user: by, ref, left: total - next.used }, 'incident consumed');
          return ok({ ref, limited: true, left: total - next.used, alreadyConsumed: false });
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err; // someone else took one: count again
        }
      }
      return fail(
        'plan.busy',
        'Many incidents are being submitted on this plan right now. Try again in a moment.',
      );
    });
  }

  // ---- internals -----------------------------------------------------------------------------

  private org(orgId: string): PlannedOrganization | undefined {
    return this.deps.directory.organizations.find((o) => o.id === orgId);
  }

  private memberProject(
    user: UserContext,
    projectId: string,
  ): { org: PlannedOrganization; project: PlannedProject } | undefined {
    const me = user.aadObjectId.toLowerCase();
    for (const org of this.organizationsOf(user)) {
      const project = org.projects.find((p) => p.id === projectId && isMember(p, me));
      if (project) return { org, project };
    }
    return undefined;
  }

  /** Derives twice: once to learn which pools are limited, then with their usage read from the store. */
  private async report(
    user: UserContext,
    org: PlannedOrganization,
    project: PlannedProject,
  ): Promise<EntitlementReport> {
    const links = (
      await this.deps.store.get<PlanLinks>(PLAN_COLLECTIONS.links, linksKey(user, org.id))
    )?.value;
    const input = {
      org,
      project,
      user,
      registry: this.deps.directory.contractRegistry ?? [],
      ...(links ? { links } : {}),
    };
    const refs = allEntitlements(deriveEntitlements(input))
      .filter((e) => e.incidents.limited)
      .map((e) => e.ref);
    const docs = await Promise.all(
      refs.map((r) => this.deps.store.get<UsageDoc>(PLAN_COLLECTIONS.usage, r)),
    );
    const usage = new Map(docs.flatMap((d) => (d ? [[d.id, d.value.used] as const] : [])));
    return deriveEntitlements({ ...input, usage });
  }

  /** Checks the pair against the registry; the same work whether or not the contract ID exists. */
  private async verify(orgId: string, contractId: string, secret: string) {
    const registry = this.deps.directory.contractRegistry ?? [];
    const id = ContractId.safeParse(contractId);
    const entry = id.success ? registry.find((c) => c.contractId === id.data) : undefined;
    const typical = registry[0]?.secrets[0] ? costOf(registry[0].secrets[0].hash) : undefined;
    if (!entry || secret.length > MAX_SECRET_LENGTH) {
      await decoyVerify(secret.slice(0, MAX_SECRET_LENGTH), typical);
      return undefined;
    }
    let matched: SecretKind | undefined;
    for (const s of entry.secrets)
      if ((await verifySecret(secret, s.hash)) && !matched) matched = s.kind; // no early exit
    // Linkable only in the organizations the registry names; elsewhere it is simply a wrong pair.
    if (!matched || !entry.organizations.includes(orgId)) return undefined;
    return { contract: entry, secretKind: matched };
  }

  /** Takes a throttle slot for an add-contract attempt, or says how long to wait. */
  private async takeAttempt(user: UserContext): Promise<PlanResult<Slot>> {
    const { maxFailures, windowMs } = this.throttle;
    const id = this.deps.newId?.() ?? randomUUID();
    let result: PlanResult<Slot> | undefined;
    await this.retry(async () => {
      const now = this.deps.clock.now().getTime();
      const doc = await this.deps.store.get<ThrottleDoc>(PLAN_COLLECTIONS.throttle, userKey(user));
      const recent = (doc?.value.attempts ?? [])
        .filter((a) => now - Date.parse(a.at) < windowMs)
        .sort((a, b) => a.at.localeCompare(b.at));
      if (recent.length >= maxFailures) {
        // Free again when enough of the window's attempts have aged out.
        const freeAt = Date.parse(recent[recent.length - maxFailures]!.at) + windowMs;
        const seconds = Math.max(1, Math.ceil((freeAt - now) / 1000));
        this.deps.logger.warn(
          { user: user.aadObjectId, retryAfterSeconds: seconds },
          'contract link throttled',
        );
        result = fail(
          'contract.throttled',
          `Too many unsuccessful attempts to add a contract. Try again in ${formatWait(seconds)}.`,
          { retryAfterSeconds: seconds },
        );
        return;
      }
      const attempts = [...recent, { id, at: new Date(now).toISOString() }];
      await this.deps.store.write([
        {
          op: 'put',
          collection: PLAN_COLLECTIONS.throttle,
          id: userKey(user),
          value: { attempts },
          ifMatch: doc?.eTag ?? 'absent',
        },
      ]);
      const attemptsLeft = maxFailures - attempts.length;
      const oldest = attempts[attempts.length - maxFailures];
      const waitIfFailed = oldest
        ? Math.max(1, Math.ceil((Date.parse(oldest.at) + windowMs - now) / 1000))
        : 0;
      result = ok({ id, attemptsLeft, waitIfFailed });
    });
    return result!;
  }

  /** Runs a read-decide-write step again while its write loses an eTag race. */
  private async retry(step: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await step();
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= MAX_RETRIES) throw err;
      }
    }
  }

  private async update<T>(
    collection: string,
    id: string,
    next: (current: T | undefined) => T,
  ): Promise<void> {
    await this.retry(async () => {
      const doc = await this.deps.store.get<T>(collection, id);
      await this.deps.store.write([
        { op: 'put', collection, id, value: next(doc?.value), ifMatch: doc?.eTag ?? 'absent' },
      ]);
    });
  }

  /** The store being down is an answer for the user, not a crash; other errors go up. */
  private async guard<T>(run: () => Promise<PlanResult<T>>): Promise<PlanResult<T>> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof StoreUnavailableError) {
        this.deps.logger.error({ err }, 'support plans: store unavailable');
        return fail('store.unavailable', UNAVAILABLE);
      }
      if (err instanceof ConflictError) {
        this.deps.logger.warn(
          { collection: err.collection },
          'support plans: too many concurrent changes',
        );
        return fail(
          'plan.busy',
          'Your support plans are being changed from elsewhere right now. Try again in a moment.',
        );
      }
      throw err;
    }
  }
}

/** Add a Software Assurance plan: rules in planSchema (SubscriptionNumber, ContactEmail). */
export const SaInput = z.strictObject({
  subscriptionNumber: SubscriptionNumber,
  contactEmail: ContactEmail,
});

export function linksKey(user: { aadObjectId: string }, orgId: string): string {
  return `${user.aadObjectId.toLowerCase()}|${orgId}`;
}
function userKey(user: { aadObjectId: string }): string {
  return user.aadObjectId.toLowerCase();
}
function emptyLinks(user: UserContext, orgId: string, now: string): PlanLinks {
  return {
    aadObjectId: userKey(user),
    orgId,
    contracts: [],
    softwareAssurance: [],
    updatedAt: now,
  };
}
function isMember(p: PlannedProject, me: string): boolean {
  return p.members.some((m) => m.aadObjectId.toLowerCase() === me);
}
const choice = (o: PlannedOrganization): OrgChoice => ({ id: o.id, name: o.name });
const projectChoice = (p: PlannedProject): ProjectChoice => ({
  id: p.id,
  name: p.name,
  deployment: p.deployment,
});

function noOrganization<T>(): PlanResult<T> {
  return fail(
    'org.none',
    "You aren't a member of any Finance and Operations project of your organization, so no support plans apply. Ask your project owner to add you in LCS.",
  );
}
function unknownOrganization<T>(orgs: PlannedOrganization[]): PlanResult<T> {
  if (orgs.length === 0) return noOrganization();
  return fail(
    'org.unknown',
    `Choose one of your organizations: ${orgs.map((o) => o.name).join(', ')}.`,
  );
}
function unknownProject<T>(
  org: PlannedOrganization,
  projects: readonly PlannedProject[],
): PlanResult<T> {
  return fail(
    'project.unknown',
    projects.length > 0
      ? `Choose one of your projects in ${org.name}: ${projects.map((p) => p.name).join(', ')}.`
      : `You aren't a member of any project in ${org.name}.`,
  );
}

/** "14 minutes", "1 minute", "45 seconds": rounded up, so the user never retries too early. */
export function formatWait(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.ceil(s / 60);
  return `${m} minute${m === 1 ? '' : 's'}`;
}

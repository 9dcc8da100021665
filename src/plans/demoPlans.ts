import { z } from 'zod';
import { formatPath } from '../directory.js';
import { ConfigError } from '../errors.js';
import demoPlansJson from './demoPlans.json' with { type: 'json' };
import {
  checkPlans,
  ContractRegistry,
  EMPTY_PLANS,
  OrganizationPlans,
  type PlansOrgShape,
} from './planSchema.js';

// The demo's support plans (demoPlans.json) and a merge that adds a plans fragment to a directory,
// for tests and for the demo until the directory file embeds `plans` and `contractRegistry` itself.

/**
 * The demo pairs a user can add with "Add contract" (documented for the README). Only their hashes
 * are in demoPlans.json.
 */
export const DEMO_CONTRACTS = [
  {
    contractId: 'DEMO-1234567',
    secretKind: 'access-id',
    secret: 'demo-access-2026',
    grants: 'Advanced support for partners, cloud, unlimited incidents',
  },
  {
    contractId: 'DEMO-7654321',
    secretKind: 'password',
    secret: 'demo-password-2026',
    grants: 'Unified Core, on-premises (Contoso AX 2012 R3), 2 incidents',
  },
] as const;

/** Plans by organization id, and registry entries: the shape of demoPlans.json. */
export const PlansFragment = z.strictObject({
  $comment: z.string().optional(),
  plans: z.record(z.string(), OrganizationPlans),
  contractRegistry: ContractRegistry.default([]),
});
export type PlansFragment = z.infer<typeof PlansFragment>;

export function parsePlansFragment(raw: unknown): PlansFragment {
  const r = PlansFragment.safeParse(raw);
  if (!r.success) throw invalid(r.error);
  return r.data;
}

/** The demo plans, parsed fresh (callers may not share mutable state). */
export function demoPlansFragment(): PlansFragment {
  return parsePlansFragment(structuredClone(demoPlansJson));
}

/** The directory with each organization's plans and the registry added, cross-checked by checkPlans. */
export function withPlans<D extends { organizations: readonly PlansOrgShape[] }>(
  directory: D,
  fragment: PlansFragment,
): Omit<D, 'organizations'> & {
  organizations: (D['organizations'][number] & { plans: OrganizationPlans })[];
  contractRegistry: ContractRegistry;
} {
  const unknown = Object.keys(fragment.plans).filter(
    (id) => !directory.organizations.some((o) => o.id === id),
  );
  if (unknown.length > 0)
    throw new ConfigError(`Support plans for unknown organizations: ${unknown.join(', ')}`);
  const merged = {
    ...directory,
    organizations: directory.organizations.map((o) => ({
      ...o,
      plans: fragment.plans[o.id] ?? EMPTY_PLANS,
    })),
    contractRegistry: fragment.contractRegistry,
  };
  const r = z
    .custom<typeof merged>()
    .superRefine((d, ctx) => checkPlans(d, ctx))
    .safeParse(merged);
  if (!r.success) throw invalid(r.error);
  return merged;
}

/** `organizations[0].plans.contracts[1].incidents: ...`, one line per issue, as the directory reports. */
function invalid(error: z.ZodError): ConfigError {
  const lines = error.issues.map((i) => `${formatPath(i.path) || '(root)'}: ${i.message}`);
  return new ConfigError(`Invalid support plans:\n${lines.join('\n')}`);
}

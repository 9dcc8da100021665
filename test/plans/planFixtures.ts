import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { UserContext } from '../../src/domain/user.js';
import { demoPlansFragment, withPlans } from '../../src/plans/demoPlans.js';
import { PLAN_INDEXES, PlanService, type PlansDirectory } from '../../src/plans/planService.js';
import { openLowdbStore } from '../../src/store/lowdbStore.js';
import { MemoryStore } from '../../src/store/memoryStore.js';
import type { Store } from '../../src/store/store.js';
import { ManualClock } from '../../src/time.js';
import { demoDirectory, demoUser } from '../helpers/fixtures.js';

/**
 * The demo directory with Contoso Ltd alone in its tenant and the plans of demoPlans.json;
 * `secondOrg` adds Contoso EMEA (same tenant, Alex a member, no plans).
 */
export function plansDirectory(options: { secondOrg?: boolean } = {}) {
  const base = demoDirectory();
  base.organizations = base.organizations.filter((o) => o.id !== 'contoso-europe');
  if (options.secondOrg) {
    const contoso = base.organizations[0]!;
    const fo = contoso.projects[0]!;
    base.organizations.splice(1, 0, {
      ...contoso,
      id: 'contoso-emea',
      name: 'Contoso EMEA',
      projects: [{ ...fo, id: 'emea-fo', name: 'Contoso EMEA Finance', members: [fo.members[0]!] }],
    });
  }
  return withPlans(base, demoPlansFragment());
}

export const alex = demoUser('alex');
export const megan = demoUser('megan');
export const adele = demoUser('adele');
export const fabrikamOwner: UserContext = {
  aadObjectId: '11111111-0000-0000-0000-000000000001',
  tenantId: '11111111-1111-1111-1111-111111111111',
  name: 'Fabrikam Owner',
  email: 'owner@fabrikam.example',
};

/** A pino logger that keeps every line, to check what is (and isn't) logged. */
export function recordingLogger() {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
  return { logger, text: () => lines.join('') };
}

export interface Backend {
  name: string;
  durable: boolean;
  open(): Promise<{ store: Store; reopen?: () => Promise<Store>; cleanup(): Promise<void> }>;
}

export const backends: Backend[] = [
  {
    name: 'MemoryStore',
    durable: false,
    open: async () => ({
      store: new MemoryStore({ indexes: PLAN_INDEXES }),
      cleanup: async () => {},
    }),
  },
  {
    name: 'lowdb',
    durable: true,
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'plans-'));
      return {
        store: await openLowdbStore({ dir, indexes: PLAN_INDEXES }),
        reopen: () => openLowdbStore({ dir, indexes: PLAN_INDEXES }),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
];

export function makeService(
  store: Store,
  options: { directory?: PlansDirectory; clock?: ManualClock } = {},
) {
  const clock = options.clock ?? new ManualClock(new Date('2026-11-21T10:00:00Z'));
  const log = recordingLogger();
  const service = new PlanService({
    store,
    directory: options.directory ?? plansDirectory(),
    clock,
    logger: log.logger,
  });
  return { service, clock, log };
}

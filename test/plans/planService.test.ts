import { expect } from 'chai';
import { allEntitlements } from '../../src/plans/entitlements.js';
import { DEMO_CONTRACTS } from '../../src/plans/demoPlans.js';
import { formatWait, PLAN_COLLECTIONS, type PlanResult } from '../../src/plans/planService.js';
import { FaultyStore } from '../../src/store/faultyStore.js';
import { MemoryStore } from '../../src/store/memoryStore.js';
import type { Store } from '../../src/store/store.js';
import { ManualClock } from '../../src/time.js';
import {
  adele,
  alex,
  backends,
  fabrikamOwner,
  makeService,
  megan,
  plansDirectory,
} from './planFixtures.js';

const [ACCESS, PASSWORD] = DEMO_CONTRACTS;
const MINUTE = 60_000;

function value<T>(r: PlanResult<T>): T {
  if (!r.ok) throw new Error(`expected success, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}
function error<T>(r: PlanResult<T>) {
  if (r.ok) throw new Error('expected a failure');
  return r.error;
}

describe('planService', () => {
  let store: Store;
  beforeEach(() => {
    store = new MemoryStore();
  });
  afterEach(() => store.close());

  describe('addContract', () => {
    it('links a valid contract ID and access ID, and lists it with why', async () => {
      const { service } = makeService(store);
      const added = value(
        await service.addContract(alex, 'contoso', ' demo-1234567 ', ACCESS.secret),
      );
      expect(added).to.deep.equal({
        contractId: 'DEMO-1234567',
        name: 'Advanced support for partners',
        tier: 'Advanced support for partners',
        deployment: 'cloud',
        incidents: 'unlimited',
        alreadyLinked: false,
      });
      const view = value(await service.supportPlans(alex, 'contoso-fo'));
      const e = allEntitlements(view.report).find((x) => x.contractId === 'DEMO-1234567')!;
      expect(e).to.include({
        usable: true,
        source: 'user',
        why: 'Linked to your login with contract DEMO-1234567 on 21 Nov 2026.',
      });
    });

    it('accepts the password variant', async () => {
      const { service } = makeService(store);
      expect(
        value(await service.addContract(alex, 'contoso', PASSWORD.contractId, PASSWORD.secret)),
      ).to.include({ name: 'Unified Core', incidents: 2 });
    });

    it('is idempotent: a second add changes nothing', async () => {
      const { service } = makeService(store);
      value(await service.addContract(alex, 'contoso', ACCESS.contractId, ACCESS.secret));
      const again = value(
        await service.addContract(alex, 'contoso', ACCESS.contractId, ACCESS.secret),
      );
      expect(again.alreadyLinked).to.equal(true);
      const links = await store.get<{ contracts: unknown[] }>(
        PLAN_COLLECTIONS.links,
        `${alex.aadObjectId}|contoso`,
      );
      expect(links!.value.contracts).to.have.length(1);
    });

    it('gives one generic message whichever half is wrong, and never echoes either', async () => {
      const attempts: [string, string, string, string][] = [
        ['wrong access ID', 'contoso', ACCESS.contractId, 'demo-access-2025'],
        ['unknown contract ID', 'contoso', 'DEMO-0000000', ACCESS.secret],
        ['halves swapped', 'contoso', ACCESS.secret, ACCESS.contractId],
        ['a malformed contract ID', 'contoso', 'no such thing!', ACCESS.secret],
        ['the other contract’s secret', 'contoso', ACCESS.contractId, PASSWORD.secret],
        [
          'a right pair in an organization it is not for',
          'contoso-emea',
          ACCESS.contractId,
          ACCESS.secret,
        ],
      ];
      const seen = new Set<string>();
      for (const [, orgId, contractId, secret] of attempts) {
        const s = new MemoryStore();
        const { service, log } = makeService(s, { directory: plansDirectory({ secondOrg: true }) });
        const e = error(await service.addContract(alex, orgId, contractId, secret));
        expect(e.code).to.equal('contract.invalid');
        expect(e.attemptsLeft).to.equal(4);
        for (const typed of [secret, contractId.trim()]) {
          expect(e.message).not.to.include(typed);
          expect(log.text()).not.to.include(typed);
        }
        seen.add(e.message);
        await s.close();
      }
      expect([...seen]).to.have.length(1);
      expect([...seen][0])
        .to.include("don't match a contract we know")
        .and.include('TAM or SAM');
    });

    it('never logs or returns the secret of a successful add', async () => {
      const { service, log } = makeService(store);
      const r = await service.addContract(alex, 'contoso', ACCESS.contractId, ACCESS.secret);
      expect(JSON.stringify(r)).not.to.include(ACCESS.secret);
      expect(log.text()).to.include('contract linked');
      expect(log.text()).not.to.include(ACCESS.secret);
      expect(
        JSON.stringify(await store.get(PLAN_COLLECTIONS.links, `${alex.aadObjectId}|contoso`)),
      ).not.to.include(ACCESS.secret);
    });

    it('asks for both fields without counting an attempt', async () => {
      const { service } = makeService(store);
      expect(error(await service.addContract(alex, 'contoso', ' ', ACCESS.secret)).code).to.equal(
        'contract.incomplete',
      );
      expect(
        error(await service.addContract(alex, 'contoso', ACCESS.contractId, '')).code,
      ).to.equal('contract.incomplete');
      expect(await store.get(PLAN_COLLECTIONS.throttle, alex.aadObjectId)).to.equal(undefined);
    });

    it('refuses an organization the user is not in, or of another tenant', async () => {
      const { service } = makeService(store);
      expect(
        error(await service.addContract(alex, 'fabrikam', ACCESS.contractId, ACCESS.secret)),
      ).to.include({ code: 'org.unknown' });
      expect(
        error(
          await service.addContract(fabrikamOwner, 'contoso', ACCESS.contractId, ACCESS.secret),
        ),
      ).to.include({ code: 'org.unknown' });
    });
  });

  describe('throttling', () => {
    const wrong = 'not-the-access-id';

    it('after 5 failures in 15 minutes, says how long to wait, even for a right pair', async () => {
      const { service, clock } = makeService(store);
      for (let i = 4; i >= 1; i--)
        expect(
          error(await service.addContract(alex, 'contoso', ACCESS.contractId, wrong)).attemptsLeft,
        ).to.equal(i);
      clock.advance(2 * MINUTE);
      const fifth = error(await service.addContract(alex, 'contoso', ACCESS.contractId, wrong));
      expect(fifth).to.include({
        code: 'contract.invalid',
        attemptsLeft: 0,
        retryAfterSeconds: 13 * 60,
      });
      expect(fifth.message).to.include('wait 13 minutes');

      const blocked = error(
        await service.addContract(alex, 'contoso', ACCESS.contractId, ACCESS.secret),
      );
      expect(blocked).to.deep.equal({
        code: 'contract.throttled',
        message: 'Too many unsuccessful attempts to add a contract. Try again in 13 minutes.',
        retryAfterSeconds: 13 * 60,
      });
      clock.advance(12 * MINUTE + 30_000);
      expect(
        error(await service.addContract(alex, 'contoso', ACCESS.contractId, ACCESS.secret)),
      ).to.deep.include({
        code: 'contract.throttled',
        retryAfterSeconds: 30,
        message: 'Too many unsuccessful attempts to add a contract. Try again in 30 seconds.',
      });
      clock.advance(30_000);
      expect(
        value(await service.addContract(alex, 'contoso', ACCESS.contractId, ACCESS.secret))
          .contractId,
      ).to.equal('DEMO-1234567');
    });

    it('throttles per user', async () => {
      const { service } = makeService(store);
      for (let i = 0; i < 5; i++)
        await service.addContract(alex, 'contoso', ACCESS.contractId, wrong);
      expect(
        error(await service.addContract(alex, 'contoso', ACCESS.contractId, wrong)).code,
      ).to.equal('contract.throttled');
      expect(
        error(await service.addContract(megan, 'contoso', ACCESS.contractId, wrong)).code,
      ).to.equal('contract.invalid');
    });

    it('does not count a success, nor let it wipe the failures', async () => {
      const { service } = makeService(store);
      for (let i = 0; i < 4; i++)
        await service.addContract(alex, 'contoso', ACCESS.contractId, wrong);
      value(await service.addContract(alex, 'contoso', ACCESS.contractId, ACCESS.secret));
      expect(
        error(await service.addContract(alex, 'contoso', ACCESS.contractId, wrong)).attemptsLeft,
      ).to.equal(0);
      expect(
        error(await service.addContract(alex, 'contoso', ACCESS.contractId, wrong)).code,
      ).to.equal('contract.throttled');
    });

    it('counts guesses sent in parallel', async () => {
      const { service } = makeService(store);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          service.addContract(alex, 'contoso', ACCESS.contractId, `${wrong}-${i}`),
        ),
      );
      const codes = results.map((r) => error(r).code).sort();
      expect(codes).to.deep.equal([
        ...Array(5).fill('contract.invalid'),
        ...Array(3).fill('contract.throttled'),
      ]);
    });

    it('formats waits rounded up', () => {
      expect([
        formatWait(1),
        formatWait(59),
        formatWait(59.2),
        formatWait(61),
        formatWait(900),
      ]).to.deep.equal(['1 second', '59 seconds', '1 minute', '2 minutes', '15 minutes']);
    });
  });

  describe('removeContract', () => {
    it('unlinks a contract added in Teams', async () => {
      const { service } = makeService(store);
      value(await service.addContract(alex, 'contoso', ACCESS.contractId, ACCESS.secret));
      expect(value(await service.removeContract(alex, 'contoso', 'demo-1234567'))).to.deep.equal({
        contractId: 'DEMO-1234567',
      });
      const report = value(await service.supportPlans(alex, 'contoso-fo')).report;
      expect(allEntitlements(report).some((e) => e.contractId === 'DEMO-1234567')).to.equal(false);
      expect(error(await service.removeContract(alex, 'contoso', 'DEMO-1234567')).code).to.equal(
        'contract.notLinked',
      );
    });

    it('leaves a contract linked in the directory, saying who can remove it', async () => {
      const { service } = makeService(store);
      const e = error(await service.removeContract(alex, 'contoso', 'UNI-4400123'));
      expect(e.code).to.equal('contract.notLinked');
      expect(e.message).to.include('administrator');
    });
  });

  describe('Software Assurance', () => {
    it('validates, normalises, stores and lists a plan, once', async () => {
      const { service } = makeService(store);
      expect(
        value(
          await service.addSoftwareAssurance(
            adele,
            'contoso',
            'v-8765 4321',
            ' Licensing@Contoso.com ',
          ),
        ),
      ).to.deep.equal({
        subscriptionNumber: 'V87654321',
        contactEmail: 'licensing@contoso.com',
        alreadyAdded: false,
      });
      expect(
        value(
          await service.addSoftwareAssurance(adele, 'contoso', 'V87654321', 'other@contoso.com'),
        ).alreadyAdded,
      ).to.equal(true);
      const sa = allEntitlements(value(await service.supportPlans(adele)).report).filter(
        (e) => e.subscriptionNumber === 'V87654321',
      );
      expect(sa).to.have.length(1);
      expect(sa[0]!.why).to.include(
        'You added Software Assurance subscription V87654321 on 21 Nov 2026 (contact licensing@contoso.com)',
      );
    });

    const bad: [string, string, 'subscriptionNumber' | 'contactEmail', string][] = [
      ['12-34', 'a@contoso.com', 'subscriptionNumber', '6 to 16 letters and digits'],
      ['SUBSCRIPTION', 'a@contoso.com', 'subscriptionNumber', '6 to 16 letters and digits'],
      ['12345678', 'not-an-email', 'contactEmail', 'contact e-mail address'],
      ['12345678', '', 'contactEmail', 'contact e-mail address'],
    ];
    for (const [number, email, field, message] of bad)
      it(`refuses ${JSON.stringify(number)} / ${JSON.stringify(email)} naming the ${field}`, async () => {
        const { service } = makeService(store);
        const e = error(await service.addSoftwareAssurance(alex, 'contoso', number, email));
        expect(e).to.include({ code: 'sa.invalid', field });
        expect(e.message).to.include(message);
        expect(await store.count(PLAN_COLLECTIONS.links)).to.equal(0);
      });

    it('answers when the store is down, writing nothing', async () => {
      const faulty = new FaultyStore(store).failAllWrites();
      const { service } = makeService(faulty);
      expect(
        error(await service.addSoftwareAssurance(alex, 'contoso', '12345678', 'a@contoso.com')),
      ).to.include({ code: 'store.unavailable' });
    });
  });

  describe('current organization', () => {
    it('defaults to the first, remembers a choice, and lists the choices of the tenant', async () => {
      const directory = plansDirectory({ secondOrg: true });
      const { service } = makeService(store, { directory });
      expect(value(await service.currentOrganization(alex))).to.deep.equal({
        current: { id: 'contoso', name: 'Contoso Ltd' },
        choices: [
          { id: 'contoso', name: 'Contoso Ltd' },
          { id: 'contoso-emea', name: 'Contoso EMEA' },
        ],
        remembered: false,
      });
      value(await service.setCurrentOrganization(alex, 'contoso-emea'));
      const again = makeService(store, { directory }).service;
      expect(value(await again.currentOrganization(alex))).to.deep.include({
        current: { id: 'contoso-emea', name: 'Contoso EMEA' },
        remembered: true,
      });
      const plans = value(await again.supportPlans(alex));
      expect(plans.report).to.include({ orgId: 'contoso-emea', projectId: 'emea-fo' });
      expect(plans.projects).to.deep.equal([
        { id: 'emea-fo', name: 'Contoso EMEA Finance', deployment: 'cloud' },
      ]);
    });

    it('refuses an organization of another tenant or without the user', async () => {
      const { service } = makeService(store, { directory: plansDirectory({ secondOrg: true }) });
      expect(error(await service.setCurrentOrganization(alex, 'fabrikam')).message).to.equal(
        'Choose one of your organizations: Contoso Ltd, Contoso EMEA.',
      );
      expect(error(await service.setCurrentOrganization(megan, 'contoso-emea')).code).to.equal(
        'org.unknown',
      );
    });

    it('falls back to the first when the remembered one is gone', async () => {
      const { service } = makeService(store, { directory: plansDirectory({ secondOrg: true }) });
      value(await service.setCurrentOrganization(alex, 'contoso-emea'));
      const later = makeService(store).service; // the directory no longer has Contoso EMEA
      expect(value(await later.currentOrganization(alex))).to.deep.include({
        current: { id: 'contoso', name: 'Contoso Ltd' },
        remembered: false,
      });
    });

    it('says so when the user is in no organization', async () => {
      const { service } = makeService(store);
      const stranger = { ...alex, aadObjectId: '00000000-0000-0000-0000-00000000ffff' };
      expect(error(await service.currentOrganization(stranger)).code).to.equal('org.none');
      expect(error(await service.supportPlans(stranger)).code).to.equal('org.none');
    });

    it('refuses a project the user is not in', async () => {
      const { service } = makeService(store);
      expect(error(await service.supportPlans(megan, 'contoso-ax2012')).message).to.include(
        'Choose one of your projects in Contoso Ltd',
      );
      expect(error(await service.usableContracts(megan, 'contoso-ax2012')).code).to.equal(
        'project.unknown',
      );
    });
  });

  describe('consumeIncident', () => {
    const PPI = 'psbc:contoso:psbc-contoso:ppi-ax2012'; // 1 incident, on-premises

    it('does not decrement an unlimited plan', async () => {
      const { service } = makeService(store);
      const sub = value(await service.usableContracts(alex, 'contoso-fo')).find(
        (p) => p.kind === 'subscription',
      )!;
      expect(
        value(await service.consumeIncident(alex, 'contoso', sub.ref, 'draft-1', 'contoso-fo')),
      ).to.deep.equal({ ref: sub.ref, limited: false, alreadyConsumed: false });
      expect(await store.count(PLAN_COLLECTIONS.usage)).to.equal(0);
    });

    it('refuses a plan not usable for the project, with the reason', async () => {
      const { service } = makeService(store);
      const e = error(await service.consumeIncident(alex, 'contoso', PPI, 'draft-1', 'contoso-fo'));
      expect(e.code).to.equal('plan.notUsable');
      expect(e.message).to.include('only in on-premises projects');
      expect(
        error(
          await service.consumeIncident(
            alex,
            'contoso',
            'contract:NOPE-1',
            'draft-1',
            'contoso-fo',
          ),
        ).code,
      ).to.equal('plan.unknown');
      expect(
        error(await service.consumeIncident(megan, 'contoso', PPI, 'draft-1', 'contoso-ax2012'))
          .code,
      ).to.equal('project.unknown');
    });

    it('lists incidents left after each consumption', async () => {
      const { service } = makeService(store);
      const premier = 'contract:PREM-7654321';
      expect(
        value(await service.consumeIncident(alex, 'contoso', premier, 'a', 'contoso-ax2012')),
      ).to.deep.equal({ ref: premier, limited: true, left: 9, alreadyConsumed: false });
      const listed = value(await service.usableContracts(alex, 'contoso-ax2012')).find(
        (p) => p.ref === premier,
      )!;
      expect(listed).to.deep.include({
        tier: 'Premier Support for Enterprise',
        incidents: { limited: true, total: 10, used: 1, left: 9 },
      });
    });

    for (const backend of backends)
      describe(`on ${backend.name}`, () => {
        let opened: Awaited<ReturnType<Backend['open']>>;
        type Backend = (typeof backends)[number];
        let s: Store;
        beforeEach(async () => {
          opened = await backend.open();
          s = opened.store;
        });
        afterEach(async () => {
          await s.close();
          await opened.cleanup();
        });

        it('lets exactly one of two racing submits take the last incident', async () => {
          const { service } = makeService(s);
          const [a, b] = await Promise.all([
            service.consumeIncident(alex, 'contoso', PPI, 'draft-a', 'contoso-ax2012'),
            service.consumeIncident(alex, 'contoso', PPI, 'draft-b', 'contoso-ax2012'),
          ]);
          const results = [a, b];
          expect(results.filter((r) => r.ok)).to.have.length(1);
          const refused = error(results.find((r) => !r.ok)!);
          expect(refused).to.deep.equal({
            code: 'plan.noIncidentsLeft',
            message:
              'Pay per incident (AX 2012 R3) has no incidents left (1 of 1 used). Choose another support plan for this incident.',
          });
          const e = allEntitlements(
            value(await service.supportPlans(alex, 'contoso-ax2012')).report,
          ).find((x) => x.ref === PPI)!;
          expect(e).to.deep.include({
            usable: false,
            blockedBy: 'no-incidents',
            incidents: { limited: true, total: 1, used: 1, left: 0 },
          });
        });

        it('shares a contract among racing submits: 3 for 2 incidents, 2 succeed', async () => {
          const { service } = makeService(s);
          value(await service.addContract(alex, 'contoso', PASSWORD.contractId, PASSWORD.secret));
          const ref = 'contract:DEMO-7654321';
          const results = await Promise.all(
            ['x', 'y', 'z'].map((k) =>
              service.consumeIncident(alex, 'contoso', ref, k, 'contoso-ax2012'),
            ),
          );
          expect(results.filter((r) => r.ok)).to.have.length(2);
          expect(results.filter((r) => !r.ok).map((r) => error(r).code)).to.deep.equal([
            'plan.noIncidentsLeft',
          ]);
        });

        it('consumes once for one idempotency key, even in parallel', async () => {
          const { service } = makeService(s);
          const ref = 'psbc:contoso:psbc-contoso:advantage'; // 3 incidents
          const [a, b] = await Promise.all([
            service.consumeIncident(alex, 'contoso', ref, 'draft-1', 'contoso-ax2012'),
            service.consumeIncident(alex, 'contoso', ref, 'draft-1', 'contoso-ax2012'),
          ]);
          expect([value(a).alreadyConsumed, value(b).alreadyConsumed].sort()).to.deep.equal([
            false,
            true,
          ]);
          expect(
            value(await service.consumeIncident(alex, 'contoso', ref, 'draft-1', 'contoso-ax2012')),
          ).to.deep.equal({ ref, limited: true, left: 2, alreadyConsumed: true });
          expect((await s.get<{ used: number }>(PLAN_COLLECTIONS.usage, ref))!.value.used).to.equal(
            1,
          );
        });

        if (backend.durable)
          it('keeps contracts, throttling, choices and usage across a restart', async () => {
            const clock = new ManualClock(new Date('2026-11-21T10:00:00Z'));
            const directory = plansDirectory({ secondOrg: true });
            const first = makeService(s, { clock, directory }).service;
            value(await first.addContract(alex, 'contoso', ACCESS.contractId, ACCESS.secret));
            value(await first.setCurrentOrganization(alex, 'contoso-emea'));
            value(await first.consumeIncident(alex, 'contoso', PPI, 'draft-1', 'contoso-ax2012'));
            for (let i = 0; i < 5; i++)
              await first.addContract(megan, 'contoso', ACCESS.contractId, 'wrong');
            await s.close();

            s = await opened.reopen!();
            clock.advance(MINUTE);
            const second = makeService(s, { clock, directory }).service;
            expect(value(await second.currentOrganization(alex)).current.id).to.equal(
              'contoso-emea',
            );
            value(await second.setCurrentOrganization(alex, 'contoso'));
            const report = value(await second.supportPlans(alex, 'contoso-fo')).report;
            expect(allEntitlements(report).find((e) => e.contractId === 'DEMO-1234567')).to.include(
              { usable: true, source: 'user' },
            );
            expect(
              error(await second.consumeIncident(alex, 'contoso', PPI, 'draft-2', 'contoso-ax2012'))
                .code,
            ).to.equal('plan.noIncidentsLeft');
            expect(
              error(await second.addContract(megan, 'contoso', ACCESS.contractId, ACCESS.secret)),
            ).to.include({ code: 'contract.throttled', retryAfterSeconds: 14 * 60 });
          });
      });
  });
});

import { expect } from 'chai';
import { z } from 'zod';
import { ConfigError } from '../../src/errors.js';
import { DEMO_CONTRACTS, demoPlansFragment, withPlans } from '../../src/plans/demoPlans.js';
import {
  ContactEmail,
  ContractPlan,
  ContractRegistry,
  LoginBenefit,
  OrganizationPlans,
  PsbcPlan,
  type PlanKind,
  RegistryContract,
  slaPlanKindOf,
  SubscriptionNumber,
} from '../../src/plans/planSchema.js';
import { hashSecret, verifySecret } from '../../src/plans/secretHash.js';
import { demoDirectory } from '../helpers/fixtures.js';

const messages = (r: z.ZodSafeParseResult<unknown>) =>
  r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);

describe('planSchema', () => {
  describe('contracts', () => {
    const base = {
      contractId: 'PREM-7654321',
      kind: 'premier',
      tier: 'Premier Support for Enterprise',
    };
    const rows = [
      {
        name: 'an on-premises contract with a count',
        plan: { ...base, deployment: 'on-premises', incidents: 10 },
        error: undefined,
      },
      {
        name: 'a cloud contract, unlimited',
        plan: { ...base, deployment: 'cloud', incidents: 'unlimited' },
        error: undefined,
      },
      {
        name: 'an on-premises contract, unlimited',
        plan: { ...base, deployment: 'on-premises', incidents: 'unlimited' },
        error: 'incidents: an on-premises contract has a limited incident count',
      },
      {
        name: 'a cloud contract with a count',
        plan: { ...base, deployment: 'cloud', incidents: 5 },
        error: 'incidents: a cloud contract has unlimited incidents',
      },
      {
        name: 'a Unified tier that does not exist',
        plan: {
          ...base,
          kind: 'unified',
          tier: 'gold',
          deployment: 'cloud',
          incidents: 'unlimited',
        },
        error: 'tier: a Unified tier is core, advanced or performance',
      },
      {
        name: 'a contract ID with blanks',
        plan: { ...base, contractId: 'PREM 1', deployment: 'cloud', incidents: 'unlimited' },
        error: 'contractId: expected a contract ID',
      },
    ];
    for (const row of rows)
      it(`${row.error ? 'refuses' : 'accepts'} ${row.name}`, () => {
        const got = messages(ContractPlan.safeParse(row.plan));
        if (row.error) expect(got.join('\n')).to.include(row.error);
        else expect(got).to.deep.equal([]);
      });

    it('upper-cases and trims contract IDs', () => {
      const p = ContractPlan.parse({
        ...base,
        contractId: ' prem-7654321 ',
        deployment: 'cloud',
        incidents: 'unlimited',
      });
      expect(p.contractId).to.equal('PREM-7654321');
    });
  });

  describe('contract registry', () => {
    it('refuses an access ID stored in plain text', () => {
      const r = RegistryContract.safeParse({
        contractId: 'DEMO-1234567',
        organizations: ['contoso'],
        secrets: [{ kind: 'access-id', hash: 'demo-access-2026' }],
        kind: 'advanced-partner',
        tier: 'Advanced support for partners',
        deployment: 'cloud',
        incidents: 'unlimited',
      });
      expect(messages(r).join('\n'))
        .to.include('secrets.0.hash: expected an scrypt hash')
        .and.include('never the access ID');
    });

    it('holds the demo pairs as hashes that verify', async () => {
      const registry = demoPlansFragment().contractRegistry;
      expect(JSON.stringify(registry))
        .not.to.include('demo-access-2026')
        .and.not.include('demo-password-2026');
      for (const demo of DEMO_CONTRACTS) {
        const entry = registry.find((c) => c.contractId === demo.contractId)!;
        const secret = entry.secrets.find((s) => s.kind === demo.secretKind)!;
        expect(await verifySecret(demo.secret, secret.hash)).to.equal(true);
      }
    });

    it('refuses two secrets of one kind', async () => {
      const hash = await hashSecret('x', { ln: 14, r: 8, p: 1 });
      const r = ContractRegistry.safeParse([
        {
          contractId: 'X-1234',
          organizations: ['contoso'],
          secrets: [
            { kind: 'password', hash },
            { kind: 'password', hash },
          ],
          kind: 'premier',
          tier: 'P',
          deployment: 'cloud',
          incidents: 'unlimited',
        },
      ]);
      expect(messages(r).join('\n')).to.include('one secret of each kind at most');
    });
  });

  describe('PSBC, login-specific, Software Assurance', () => {
    it('has no online plans in a PSBC account and always counts its incidents', () => {
      expect(
        PsbcPlan.safeParse({ id: 'x', kind: 'signature-cloud', incidents: 1 }).success,
      ).to.equal(false);
      expect(
        PsbcPlan.safeParse({ id: 'x', kind: 'advantage', incidents: 'unlimited' }).success,
      ).to.equal(false);
      expect(
        PsbcPlan.safeParse({ id: 'x', kind: 'advantage-plus', incidents: 2 }).success,
      ).to.equal(true);
    });

    it('refuses purchased incidents on a work account, accepts them on a Microsoft account', () => {
      const five = { id: 'p', kind: 'five-pack', incidents: 5 };
      expect(
        messages(LoginBenefit.safeParse({ ...five, login: 'alexw@example.com' })).join(),
      ).to.include('never to a work account');
      for (const login of [
        'alex@outlook.com',
        'Alex@Hotmail.co.uk',
        'alex@live.com',
        'alex@msn.com',
      ])
        expect(LoginBenefit.safeParse({ ...five, login }).success, login).to.equal(true);
      // MPN benefits may sit on a work account.
      expect(
        LoginBenefit.safeParse({
          id: 'm',
          kind: 'mpn-gold',
          login: 'alexw@example.com',
          incidents: 5,
        }).success,
      ).to.equal(true);
    });

    it('checks the incident counts of each login benefit', () => {
      const at = { login: 'alex@outlook.com' };
      expect(
        messages(
          LoginBenefit.safeParse({ ...at, id: 'a', kind: 'individual-incident', incidents: 2 }),
        ).join(),
      ).to.include('holds 1');
      expect(
        messages(
          LoginBenefit.safeParse({ ...at, id: 'a', kind: 'signature-cloud', incidents: 3 }),
        ).join(),
      ).to.include('"unlimited"');
      expect(
        messages(
          LoginBenefit.safeParse({
            ...at,
            id: 'a',
            kind: 'signature-cloud',
            incidents: 'unlimited',
            deployments: ['on-premises'],
          }),
        ).join(),
      ).to.include('cloud projects only');
      expect(
        messages(
          LoginBenefit.safeParse({ ...at, id: 'a', kind: 'mpn-silver', incidents: 'unlimited' }),
        ).join(),
      ).to.include('counted');
    });

    const numbers: [string, string | undefined][] = [
      ['12345678', '12345678'],
      ['v-1234 5678', 'V12345678'],
      ['  87654321  ', '87654321'],
      ['12-34', undefined],
      ['ABCDEFGH', undefined],
      ['1234567890ABCDEFG', undefined],
      ['1234#5678', undefined],
    ];
    for (const [input, expected] of numbers)
      it(`${expected ? 'normalises' : 'refuses'} subscription number ${JSON.stringify(input)}`, () => {
        const r = SubscriptionNumber.safeParse(input);
        if (expected) expect(r.data).to.equal(expected);
        else expect(r.error?.issues[0]?.message).to.include('6 to 16 letters and digits');
      });

    it('validates and lower-cases the contact e-mail', () => {
      expect(ContactEmail.parse(' Licensing@Example.com ')).to.equal('licensing@example.com');
      expect(ContactEmail.safeParse('licensing@').error?.issues[0]?.message).to.include(
        'contact e-mail',
      );
    });
  });

  describe('cross-references', () => {
    const plansWith = (patch: object) => ({
      plans: { contoso: OrganizationPlans.parse(patch) },
      contractRegistry: [],
    });
    const rows = [
      {
        name: 'a PSBC plan narrowed to a cloud project',
        patch: {
          psbcAccounts: [
            {
              id: 'a',
              name: 'A',
              professionals: ['a@example.com'],
              plans: [{ id: 'p', kind: 'advantage', incidents: 1, projects: ['contoso-fo'] }],
            },
          ],
        },
        error:
          'organizations[0].plans.psbcAccounts[0].plans[0].projects[0]: project contoso-fo is cloud',
      },
      {
        name: 'an unknown project',
        patch: { tenantSubscriptions: [{ id: 's', kind: 'subscription', projects: ['nope'] }] },
        error: 'unknown project "nope"',
      },
      {
        name: 'a contract linked to a non-member',
        patch: {
          contracts: [
            {
              contractId: 'UNI-1234',
              kind: 'unified',
              tier: 'core',
              deployment: 'cloud',
              incidents: 'unlimited',
              linkedTo: [
                { aadObjectId: '99999999-0000-0000-0000-000000000000', linkedAt: '2026-01-01' },
              ],
            },
          ],
        },
        error: 'is not a member of any project of contoso',
      },
      {
        name: 'a duplicate Software Assurance number',
        patch: {
          softwareAssurance: [
            { subscriptionNumber: '12345678', contactEmail: 'a@example.com', incidents: 1 },
            { subscriptionNumber: '1234-5678', contactEmail: 'b@example.com', incidents: 1 },
          ],
        },
        error: 'duplicate Software Assurance subscription "12345678"',
      },
    ];
    for (const row of rows)
      it(`refuses ${row.name}, naming the path`, () => {
        expect(() => withPlans(demoDirectory(), plansWith(row.patch)))
          .to.throw(ConfigError)
          .with.property('message')
          .that.includes(row.error);
      });

    it('refuses a registry entry for an unknown organization or granting other terms than the directory', () => {
      const fragment = demoPlansFragment();
      fragment.contractRegistry[0]!.organizations = ['nowhere'];
      fragment.contractRegistry.push({
        ...fragment.contractRegistry[1]!,
        contractId: 'PREM-7654321',
        kind: 'premier',
        tier: 'Other',
        incidents: 3,
      });
      let message = '';
      try {
        withPlans(demoDirectory(), fragment);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message)
        .to.include('unknown organization "nowhere"')
        .and.include('PREM-7654321 grants differently');
    });

    it('accepts the demo plans, one of every plan kind', () => {
      const d = withPlans(demoDirectory(), demoPlansFragment());
      const p = d.organizations.find((o) => o.id === 'contoso')!.plans;
      const kinds = new Set<string>([
        ...p.contracts.map((c) => c.kind),
        ...d.contractRegistry.map((c) => c.kind),
        ...p.psbcAccounts.flatMap((a) => a.plans.map((x) => x.kind)),
        ...p.loginBenefits.map((b) => b.kind),
        ...p.tenantSubscriptions.map((s) => s.kind),
        ...(p.softwareAssurance.length > 0 ? ['software-assurance'] : []),
      ]);
      const all: PlanKind[] = [
        'unified',
        'premier',
        'advanced-partner',
        'advanced-partner-on-premises',
        'advantage',
        'advantage-plus',
        'pay-per-incident',
        'mpn-gold',
        'mpn-silver',
        'signature-cloud',
        'individual-incident',
        'five-pack',
        'subscription',
        'prodirect',
        'software-assurance',
      ];
      expect([...kinds].sort()).to.deep.equal([...all].sort());
      expect(d.organizations.find((o) => o.id === 'fabrikam')!.plans.contracts).to.deep.equal([]);
    });
  });

  describe('slaPlanKindOf', () => {
    const rows: [PlanKind, string | undefined, string | undefined][] = [
      ['premier', 'Premier Support for Enterprise', 'premier'],
      ['prodirect', undefined, 'professional-direct'],
      ['subscription', undefined, 'subscription'],
      ['unified', 'core', 'unified-core'],
      ['unified', 'advanced', 'unified-advanced'],
      ['unified', 'performance', 'unified-performance'],
      ['advanced-partner', 'Advanced support for partners', undefined],
      ['five-pack', undefined, undefined],
      ['software-assurance', undefined, undefined],
    ];
    for (const [kind, tier, expected] of rows)
      it(`maps ${kind}${tier ? ` (${tier})` : ''} to ${expected ?? 'no SLA plan'}`, () => {
        expect(slaPlanKindOf(kind, tier)).to.equal(expected);
      });
  });
});

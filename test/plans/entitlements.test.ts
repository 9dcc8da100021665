import { expect } from 'chai';
import {
  allEntitlements,
  type Blocker,
  deriveEntitlements,
  type EntitlementReport,
  formatDay,
  type PlanGroup,
  type PlanLinks,
  usableContracts,
} from '../../src/plans/entitlements.js';
import { adele, alex, megan, plansDirectory } from './planFixtures.js';

type Dir = ReturnType<typeof plansDirectory>;
type Who = 'alex' | 'megan' | 'adele';
const users = { alex, megan, adele };

function links(who: Who, patch: Partial<PlanLinks>): PlanLinks {
  return {
    aadObjectId: users[who].aadObjectId,
    orgId: 'contoso',
    contracts: [],
    softwareAssurance: [],
    updatedAt: '2026-11-21T10:00:00Z',
    ...patch,
  };
}

interface Row {
  name: string;
  who: Who;
  project: 'contoso-fo' | 'contoso-ax2012';
  links?: PlanLinks;
  usage?: Record<string, number>;
  edit?: (d: Dir) => void;
  usable: string[];
  blocked: Record<string, Blocker>;
  missing: PlanGroup[];
  why?: Record<string, string>;
  left?: Record<string, number>;
}

const rows: Row[] = [
  {
    name: 'a cloud project, for a user holding every kind',
    who: 'alex',
    project: 'contoso-fo',
    usable: [
      'Unified Advanced',
      'MPN gold incidents',
      'Signature cloud support',
      'Individual incident',
      'Subscription',
      'ProDirect',
    ],
    blocked: {
      Premier: 'coverage',
      'Advanced support for partners (on-premises incidents)': 'coverage',
      'Advantage (on-premises incidents)': 'coverage',
      'Advantage+ (on-premises incidents)': 'coverage',
      'Pay per incident (AX 2012 R3)': 'coverage',
      'Software Assurance': 'coverage',
    },
    missing: ['psbc', 'software-assurance'],
    why: {
      'Unified Advanced': 'Linked to your login with contract UNI-4400123 on 2 Oct 2026.',
      ProDirect: "Your tenant's ProDirect subscription.",
      Subscription: "Your tenant's Dynamics 365 subscription.",
      'Individual incident':
        'Bought on support.microsoft.com with your Microsoft account alex.wilber@outlook.com on 1 Aug 2026.',
      'MPN gold incidents': 'Belongs to your login alexw@example.com.',
      'Advantage (on-premises incidents)':
        'Your login alexw@example.com is a professional in the PartnerSource Business Center account Contoso Ltd (PSBC 5551234).',
    },
  },
  {
    name: 'an on-premises project: PSBC, on-premises contracts and Software Assurance apply',
    who: 'alex',
    project: 'contoso-ax2012',
    usable: [
      'Premier',
      'Advanced support for partners (on-premises incidents)',
      'Advantage (on-premises incidents)',
      'Advantage+ (on-premises incidents)',
      'Pay per incident (AX 2012 R3)',
      'MPN gold incidents',
      'Individual incident',
      'Software Assurance',
    ],
    blocked: {
      'Unified Advanced': 'coverage',
      'Signature cloud support': 'coverage',
      Subscription: 'coverage',
      ProDirect: 'coverage',
    },
    missing: ['tenant'],
    left: { Premier: 10, 'Pay per incident (AX 2012 R3)': 1, 'Software Assurance': 4 },
    why: {
      'Software Assurance':
        'Software Assurance subscription V1234567 of Contoso Ltd (contact licensing@example.com).',
    },
  },
  {
    name: 'a work account without a linked Microsoft account: purchased incidents are not usable',
    who: 'megan',
    project: 'contoso-fo',
    usable: ['MPN silver incidents', 'Subscription', 'ProDirect'],
    blocked: { '5-pack of incidents': 'login', 'Software Assurance': 'coverage' },
    missing: ['contract', 'psbc', 'software-assurance'],
  },
  {
    name: 'the same user once their Microsoft account is linked',
    who: 'megan',
    project: 'contoso-fo',
    edit: (d) =>
      d.organizations[0]!.plans.microsoftAccounts.push({
        aadObjectId: megan.aadObjectId,
        account: 'megan.bowen@hotmail.com',
      }),
    usable: ['MPN silver incidents', '5-pack of incidents', 'Subscription', 'ProDirect'],
    blocked: { 'Software Assurance': 'coverage' },
    missing: ['contract', 'psbc', 'software-assurance'],
    why: {
      '5-pack of incidents':
        'Bought on support.microsoft.com with your Microsoft account megan.bowen@hotmail.com on 10 Jul 2026.',
    },
    left: { '5-pack of incidents': 5 },
  },
  {
    name: 'a user who is no PSBC professional and holds nothing of their own',
    who: 'adele',
    project: 'contoso-ax2012',
    usable: ['Software Assurance'],
    blocked: { Subscription: 'coverage', ProDirect: 'coverage' },
    missing: ['contract', 'psbc', 'login', 'tenant'],
  },
  {
    name: 'a contract the user added in Teams, and usage that leaves none',
    who: 'alex',
    project: 'contoso-ax2012',
    links: links('alex', {
      contracts: [
        { contractId: 'DEMO-7654321', secretKind: 'password', linkedAt: '2026-11-21T10:00:00Z' },
      ],
    }),
    usage: { 'contract:DEMO-7654321': 2, 'contract:PREM-7654321': 3 },
    usable: [
      'Premier',
      'Advanced support for partners (on-premises incidents)',
      'Advantage (on-premises incidents)',
      'Advantage+ (on-premises incidents)',
      'Pay per incident (AX 2012 R3)',
      'MPN gold incidents',
      'Individual incident',
      'Software Assurance',
    ],
    blocked: {
      'Unified Core': 'no-incidents',
      'Unified Advanced': 'coverage',
      'Signature cloud support': 'coverage',
      Subscription: 'coverage',
      ProDirect: 'coverage',
    },
    missing: ['tenant'],
    why: { 'Unified Core': 'Linked to your login with contract DEMO-7654321 on 21 Nov 2026.' },
    left: { Premier: 7 },
  },
  {
    name: 'a stored link to a contract gone from the registry',
    who: 'alex',
    project: 'contoso-fo',
    links: links('alex', {
      contracts: [
        { contractId: 'GONE-0001', secretKind: 'access-id', linkedAt: '2026-11-01T10:00:00Z' },
      ],
    }),
    usable: [
      'Unified Advanced',
      'MPN gold incidents',
      'Signature cloud support',
      'Individual incident',
      'Subscription',
      'ProDirect',
    ],
    blocked: {
      'Contract GONE-0001': 'invalid-contract',
      Premier: 'coverage',
      'Advanced support for partners (on-premises incidents)': 'coverage',
      'Advantage (on-premises incidents)': 'coverage',
      'Advantage+ (on-premises incidents)': 'coverage',
      'Pay per incident (AX 2012 R3)': 'coverage',
      'Software Assurance': 'coverage',
    },
    missing: ['psbc', 'software-assurance'],
  },
  {
    name: 'Software Assurance the user added, once even if the directory has the same number',
    who: 'adele',
    project: 'contoso-ax2012',
    links: links('adele', {
      softwareAssurance: [
        {
          subscriptionNumber: 'V1234567',
          contactEmail: 'me@example.com',
          addedAt: '2026-11-20T10:00:00Z',
        },
        {
          subscriptionNumber: '87654321',
          contactEmail: 'me@example.com',
          addedAt: '2026-11-21T10:00:00Z',
        },
      ],
    }),
    usable: ['Software Assurance', 'Software Assurance'],
    blocked: { Subscription: 'coverage', ProDirect: 'coverage' },
    missing: ['contract', 'psbc', 'login', 'tenant'],
  },
];

function derive(row: Row, d: Dir = plansDirectory()): EntitlementReport {
  row.edit?.(d);
  const org = d.organizations.find((o) => o.id === 'contoso')!;
  const project = org.projects.find((p) => p.id === row.project)!;
  return deriveEntitlements({
    org,
    project,
    user: users[row.who],
    registry: d.contractRegistry,
    ...(row.links ? { links: row.links } : {}),
    usage: new Map(Object.entries(row.usage ?? {})),
  });
}

describe('entitlements', () => {
  for (const row of rows)
    it(`derives ${row.name}`, () => {
      const report = derive(row);
      const all = allEntitlements(report);
      const blockedAll = all.filter((e) => !e.usable);
      const by = (name: string) => all.find((e) => e.name === name);
      const blockedBy = (name: string) => blockedAll.find((e) => e.name === name);
      expect(
        all
          .filter((e) => e.usable)
          .map((e) => e.name)
          .sort(),
      ).to.deep.equal([...row.usable].sort());
      expect(Object.fromEntries(blockedAll.map((e) => [e.name, e.blockedBy]))).to.deep.equal(
        row.blocked,
      );
      expect(report.groups.filter((g) => g.missing).map((g) => g.group)).to.deep.equal(row.missing);
      for (const [name, why] of Object.entries(row.why ?? {}))
        expect(by(name)?.why, name).to.equal(why);
      for (const [name, left] of Object.entries(row.left ?? {}))
        expect(by(name)?.incidents, name).to.include({ limited: true, left });
      for (const e of blockedAll)
        expect(blockedBy(e.name)!.notUsableReason, e.name).to.be.a('string').and.not.equal('');
      for (const g of report.groups) expect(!!g.guidance, g.group).to.equal(g.missing);
    });

  it('groups as LCS does, in its order, with titles', () => {
    const report = derive(rows[0]!);
    expect(report.groups.map((g) => g.title)).to.deep.equal([
      'Contract ID / access ID',
      'PartnerSource Business Center account',
      'Login-specific',
      'Tenant subscription',
      'Software Assurance',
    ]);
    expect(report).to.include({ orgId: 'contoso', projectId: 'contoso-fo', deployment: 'cloud' });
  });

  it('gives the LCS guidance for each missing group', () => {
    const adeleOnPrem = derive(rows[4]!);
    const megansCloud = derive(rows[2]!);
    const guidance = (r: EntitlementReport, g: PlanGroup) =>
      r.groups.find((x) => x.group === g)!.guidance!;
    expect(guidance(adeleOnPrem, 'contract'))
      .to.include('account manager (TAM or SAM)')
      .and.include('Add contract');
    expect(guidance(adeleOnPrem, 'psbc'))
      .to.include('added as a professional')
      .and.include('adelev@example.com')
      .and.include('same login');
    expect(guidance(adeleOnPrem, 'login'))
      .to.include('Microsoft account')
      .and.include('not a work account');
    expect(guidance(adeleOnPrem, 'tenant')).to.include("don't cover");
    expect(guidance(megansCloud, 'psbc')).to.include('only to on-premises projects');
    expect(guidance(megansCloud, 'software-assurance'))
      .to.include('while creating an incident')
      .and.include('subscription number and the contact e-mail');
  });

  it('explains why a purchased incident is not usable with a work account', () => {
    const five = allEntitlements(derive(rows[2]!)).find((e) => e.kind === 'five-pack')!;
    expect(five.notUsableReason)
      .to.include('megan.bowen@hotmail.com')
      .and.include('work account meganb@example.com')
      .and.include('no Microsoft account linked');
    expect(five.incidents).to.deep.equal({ limited: true, total: 5, used: 0, left: 5 });
  });

  it('refuses a limited plan with none left and says so', () => {
    const row = rows[5]!;
    const find = (usage: Record<string, number>) =>
      allEntitlements(derive({ ...row, usage })).find((e) => e.contractId === 'DEMO-7654321')!;
    expect(find({ 'contract:DEMO-7654321': 1 })).to.deep.include({
      usable: true,
      incidents: { limited: true, total: 2, used: 1, left: 1 },
    });
    expect(find({ 'contract:DEMO-7654321': 2 })).to.deep.include({
      usable: false,
      blockedBy: 'no-incidents',
      notUsableReason: 'No incidents left (2 of 2 used).',
      incidents: { limited: true, total: 2, used: 2, left: 0 },
    });
  });

  it('does not show a contract linked in another organization of the registry', () => {
    const d = plansDirectory();
    d.contractRegistry[0]!.organizations = ['fabrikam'];
    const report = derive(
      {
        ...rows[0]!,
        links: links('alex', {
          contracts: [
            {
              contractId: 'DEMO-1234567',
              secretKind: 'access-id',
              linkedAt: '2026-11-21T10:00:00Z',
            },
          ],
        }),
      },
      d,
    );
    expect(
      allEntitlements(report).find((e) => e.contractId === 'DEMO-1234567')!.blockedBy,
    ).to.equal('invalid-contract');
  });

  it('lists the usable plans for an incident with tier, incidents left and SLA plan', () => {
    const plans = usableContracts(derive(rows[1]!));
    expect(plans.map((p) => p.group)).to.deep.equal([
      'contract',
      'psbc',
      'psbc',
      'psbc',
      'psbc',
      'login',
      'login',
      'software-assurance',
    ]);
    expect(plans[0]).to.deep.equal({
      ref: 'contract:PREM-7654321',
      group: 'contract',
      kind: 'premier',
      name: 'Premier',
      tier: 'Premier Support for Enterprise',
      incidents: { limited: true, total: 10, used: 0, left: 10 },
      slaPlan: 'premier',
    });
    const cloud = usableContracts(derive(rows[0]!));
    expect(cloud.find((p) => p.kind === 'prodirect')).to.deep.include({
      slaPlan: 'professional-direct',
      incidents: { limited: false },
    });
    expect(cloud.find((p) => p.kind === 'unified')).to.deep.include({
      tier: 'advanced',
      slaPlan: 'unified-advanced',
    });
  });

  it("takes the work login from the directory when Teams didn't send the e-mail", () => {
    const d = plansDirectory();
    const org = d.organizations[0]!;
    const report = deriveEntitlements({
      org,
      project: org.projects[0]!,
      user: { aadObjectId: alex.aadObjectId.toUpperCase() },
      registry: d.contractRegistry,
    });
    expect(allEntitlements(report).find((e) => e.kind === 'mpn-gold')).to.include({
      usable: true,
      why: 'Belongs to your login alexw@example.com.',
    });
  });

  it('formats days in the organization zone', () => {
    expect(formatDay('2026-11-21T10:00:00Z', 'UTC')).to.equal('21 Nov 2026');
    expect(formatDay('2026-09-15T02:00:00Z', 'America/Los_Angeles')).to.equal('14 Sep 2026');
  });
});

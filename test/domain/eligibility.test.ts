import { expect } from 'chai';
import { outageEligibility } from '../../src/domain/eligibility.js';
import { demoDirectory, demoUser } from '../helpers/fixtures.js';

describe('outageEligibility', () => {
  const directory = demoDirectory();
  const rows: { who: Parameters<typeof demoUser>[0]; tenantId?: string; targets: string[]; reasons: RegExp[] }[] = [
    { who: 'alex', targets: ['contoso-fo/contoso-prod'], reasons: [/on-premises project/, /no production environment/] },
    { who: 'megan', targets: [], reasons: [/Project team member \(prospect\)/, /no production environment/] },
    { who: 'adele', targets: [], reasons: [/managed by your organisation, not by Microsoft/] },
    { who: 'isaiah', targets: [], reasons: [/aren't a member of any Finance and Operations project of Contoso Ltd/] },
    { who: 'alex', tenantId: '99999999-9999-9999-9999-999999999999', targets: [], reasons: [/isn't set up/] },
  ];
  for (const row of rows)
    it(`gives ${row.who}${row.tenantId ? ' in another tenant' : ''} ${row.targets.length} target(s) and explains each refusal`, () => {
      const user = demoUser(row.who, row.tenantId ? { tenantId: row.tenantId } : {});
      const e = outageEligibility(directory, user);
      expect(e.targets.map((t) => `${t.project.id}/${t.environment.id}`)).to.deep.equal(row.targets);
      expect(e.refusals).to.have.length(row.reasons.length);
      row.reasons.forEach((r, i) => expect(e.refusals[i]!.reason).to.match(r));
      // one sentence each, with the way forward
      for (const r of e.refusals) expect(r.reason).to.match(/, (so|and) .+\.$/);
    });

  it('never shows another tenant’s projects', () => {
    const e = outageEligibility(directory, demoUser('alex'));
    expect(e.targets.every((t) => t.org.id === 'contoso')).to.equal(true);
  });

  it('refuses non-implementation projects and products other than Finance or SCM', () => {
    const d = demoDirectory();
    const project = d.organizations[0]!.projects[0]!;
    project.type = 'migration';
    expect(outageEligibility(d, demoUser('alex')).refusals[0]!.reason).to.match(/migration project/);
    project.type = 'implementation';
    project.products = ['commerce'];
    expect(outageEligibility(d, demoUser('alex')).refusals[0]!.reason).to.match(/Dynamics 365 Commerce/);
  });
});

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseDirectory } from '../../src/directory.js';
import { ConfigError } from '../../src/errors.js';
import { DEMO_CONTRACTS, demoPlansFragment } from '../../src/plans/demoPlans.js';
import { verifySecret } from '../../src/plans/secretHash.js';
import { DEMO_DIRECTORY_FILE, demoDirectory } from '../helpers/fixtures.js';

// The directory file embeds each organisation's `plans` and the top-level `contractRegistry`,
// checked with the rest of the directory (checkPlans in its superRefine).

const demoText = readFileSync(DEMO_DIRECTORY_FILE, 'utf8');

function errorOf(text: string): string {
  try {
    parseDirectory(text, 'dir.json');
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the directory to be rejected');
}

/** The line of the first occurrence of `needle` in `text`, 1-based. */
const lineOf = (text: string, needle: string) =>
  text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('directory: support plans', () => {
  it('embeds the demo plans and registry of src/plans/demoPlans.json, hashes only', async () => {
    const d = demoDirectory();
    const fragment = demoPlansFragment();
    expect(d.organizations.find((o) => o.id === 'contoso')!.plans).to.deep.equal(
      fragment.plans.contoso,
    );
    expect(d.contractRegistry).to.deep.equal(fragment.contractRegistry);
    for (const demo of DEMO_CONTRACTS) {
      expect(demoText).not.to.include(demo.secret);
      const entry = d.contractRegistry.find((c) => c.contractId === demo.contractId)!;
      expect(await verifySecret(demo.secret, entry.secrets[0]!.hash)).to.equal(true);
    }
  });

  it('has a second organisation of the tenant for Alex, with its own plans', () => {
    const d = demoDirectory();
    const alex = '00000000-0000-0000-0000-0000000000020';
    const orgs = d.organizations.filter(
      (o) =>
        o.tenantId === '00000000-0000-0000-0000-0000000000001' &&
        o.projects.some((p) => p.members.some((m) => m.aadObjectId === alex)),
    );
    expect(orgs.map((o) => o.name)).to.deep.equal(['Contoso Ltd', 'Contoso Europe']);
    expect(orgs[1]!.plans.contracts.map((c) => c.contractId)).to.deep.equal(['PREM-2201001']);
  });

  it('gives an organisation without plans empty ones of its own, and no registry an empty one', () => {
    const raw = structuredClone(demoDirectory()) as any;
    for (const o of raw.organizations) delete o.plans;
    delete raw.contractRegistry;
    const d = parseDirectory(JSON.stringify(raw), 'dir.json');
    expect(d.contractRegistry).to.deep.equal([]);
    expect(d.organizations[0]!.plans.contracts).to.deep.equal([]);
    expect(d.organizations[0]!.plans.contracts).not.to.equal(d.organizations[1]!.plans.contracts);
  });

  it('names the path and line of a bad plan', () => {
    const text = demoText.replace(
      '"contractId": "UNI-4400123", "kind": "unified", "tier": "advanced", "deployment": "cloud", "incidents": "unlimited"',
      '"contractId": "UNI-4400123", "kind": "unified", "tier": "advanced", "deployment": "cloud", "incidents": 3',
    );
    expect(text).not.to.equal(demoText);
    const line = lineOf(text, '"incidents": 3');
    expect(errorOf(text)).to.include(
      `dir.json:${line}: organizations[0].plans.contracts[0].incidents: a cloud contract has unlimited incidents ("unlimited")`,
    );
  });

  it('names the path and line of a registry entry for an unknown organisation', () => {
    const text = demoText.replace(
      '"organizations": ["contoso"],\n      "secrets": [{ "kind": "access-id"',
      '"organizations": ["nowhere"],\n      "secrets": [{ "kind": "access-id"',
    );
    expect(text).not.to.equal(demoText);
    const line = lineOf(text, '"nowhere"');
    expect(errorOf(text)).to.include(
      `dir.json:${line}: contractRegistry[0].organizations[0]: unknown organization "nowhere"`,
    );
  });

  it('refuses an access ID written in the clear', () => {
    const raw = structuredClone(demoDirectory()) as any;
    raw.contractRegistry[0].secrets[0].hash = 'demo-access-2026';
    expect(errorOf(JSON.stringify(raw, null, 2)))
      .to.include('contractRegistry[0].secrets[0].hash: expected an scrypt hash')
      .and.not.include('demo-access-2026');
  });

  it('refuses a plan for a project of another organisation', () => {
    const raw = structuredClone(demoDirectory()) as any;
    raw.organizations[1].plans.contracts[0].projects = ['contoso-fo'];
    expect(errorOf(JSON.stringify(raw, null, 2))).to.include(
      'organizations[1].plans.contracts[0].projects[0]: unknown project "contoso-fo" in organization contoso-europe',
    );
  });
});

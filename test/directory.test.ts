import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDirectory, parseDirectory } from '../src/directory.js';
import { ConfigError } from '../src/errors.js';
import { DEMO_DIRECTORY_FILE, demoDirectory } from './helpers/fixtures.js';
import { readFileSync } from 'node:fs';

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

describe('directory', () => {
  it('loads the demo directory with Alex Wilber in the Playground tenant', async () => {
    const d = await loadDirectory(DEMO_DIRECTORY_FILE);
    const contoso = d.organizations.find((o) => o.tenantId === '00000000-0000-0000-0000-0000000000001');
    expect(contoso?.projects.some((p) => p.members.some((m) => m.name === 'Alex Wilber'))).to.equal(true);
    expect(d.desk.channel.channelId).to.equal('channel-support-desk-id');
  });

  const rows: { name: string; edit: (d: any) => void; expect: RegExp }[] = [
    { name: 'a bad environment type, naming its path and line', edit: (d) => (d.organizations[0].projects[0].environments[0].type = 'prod'), expect: /dir\.json:\d+: organizations\[0\]\.projects\[0\]\.environments\[0\]\.type: /},
    { name: 'an unknown LCS role', edit: (d) => (d.organizations[0].projects[0].members[0].role = 'boss'), expect: /organizations\[0\]\.projects\[0\]\.members\[0\]\.role/ },
    { name: 'a missing tenant id', edit: (d) => delete d.organizations[1].tenantId, expect: /organizations\[1\]\.tenantId/ },
    { name: 'an unknown time zone', edit: (d) => (d.organizations[0].timeZone = 'Mars/Olympus'), expect: /organizations\[0\]\.timeZone: unknown IANA time zone/ },
    { name: 'a duplicate project id', edit: (d) => (d.organizations[1].projects[0].id = 'contoso-fo'), expect: /duplicate id "contoso-fo"/ },
    { name: 'a misspelt key', edit: (d) => (d.organizations[0].projects[0].enviroments = []), expect: /organizations\[0\]\.projects\[0\].*enviroments/ },
    { name: 'a bad phone number', edit: (d) => (d.phoneSupport[0].number = 'call us'), expect: /phoneSupport\[0\]\.number: expected a phone number/ },
    { name: 'no desk members', edit: (d) => (d.desk.members = []), expect: /desk\.members/ },
    { name: 'no outage scenarios', edit: (d) => (d.outageScenarios = []), expect: /outageScenarios/ },
    { name: 'no issue categories', edit: (d) => (d.categories = []), expect: /categories/ },
    { name: 'a category without areas', edit: (d) => (d.categories[1].areas = []), expect: /categories\[1\]\.areas/ },
    { name: 'a duplicate category id', edit: (d) => (d.categories[1].id = 'finance'), expect: /categories\[1\]\.id: duplicate category id "finance"/ },
    { name: 'a duplicate area id in a category', edit: (d) => (d.categories[0].areas[1].id = 'general-ledger'), expect: /dir\.json:\d+: categories\[0\]\.areas\[1\]\.id: duplicate area id "general-ledger" in category finance/ },
  ];
  for (const row of rows)
    it(`rejects ${row.name}`, () => {
      const d = structuredClone(demoDirectory()) as any;
      row.edit(d);
      expect(errorOf(JSON.stringify(d, null, 2))).to.match(row.expect);
    });

  it('names the line of a JSON syntax error', () => {
    const broken = demoText.replace('"name": "Contoso Ltd",', '"name": "Contoso Ltd"');
    expect(errorOf(broken)).to.match(/^dir\.json:\d+: not valid JSON/);
  });

  it('points at the line of the bad value in the file as written', () => {
    const text = demoText.replace('"type": "sandbox", "managedBy": "microsoft" }', '"type": "sandbox", "managedBy": "partner" }');
    const line = text.split('\n').findIndex((l) => l.includes('"partner"')) + 1;
    expect(errorOf(text)).to.include(`dir.json:${line}: `);
  });

  it('says which file it cannot read', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dir-'));
    try {
      await loadDirectory(path.join(dir, 'missing.json'));
      expect.fail('should throw');
    } catch (err) {
      expect((err as Error).message).to.include('missing.json');
    }
    writeFileSync(path.join(dir, 'empty.json'), '');
    try {
      await loadDirectory(path.join(dir, 'empty.json'));
      expect.fail('should throw');
    } catch (err) {
      expect((err as Error).message).to.match(/empty\.json:1: not valid JSON/);
    }
  });
});

describe('demo issue categories', () => {
  it('use the knowledge base’s category and area names, so Issue search can favour the chosen area', () => {
    const kb = readFileSync(path.join(path.dirname(DEMO_DIRECTORY_FILE), '..', 'kb', 'demo.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { category: string; area: string });
    const inKb = new Set(kb.map((e) => `${e.category}/${e.area}`));
    const offered = demoDirectory().categories.flatMap((c) => c.areas.map((a) => `${c.name}/${a.name}`));
    expect(offered.filter((x) => !inKb.has(x))).to.deep.equal([]);
  });
});

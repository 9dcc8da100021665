import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../src/config.js';
import { costOf, hashSecret, SecretHash, verifySecret } from '../../src/plans/secretHash.js';

const cheap = { ln: 14, r: 8, p: 1 };

describe('secretHash', () => {
  it('verifies the secret it hashed and nothing else', async () => {
    const hash = await hashSecret('demo-access-2026', cheap);
    expect(hash).to.match(/^scrypt\$ln=14,r=8,p=1\$/);
    expect(hash).not.to.include('demo-access-2026');
    expect(await verifySecret('demo-access-2026', hash)).to.equal(true);
    expect(await verifySecret('demo-access-2027', hash)).to.equal(false);
    expect(await verifySecret('', hash)).to.equal(false);
  });

  it('ignores blanks pasted around the secret', async () => {
    const hash = await hashSecret('demo-access-2026', cheap);
    expect(await verifySecret('  demo-access-2026\n', hash)).to.equal(true);
  });

  it('salts every hash', async () => {
    const [a, b] = [await hashSecret('same', cheap), await hashSecret('same', cheap)];
    expect(a).not.to.equal(b);
  });

  it('never matches against a malformed or too cheap hash', async () => {
    expect(await verifySecret('demo-access-2026', 'demo-access-2026')).to.equal(false);
    const weak = (await hashSecret('x', cheap)).replace('ln=14', 'ln=10');
    expect(await verifySecret('x', weak)).to.equal(false);
    expect(costOf(weak)).to.equal(undefined);
  });

  it('refuses a plain-text secret in the schema, saying how to hash it', async () => {
    const r = SecretHash.safeParse('demo-access-2026');
    expect(r.success).to.equal(false);
    expect(r.error!.issues[0]!.message)
      .to.include('hashAccessId.ts')
      .and.include('never the access ID');
    expect(SecretHash.safeParse(await hashSecret('demo-access-2026', cheap)).success).to.equal(
      true,
    );
  });

  it('hashAccessId prints a hash of standard input and never the secret', async function () {
    this.timeout(30_000);
    const script = join(projectRoot, 'src', 'plans', 'hashAccessId.ts');
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
      input: 'demo-access-2026\n',
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).to.equal(0);
    const hash = r.stdout.trim();
    expect(r.stdout + r.stderr).not.to.include('demo-access-2026');
    expect(SecretHash.safeParse(hash).success).to.equal(true);
    expect(await verifySecret('demo-access-2026', hash)).to.equal(true);
  });

  it('hashAccessId refuses empty input', () => {
    const script = join(projectRoot, 'src', 'plans', 'hashAccessId.ts');
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
      input: '  \n',
      encoding: 'utf8',
    });
    expect(r.status).to.equal(2);
    expect(r.stdout).to.equal('');
  });
});

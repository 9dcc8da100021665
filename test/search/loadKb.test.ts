import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { KbFileError, loadKb, parseKb } from '../../src/search/loadKb.js';
import { validEntry } from './fixtures.js';

const line = (patch: Record<string, unknown> = {}) => JSON.stringify({ ...validEntry, ...patch });

function problemsOf(text: string): string[] {
  try {
    parseKb(text, 'kb.jsonl');
  } catch (e) {
    expect(e).to.be.instanceOf(KbFileError);
    return (e as KbFileError).problems.map((p) => `line ${p.line}: ${p.message}`);
  }
  throw new Error('expected the knowledge base to be refused');
}

describe('loadKb', () => {
  it('reads one entry a line, blank lines and a BOM allowed', () => {
    const text = `\uFEFF${line()}\n\n${line({ id: 'second', kbNumber: 7123457 })}\r\n`;
    const entries = parseKb(text);
    expect(entries.map((e) => e.id)).to.deep.equal(['gl-voucher-balance', 'second']);
    expect(entries[1]?.kbNumber).to.equal('KB7123457');
  });

  it('names the line of bad JSON', () => {
    expect(problemsOf(`${line()}\n{"id": "broken",\n`)).to.have.length(1);
    expect(problemsOf(`${line()}\n{"id": "broken",\n`)[0]).to.match(/^line 2: not valid JSON/);
  });

  it('names the line and the field of an invalid entry, and its id', () => {
    const found = problemsOf(
      `${line()}\n\n${line({ id: 'third', kbNumber: 'KB7000003', status: 'Fixed' })}`,
    );
    expect(found).to.have.length(1);
    expect(found[0]).to.match(/^line 3: status: .*\(id "third"\)$/);
  });

  it('collects every bad line instead of stopping at the first', () => {
    const text = [
      line(),
      line({ id: 'b', kbNumber: 'KB7000002', link: 'not a url' }),
      'nonsense',
      line({ id: 'd', kbNumber: 'KB7000004', versions: 'all' }),
    ].join('\n');
    const found = problemsOf(text);
    expect(found.map((f) => f.split(':')[0])).to.deep.equal(['line 2', 'line 3', 'line 4']);
    expect(found[0]).to.include('link');
    expect(found[2]).to.include('versions');
  });

  it('refuses duplicate ids and KB numbers, naming both lines', () => {
    const text = [
      line(),
      line({ kbNumber: 'KB7000009' }),
      line({ id: 'other', kbNumber: '7123456' }),
    ].join('\n');
    expect(problemsOf(text)).to.deep.equal([
      'line 2: duplicate id "gl-voucher-balance" (first on line 1)',
      'line 3: duplicate KB number KB7123456 (first on line 1)',
    ]);
  });

  it('refuses a file without entries', () => {
    expect(problemsOf('\n\n')[0]).to.match(/no entries/);
  });

  it('puts the file and every problem in the error message', () => {
    try {
      parseKb(`${line({ status: 'x' })}\n[1]`, 'kb/broken.jsonl');
      expect.fail('expected an error');
    } catch (e) {
      expect(e).to.be.instanceOf(ConfigError);
      expect((e as Error).message).to.match(
        /^kb\/broken\.jsonl: 2 problems\n {2}line 1: status: .*\n {2}line 2: /,
      );
    }
  });

  it('shows the first 20 problems and counts the rest', () => {
    const text = Array.from({ length: 25 }, () => 'x').join('\n');
    try {
      parseKb(text, 'big.jsonl');
      expect.fail('expected an error');
    } catch (e) {
      expect((e as KbFileError).problems).to.have.length(25);
      expect((e as Error).message).to.include('line 20: not valid JSON');
      expect((e as Error).message).not.to.include('line 21:');
      expect((e as Error).message).to.include('... and 5 more');
    }
  });

  describe('from a file', () => {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), 'kb-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('loads a file and names it in errors', async () => {
      const good = join(dir, 'good.jsonl');
      writeFileSync(good, `${line()}\n`);
      expect(await loadKb(good)).to.have.length(1);
      const bad = join(dir, 'bad.jsonl');
      writeFileSync(
        bad,
        `${line()}\n${line({ id: 'x', kbNumber: 'KB7000001', updated: 'yesterday' })}\n`,
      );
      const error = await loadKb(bad).catch((e: Error) => e);
      expect(
        (error as Error).message.startsWith(`${bad}: 1 problem\n  line 2: updated: `),
      ).to.equal(true);
    });

    it('says so when the file cannot be read', async () => {
      const error = await loadKb(join(dir, 'missing.jsonl')).catch((e: Error) => e);
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as Error).message).to.include('cannot read the knowledge base');
    });
  });
});

import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { encodeName } from '../../src/store/fileLayout.js';
import { seededRandom } from '../../src/seededRandom.js';

/** The encoding as first written (a byte at a time from a Buffer): names on disk must not change. */
function reference(raw: string): string {
  let out = '';
  for (const byte of Buffer.from(raw, 'utf8')) {
    const keep = (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte === 0x2d;
    out += keep ? String.fromCharCode(byte) : `_${byte.toString(16).padStart(2, '0')}`;
  }
  if (out.length > 120) return `~${createHash('sha256').update(raw).digest('hex')}`;
  if (/^(con|prn|aux|nul|com\d|lpt\d)$/.test(out)) return `_${out.charCodeAt(0).toString(16)}${out.slice(1)}`;
  return out;
}

describe('file names of documents (encodeName)', () => {
  it('keeps [a-z0-9-] and writes every other UTF-8 byte as _hh', () => {
    expect(encodeName('out-100001')).to.equal('out-100001');
    expect(encodeName('OUT-100001')).to.equal('_4f_55_54-100001');
    expect(encodeName('a:b/c d')).to.equal('a_3ab_2fc_20d');
    expect(encodeName('café')).to.equal('caf_c3_a9');
    expect(encodeName('🚀')).to.equal('_f0_9f_9a_80');
    expect(encodeName('\u0000\u007f')).to.equal('_00_7f');
    expect(encodeName('con')).to.equal('_63on');
    expect(encodeName('x'.repeat(200))).to.match(/^~[0-9a-f]{64}$/);
  });

  it('names every id as it always has (the files of an existing store)', () => {
    const random = seededRandom(11);
    const alphabet = ['a', 'Z', '0', '-', '_', ':', '/', '.', ' ', '|', 'é', 'ß', '中', '🚀', '\u0000', '\u007f', '\u0080', '~'];
    for (let i = 0; i < 2_000; i++) {
      const length = Math.floor(random() * 70);
      const id = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      expect(encodeName(id), JSON.stringify(id)).to.equal(reference(id));
    }
  });
});

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ACData from 'adaptivecards-templating';
import { CARD_NAMES, CardRenderError, cardsWithoutSkeleton, renderCardJson } from '../../bot/cards.js';
import { analyseTemplate } from '../../bot/cardPlan.js';
import type { CardName } from '../../src/flows/views.js';
import { projectRoot } from '../../src/config.js';
import { seededRandom } from '../../src/seededRandom.js';

const templateJson = (name: string) => JSON.parse(readFileSync(path.join(projectRoot, 'cards', `${name}.json`), 'utf8'));
const sample = (name: string) => JSON.parse(readFileSync(path.join(projectRoot, 'cards', 'samples', `${name}.json`), 'utf8'));

const oracles = new Map<string, ACData.Template>();

/** The library's own expansion: what every render must equal. */
function oracle(name: string, data: Record<string, unknown>): unknown {
  ACData.GlobalSettings.getUndefinedFieldValueSubstitutionString = (p: string) => {
    throw new Error(`unbound ${p}`);
  };
  if (!oracles.has(name)) oracles.set(name, new ACData.Template(templateJson(name)));
  return oracles.get(name)!.expand({ $root: data });
}

const TRICKY = ['', 'x', 'a "quoted" \\ back\\slash', '${notice}', '${', 'línea\nnueva\ttab', 'nul\u0000in', '\u0001', '🚀 émoji', 'y'.repeat(300), '0', 'true'];

describe('card skeletons (bot/cardPlan.ts)', () => {
  describe('reading a template', () => {
    it('calls a field opaque where it is only shown as it is or tested for being empty', () => {
      const fields = analyseTemplate({
        a: '${shown}',
        b: 'Hello ${inText}, ${$root.viaRoot}',
        c: { $when: "${flag != ''}", t: '${shownToo}' },
        d: { $data: '${list}', t: '${name} ${$root.fromItem} ${$index}', u: { $when: "${kind == 'x'}" } },
        e: '${decided}',
        f: { $when: '${decided}' },
        g: '${count(items) > 0}',
        h: "${if(mode == 'x', 'X', 'Y')}",
        i: "${'quoted text with name'}",
        j: { $data: '${outer}', items: [{ $data: '${inner}', t: '${x}' }] },
      });
      expect(fields).not.to.equal(null);
      const use = (embedded: boolean, emptiness = false) => ({ embedded, emptiness });
      expect([...fields!.opaque]).to.deep.equal([
        ['shown', use(false)],
        ['inText', use(true)],
        ['viaRoot', use(true)],
        ['flag', use(false, true)],
        ['shownToo', use(false)],
      ]);
      expect([...fields!.repeats]).to.deep.equal([['list', { opaque: new Map([['name', use(true)]]), keyed: ['kind'] }]]);
      expect(fields!.keyed).to.deep.equal(['decided', 'fromItem', 'items', 'mode', 'outer']);
    });

    it('gives up on what it does not follow: indexing, the whole root, $data at the root, expressions in keys', () => {
      expect(analyseTemplate({ a: '${list[0]}' })).to.equal(null);
      expect(analyseTemplate({ a: '${json($root)}' })).to.equal(null);
      expect(analyseTemplate({ a: '${$data}' })).to.equal(null);
      expect(analyseTemplate({ '${key}': 'x' })).to.equal(null);
      expect(analyseTemplate({ a: 'open ${never closed' })).to.equal(null);
      expect(analyseTemplate({ a: { $when: true } })).to.equal(null);
    });

    it('reads every template in cards/', () => {
      for (const name of CARD_NAMES) expect(analyseTemplate(templateJson(name)), name).not.to.equal(null);
    });
  });

  describe('rendering', () => {
    const random = seededRandom(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

    /** The sample with its opaque fields (and now and then a keyed one) given other values of the same kind. */
    function variant(name: CardName): Record<string, unknown> {
      const data = sample(name);
      const fields = analyseTemplate(templateJson(name))!;
      const vary = (obj: Record<string, unknown>, field: string) => {
        const v = obj[field];
        if (typeof v === 'string') obj[field] = pick(TRICKY);
        else if (typeof v === 'number') obj[field] = Math.floor(random() * 1e6) / pick([1, 100]);
        else if (typeof v === 'boolean') obj[field] = random() < 0.5;
        else if (v && typeof v === 'object') obj[field] = Array.isArray(v) ? v.slice(0, Math.floor(random() * (v.length + 1))) : { ...v, extra: pick(TRICKY) };
      };
      for (const field of fields.opaque.keys()) vary(data, field);
      for (const [field, repeat] of fields.repeats) {
        const rows = data[field] as Record<string, unknown>[];
        // Fewer or more rows (a copy of a row), each row's shown fields varied.
        const n = Math.floor(random() * (rows.length + 2));
        data[field] = Array.from({ length: rows.length ? n : 0 }, (_, i) => {
          const row = { ...rows[i % rows.length]! };
          for (const of of repeat.opaque.keys()) vary(row, of);
          return row;
        });
      }
      if (random() < 0.3 && typeof data.notice === 'string') data.notice = pick(['', 'A notice']);
      if (random() < 0.3 && data.errors && typeof data.errors === 'object') {
        const errors = data.errors as Record<string, string>;
        const key = pick(Object.keys(errors));
        if (key) errors[key] = pick(['', 'Enter this.']);
      }
      return data;
    }

    it('gives what the library gives, for every card and many values of its fields', () => {
      for (const name of CARD_NAMES)
        for (let i = 0; i < 40; i++) {
          const data = variant(name);
          const expected = oracle(name, structuredClone(data));
          for (let r = 0; r < 3; r++) expect(renderCardJson({ card: name, data }), `${name} #${i}`).to.deep.equal(expected);
        }
      expect(cardsWithoutSkeleton(), 'cards whose skeleton was refused').to.deep.equal([]);
    });

    it('expands a template only until it has a skeleton for the view', () => {
      const expand = ACData.Template.prototype.expand;
      let expansions = 0;
      ACData.Template.prototype.expand = function (this: ACData.Template, ...args: Parameters<typeof expand>) {
        expansions++;
        return expand.apply(this, args);
      };
      try {
        const base = sample('outageContact');
        base.errors = { ...base.errors, name: 'an error only this test shows' }; // a key no other test makes
        for (let i = 0; i < 50; i++) {
          const data = { ...base, name: `Person ${i}`, email: `p${i}@contoso.com`, action: { draftId: `d${i}`, rev: i } };
          const card = renderCardJson({ card: 'outageContact', data });
          expect(JSON.stringify(card)).to.include(`Person ${i}`).and.include(`"draftId":"d${i}"`);
        }
      } finally {
        ACData.Template.prototype.expand = expand;
      }
      expect(expansions).to.equal(3); // first sight; second sight: the view and its skeleton
    });

    it('gives each caller its own card, not the skeleton or the view', () => {
      const data = sample('outageDetails');
      const cards = [1, 2, 3, 4].map(() => renderCardJson({ card: 'outageDetails', data }));
      const actions = (cards[3]!.actions as { data: unknown }[]).map((a) => a.data);
      expect(actions[0]).to.deep.equal(data.action);
      expect(actions[0]).not.to.equal(data.action);
      (cards[3]!.body as unknown[]).length = 0;
      expect(renderCardJson({ card: 'outageDetails', data })).to.deep.equal(cards[2]);
    });

    it('still refuses a view with an opaque field missing, after its skeleton is made', () => {
      const data = sample('message');
      for (let i = 0; i < 3; i++) renderCardJson({ card: 'message', data });
      const { text: _t, ...missing } = data;
      expect(() => renderCardJson({ card: 'message', data: missing })).to.throw(CardRenderError, /unbound text/);
    });
  });
});

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as AC from 'adaptivecards';
import { CARD_NAMES, CardRenderError, fixedCard, renderCardJson } from '../../bot/cards.js';
import { helpView } from '../../src/flows/views.js';
import { projectRoot } from '../../src/config.js';

const sample = (name: string) => JSON.parse(readFileSync(path.join(projectRoot, 'cards', 'samples', `${name}.json`), 'utf8'));

describe('cards', () => {
  for (const name of CARD_NAMES)
    it(`renders the ${name} sample as a valid Adaptive Card 1.5 with every binding filled`, () => {
      const json = renderCardJson({ card: name, data: sample(name) });
      expect(JSON.stringify(json)).not.to.include('${');
      const card = new AC.AdaptiveCard();
      const ctx = new AC.SerializationContext();
      card.parse(json, ctx);
      const events = [...Array(ctx.eventCount).keys()].map((i) => ctx.getEventAt(i).message);
      expect(events).to.deep.equal([]);
      const problems = card.validateProperties().validationEvents.map((e) => e.message);
      expect(problems).to.deep.equal([]);
      expect(json.version).to.equal('1.5');
    });

  it('refuses a view with a missing field instead of showing ${field} to a customer', () => {
    const data = sample('message');
    delete data.text;
    expect(() => renderCardJson({ card: 'message', data })).to.throw(CardRenderError, /unbound text/);
    expect(() => renderCardJson({ card: 'message', data }), 'a refusal is not remembered').to.throw(CardRenderError, /unbound text/);
  });

  describe('repeated views', () => {
    it('renders every sample alike the first, second and third time (expanded, kept, copied from the kept card)', () => {
      for (const name of CARD_NAMES) {
        const renders = [1, 2, 3].map(() => renderCardJson({ card: name, data: sample(name) }));
        expect(renders[1], name).to.deep.equal(renders[0]);
        expect(renders[2], name).to.deep.equal(renders[0]);
      }
    });

    it('gives each caller its own card: changing one does not change the next', () => {
      const first = renderCardJson(helpView());
      const original = structuredClone(first);
      for (let i = 0; i < 3; i++) {
        const card = renderCardJson(helpView());
        expect(card).to.deep.equal(original);
        expect(card).not.to.equal(first);
        (card.body as Record<string, unknown>[])[0]!.text = 'changed';
        (card.body as unknown[]).push({ type: 'TextBlock', text: 'added' });
        card.refresh = { userIds: [] };
      }
      expect(renderCardJson(helpView())).to.deep.equal(original);
    });

    it('binds each view to its own data', () => {
      for (let i = 0; i < 3; i++) {
        const plain = JSON.stringify(renderCardJson(helpView()));
        const withIntro = JSON.stringify(renderCardJson(helpView('I didn’t understand “hi there”.')));
        expect(plain).not.to.include('hi there');
        expect(withIntro).to.include('I didn’t understand “hi there”.');
      }
    });
  });

  describe('fixedCard', () => {
    it('answers with the card renderCard gives, a new copy each time', () => {
      const help = fixedCard(helpView());
      const first = help();
      expect(first.contentType).to.equal('application/vnd.microsoft.card.adaptive');
      expect(first.content).to.deep.equal(renderCardJson(helpView()));
      (first.content.body as unknown[]).length = 0;
      expect(help().content).to.deep.equal(renderCardJson(helpView()));
      expect(help().content).not.to.equal(help().content);
    });

    it('fails at once for a view that does not bind', () => {
      expect(() => fixedCard({ card: 'message', data: { title: 'x' } })).to.throw(CardRenderError, /unbound/);
    });
  });
});

import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as AC from 'adaptivecards';
import { CARD_NAMES, CardRenderError, renderCardJson } from '../../bot/cards.js';
import { projectRoot } from '../../src/config.js';

describe('cards', () => {
  for (const name of CARD_NAMES)
    it(`renders the ${name} sample as a valid Adaptive Card 1.5 with every binding filled`, () => {
      const data = JSON.parse(readFileSync(path.join(projectRoot, 'cards', 'samples', `${name}.json`), 'utf8'));
      const json = renderCardJson({ card: name, data });
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
    const data = JSON.parse(readFileSync(path.join(projectRoot, 'cards', 'samples', 'message.json'), 'utf8'));
    delete data.text;
    expect(() => renderCardJson({ card: 'message', data })).to.throw(CardRenderError, /unbound text/);
  });
});

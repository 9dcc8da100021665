// What rendering a card costs, two ways, for the cards of the outage flow and the acknowledgement:
//   library   adaptivecards-templating's expand of the parsed template (what every render cost
//             before bot/cardPlan.ts, and what a view seen for the first time still costs);
//   ours      bot/cards.ts renderCardJson: a copy of the card's skeleton with the view's values.
// Each card's sample (cards/samples) with 5,000 draft ids and titles of its own, three rounds, and
// prints µs per render of the last round.
//   npx tsx bench/cardCost.ts

import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ACData from 'adaptivecards-templating';
import { renderCardJson } from '../bot/cards.js';
import { projectRoot } from '../src/config.js';
import type { CardName } from '../src/flows/views.js';

const CARDS: CardName[] = ['outageProject', 'outageConfirm', 'outageDetails', 'outageContact', 'deskTicket', 'ticketNews'];
const VIEWS = 5_000;

const json = (...parts: string[]) => JSON.parse(readFileSync(path.join(projectRoot, 'cards', ...parts), 'utf8'));

for (const card of CARDS) {
  const sample = json('samples', `${card}.json`) as Record<string, unknown>;
  const template = new ACData.Template(json(`${card}.json`));
  const views = Array.from({ length: VIEWS }, (_, i) => ({
    ...sample,
    action: { draftId: `draft-${i}`, rev: i },
    ...(typeof sample.title === 'string' ? { title: `Title ${i}` } : {}),
  }));
  const time = (render: (data: Record<string, unknown>) => unknown) => {
    const start = performance.now();
    for (const data of views) render(data);
    return ((performance.now() - start) * 1000) / VIEWS;
  };
  let library = 0;
  let ours = 0;
  for (let round = 0; round < 3; round++) {
    library = time((data) => template.expand({ $root: data }));
    ours = time((data) => renderCardJson({ card, data }));
  }
  process.stdout.write(`${card.padEnd(14)} library ${library.toFixed(1).padStart(5)} µs   ours ${ours.toFixed(1).padStart(5)} µs\n`);
}

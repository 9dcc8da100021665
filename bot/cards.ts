import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ACData from 'adaptivecards-templating';
import { CardFactory, type Attachment } from 'botbuilder';
import { projectRoot } from '../src/config.js';
import type { CardName, View } from '../src/flows/views.js';

// One typed renderer for every card. Templates are parsed once (parsing costs far more than
// expanding) and an unbound ${field} is an error, not silent text on a customer's screen.

// Every template in cards/ (one per CardName); test/bot/cards.test.ts renders each one's sample.
export const CARD_NAMES = readdirSync(path.join(projectRoot, 'cards'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length) as CardName);

const templates = new Map<CardName, ACData.Template>(
  CARD_NAMES.map((name) => [
    name,
    new ACData.Template(JSON.parse(readFileSync(path.join(projectRoot, 'cards', `${name}.json`), 'utf8'))),
  ]),
);

let unbound: string[] = [];
// The hook is global; expand() is synchronous, so collecting per call is safe.
ACData.GlobalSettings.getUndefinedFieldValueSubstitutionString = (p: string) => {
  unbound.push(p);
  return '';
};

export class CardRenderError extends Error {}

/** Binds a view to its template; throws if any binding had no value. */
export function renderCardJson(view: View): Record<string, unknown> {
  const template = templates.get(view.card);
  if (!template) throw new CardRenderError(`no template for card ${view.card}`);
  unbound = [];
  const card = template.expand({ $root: view.data }) as Record<string, unknown>;
  if (unbound.length > 0)
    throw new CardRenderError(`card ${view.card}: unbound ${[...new Set(unbound)].join(', ')}`);
  return card;
}

export function renderCard(view: View): Attachment {
  return CardFactory.adaptiveCard(renderCardJson(view));
}

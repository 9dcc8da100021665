import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ACData from 'adaptivecards-templating';
import { CardFactory, type Attachment } from 'botbuilder';
import { projectRoot } from '../src/config.js';
import type { CardName, View } from '../src/flows/views.js';

// One typed renderer for every card. Templates are parsed once, at their first render (parsing
// costs far more than expanding, and parsing all 30 at start-up took about 0.4 s of a 2 s start;
// the help card is still bound at start, so antlr's own warm-up happens then), and an unbound
// ${field} is an error, not silent text on a customer's screen. test/bot/cards.test.ts renders
// every template, so a broken one fails there.

// Every template in cards/ (one per CardName); test/bot/cards.test.ts renders each one's sample.
export const CARD_NAMES = readdirSync(path.join(projectRoot, 'cards'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length) as CardName);

const known = new Set<string>(CARD_NAMES);
const templates = new Map<CardName, ACData.Template>();

function templateOf(card: CardName): ACData.Template | undefined {
  let template = templates.get(card);
  if (!template && known.has(card)) {
    const file = path.join(projectRoot, 'cards', `${card}.json`);
    template = new ACData.Template(JSON.parse(readFileSync(file, 'utf8')));
    templates.set(card, template);
  }
  return template;
}

let unbound: string[] = [];
// The templating package's hook is global; expand() is synchronous, so collecting per call is
// safe. It is set before every expansion, not once at load: a process may hold two instances of
// this module (mocha loads some test files through require, others through import), and each
// must collect its own.
const collectUnbound = (p: string) => {
  unbound.push(p);
  return '';
};

export class CardRenderError extends Error {}

// Expanded cards by card and data. Many views repeat (help with an intro, "Who are you?", the same
// refusal), and expanding one costs far more (about 60 µs for help, and most of its turn's garbage)
// than the key and a copy. Views are JSON data (the outbox stores them) and the templates call no
// clock or random function, so equal data gives an equal card. A card is kept the second time its
// view is seen: most views (a draft, a ticket) are seen once, and copying each of them into the map
// would make their turns slower. Big views seldom repeat and are not kept. At most about 4 MB of
// keys and the kept cards. Maps keep insertion order: the first is the oldest.
const KEPT_CARDS = 200;
const SEEN_KEYS = 500;
const MAX_KEY_CHARS = 4_000;
const kept = new Map<string, Record<string, unknown>>();
const seenOnce = new Set<string>();

/** Binds a view to its template; throws if any binding had no value. Each call returns its own copy. */
export function renderCardJson(view: View): Record<string, unknown> {
  const key = `${view.card}\n${JSON.stringify(view.data)}`;
  const cached = kept.get(key);
  if (cached) {
    kept.delete(key); // most recently used goes last
    kept.set(key, cached);
    return copyJson(cached);
  }
  const card = expand(view);
  if (key.length > MAX_KEY_CHARS) return card;
  if (seenOnce.delete(key)) {
    // The caller owns the card it gets (botbuilder, or a handler, may add to it): keep a copy.
    kept.set(key, copyJson(card));
    if (kept.size > KEPT_CARDS) kept.delete(kept.keys().next().value!);
  } else {
    seenOnce.add(key);
    if (seenOnce.size > SEEN_KEYS) seenOnce.delete(seenOnce.values().next().value!);
  }
  return card;
}

function expand(view: View): Record<string, unknown> {
  const template = templateOf(view.card);
  if (!template) throw new CardRenderError(`no template for card ${view.card}`);
  unbound = [];
  ACData.GlobalSettings.getUndefinedFieldValueSubstitutionString = collectUnbound;
  const card = template.expand({ $root: view.data }) as Record<string, unknown>;
  if (unbound.length > 0)
    throw new CardRenderError(`card ${view.card}: unbound ${[...new Set(unbound)].join(', ')}`);
  return card;
}

// An expanded card is plain JSON (objects, arrays, strings, numbers, booleans, null): a loop copies
// it in a tenth of the time structuredClone or JSON.parse take.
function copyJson<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyJson(value[i]);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const k in value) out[k] = copyJson(value[k]);
  return out as T;
}

export function renderCard(view: View): Attachment {
  return CardFactory.adaptiveCard(renderCardJson(view));
}

/** A card whose view never changes (help): bound once, a broken template fails at start-up. */
export function fixedCard(view: View): () => Attachment {
  const card = renderCardJson(view);
  return () => CardFactory.adaptiveCard(copyJson(card));
}

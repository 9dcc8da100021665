import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ACData from 'adaptivecards-templating';
import { CardFactory, type Attachment } from 'botbuilder';
import { projectRoot } from '../src/config.js';
import type { CardName, View } from '../src/flows/views.js';
import { analyseTemplate, copyJson, fill, keyOf, markedData, type Skeleton, type TemplateFields, toSkeleton } from './cardPlan.js';

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
/** Each card's parsed template and what bot/cardPlan.ts read of its expressions (null: it gave up). */
const templates = new Map<CardName, { template: ACData.Template; plan: TemplateFields | null }>();

function templateOf(card: CardName): { template: ACData.Template; plan: TemplateFields | null } | undefined {
  let parsed = templates.get(card);
  if (!parsed && known.has(card)) {
    const json: unknown = JSON.parse(readFileSync(path.join(projectRoot, 'cards', `${card}.json`), 'utf8'));
    const plan = analyseTemplate(json); // before the library takes the JSON
    parsed = { template: new ACData.Template(json), plan };
    templates.set(card, parsed);
  }
  return parsed;
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

// Expansions by card and the view's keyed fields (bot/cardPlan.ts). Expanding a card through
// adaptivecards-templating costs far more (30–90 µs for the outage and desk cards, and most of a
// turn's garbage) than filling a skeleton (a copy of the card with the view's opaque fields put in).
// Views are JSON data (the outbox stores them) and the templates call no clock or random function,
// so views that agree on their keyed fields give the same card but for the opaque fields. A
// skeleton is made the second time its key is seen (most keys of a one-off view are seen once, and
// making a skeleton costs a second expansion), and it is kept only if filling it gives exactly what
// the direct expansion of that view gave. Big keys (long lists) seldom repeat and are not kept. At
// most about 7 MB of keys and skeletons, in practice far less. Maps keep insertion order: the
// first is the oldest.
const KEPT_CARDS = 300;
const SEEN_KEYS = 600;
const MAX_KEY_CHARS = 4_000;
const kept = new Map<string, Skeleton>();
const seenOnce = new Set<string>();
const mismatched = new Set<CardName>();

/** Cards whose skeleton did not give their direct expansion, and which are now always expanded (none, unless cardPlan misreads a template). */
export function cardsWithoutSkeleton(): CardName[] {
  return [...mismatched];
}

/** Binds a view to its template; throws if any binding had no value. Each call returns its own copy. */
export function renderCardJson(view: View): Record<string, unknown> {
  const parsed = templateOf(view.card);
  if (!parsed) throw new CardRenderError(`no template for card ${view.card}`);
  const { template, plan } = parsed;
  const key = plan ? keyOf(view.card, view.data, plan, MAX_KEY_CHARS) : undefined;
  // A NUL (JSON: \u0000) in the key could be taken for a skeleton's marker: expand such a view.
  if (!key || key.includes('\\u0000')) return expand(view, template);
  const skeleton = kept.get(key);
  if (skeleton !== undefined) {
    kept.delete(key); // most recently used goes last
    kept.set(key, skeleton);
    return fill(skeleton, view.data) as Record<string, unknown>;
  }
  const card = expand(view, template);
  if (!seenOnce.delete(key)) {
    seenOnce.add(key);
    if (seenOnce.size > SEEN_KEYS) seenOnce.delete(seenOnce.values().next().value!);
    return card;
  }
  const { marked, slots } = markedData(view.data, plan!); // a key implies a plan
  const made = toSkeleton(expand({ card: view.card, data: marked }, template), slots);
  // Kept only if it gives this very card: a template this reading misjudged is then expanded each time.
  if (JSON.stringify(fill(made, view.data)) === JSON.stringify(card)) {
    kept.set(key, made);
    if (kept.size > KEPT_CARDS) kept.delete(kept.keys().next().value!);
  } else {
    parsed.plan = null;
    mismatched.add(view.card);
  }
  return card;
}

function expand(view: View, template: ACData.Template): Record<string, unknown> {
  unbound = [];
  ACData.GlobalSettings.getUndefinedFieldValueSubstitutionString = collectUnbound;
  const card = template.expand({ $root: view.data }) as Record<string, unknown>;
  if (unbound.length > 0)
    throw new CardRenderError(`card ${view.card}: unbound ${[...new Set(unbound)].join(', ')}`);
  return card;
}

export function renderCard(view: View): Attachment {
  return CardFactory.adaptiveCard(renderCardJson(view));
}

/** A card whose view never changes (help): bound once, a broken template fails at start-up. */
export function fixedCard(view: View): () => Attachment {
  const card = renderCardJson(view);
  return () => CardFactory.adaptiveCard(copyJson(card));
}

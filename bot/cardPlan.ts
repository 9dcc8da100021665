// Which fields of a card template may be bound by substitution after the template is expanded once.
//
// adaptivecards-templating evaluates every ${...} through adaptive-expressions on every expansion:
// for a four-step outage report that was a tenth of the bot's main thread and a quarter of the bytes
// each turn allocated. Most of a view's fields are only ever shown as they are (a name, an e-mail,
// the draft's button data): they decide no $when and feed no $data. Such a field is "opaque": the
// template can be expanded once with a marker in its place, and later views that agree on every
// other field get that expansion with their own value put where the marker is. This module finds
// the opaque fields of a template by reading its expressions, and builds and applies the expansion
// with markers (a "skeleton"). bot/cards.ts decides when a skeleton is used and checks each one it
// makes against a direct expansion of the same view.

/** What a template's expressions do with each root field of the view. */
export interface TemplateFields {
  /** Root fields shown only as they are, outside any $data scope, $when or $data: by name, whether any use is inside a longer string. */
  opaque: Map<string, { embedded: boolean }>;
  /** Every other root field an expression reads: the expansion depends on their values. */
  keyed: string[];
}

/** Null when the template does something this reading does not follow (then it is always expanded directly). */
export function analyseTemplate(template: unknown): TemplateFields | null {
  const plain = new Map<string, { embedded: boolean }>();
  const other = new Set<string>();
  let ok = true;

  const visit = (node: unknown, inScope: boolean): void => {
    if (!ok) return;
    if (typeof node === 'string') return readString(node, inScope, false);
    if (Array.isArray(node)) {
      for (const item of node) visit(item, inScope);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    // An object with $data repeats itself per item: its own $data reads the outer scope, the rest the item.
    const scoped = inScope || '$data' in obj;
    for (const [key, value] of Object.entries(obj)) {
      if (key.includes('${')) ok = false;
      if (key === '$data') {
        if (typeof value === 'string') readString(value, inScope, true);
        else visit(value, inScope); // inline data: its strings are expressions of the outer scope too
      } else if (key === '$when') {
        if (typeof value === 'string') readString(value, scoped, true);
        else ok = false;
      } else visit(value, scoped);
    }
  };

  function readString(text: string, inScope: boolean, decides: boolean): void {
    let at = 0;
    for (;;) {
      const start = text.indexOf('${', at);
      if (start < 0) return;
      const end = text.indexOf('}', start + 2);
      if (end < 0) {
        ok = false;
        return;
      }
      const expr = text.slice(start + 2, end);
      if (expr.includes('{')) {
        ok = false;
        return;
      }
      const whole = start === 0 && end === text.length - 1;
      const field = !inScope && !decides ? plainField(expr) : undefined;
      if (field !== undefined) {
        const seen = plain.get(field);
        plain.set(field, { embedded: (seen?.embedded ?? false) || !whole });
      } else {
        const names = rootNames(expr, inScope);
        if (names === null) ok = false;
        else for (const n of names) other.add(n);
      }
      at = end + 1;
    }
  }

  visit(template, false);
  if (!ok) return null;
  const opaque = new Map([...plain].filter(([name]) => !other.has(name)));
  const keyed = [...new Set([...other, ...[...plain.keys()].filter((n) => other.has(n))])].sort();
  return { opaque, keyed };
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `name` or `$root.name`, and nothing else: the field shown as it is. */
function plainField(expr: string): string | undefined {
  const e = expr.trim();
  const name = e.startsWith('$root.') ? e.slice('$root.'.length) : e;
  return IDENT.test(name) && !KEYWORDS.has(name) ? name : undefined;
}

const KEYWORDS = new Set(['true', 'false', 'null']);

/**
 * The root fields an expression may read, or null for what this reading does not follow (indexing,
 * the whole $root, $data at the root). In a $data scope a bare name is the item's, but it is counted
 * as a root field as well: a wrong guess only makes the key longer.
 */
function rootNames(expr: string, inScope: boolean): string[] | null {
  if (expr.includes('[')) return null;
  const code = expr.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''");
  const names: string[] = [];
  const chain = /(\$?[A-Za-z_][A-Za-z0-9_]*)((?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*)(\s*\()?/g;
  for (let m = chain.exec(code); m; m = chain.exec(code)) {
    const before = code.slice(0, m.index).trimEnd();
    if (before.endsWith('.')) continue; // the rest of a chain already read
    if (/[0-9]$/.test(before)) continue; // 1e5 and the like
    const [, head, rest, call] = m;
    if (call) continue; // a function
    if (head === '$root') {
      const next = rest!.split('.').map((s) => s.trim())[1];
      if (!next) return null;
      names.push(next);
    } else if (head!.startsWith('$')) {
      if (!inScope) return null; // $data, $index … outside a repeat
    } else if (!KEYWORDS.has(head!)) names.push(head!);
  }
  return names;
}

// ---- skeletons ------------------------------------------------------------------------------------

// A marker can't come from a view's keyed fields: bot/cards.ts expands directly when their JSON has a NUL.
const MARK = '\u0000';
const markOf = (i: number) => `${MARK}${i}${MARK}`;

/** A place in the skeleton that holds one opaque field's value, as it is. */
class Whole {
  constructor(readonly field: string) {}
}
/** A string of the skeleton with opaque fields inside: literal text and field names, alternating. */
class Embedded {
  constructor(readonly parts: string[]) {}
}

export type Skeleton = unknown;

/** The data to expand the skeleton with: the view's data, each opaque field replaced by its marker. */
export function markedData(data: Record<string, unknown>, opaque: string[]): Record<string, unknown> {
  const marked: Record<string, unknown> = { ...data };
  opaque.forEach((name, i) => (marked[name] = markOf(i)));
  return marked;
}

/** Turns an expansion of markedData into a skeleton: each marked string becomes a hole. */
export function toSkeleton(expanded: unknown, opaque: string[]): Skeleton {
  if (typeof expanded === 'string') {
    if (!expanded.includes(MARK)) return expanded;
    const pieces = expanded.split(MARK); // text, index, text, index, text …
    if (pieces.length === 3 && pieces[0] === '' && pieces[2] === '') return new Whole(opaque[Number(pieces[1])]!);
    return new Embedded(pieces.map((p, i) => (i % 2 === 1 ? opaque[Number(p)]! : p)));
  }
  if (Array.isArray(expanded)) return expanded.map((x) => toSkeleton(x, opaque));
  if (expanded !== null && typeof expanded === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(expanded)) out[k] = toSkeleton(v, opaque);
    return out;
  }
  return expanded;
}

/** A new card: the skeleton with the view's opaque values in their places. */
export function fill(skeleton: Skeleton, data: Record<string, unknown>): unknown {
  if (skeleton === null || typeof skeleton !== 'object') return skeleton;
  if (Array.isArray(skeleton)) {
    const out = new Array<unknown>(skeleton.length);
    for (let i = 0; i < skeleton.length; i++) out[i] = fill(skeleton[i], data);
    return out;
  }
  if (skeleton instanceof Whole) return copyJson(data[skeleton.field]);
  if (skeleton instanceof Embedded) {
    let text = '';
    const parts = skeleton.parts;
    for (let i = 0; i < parts.length; i++) text += i % 2 === 1 ? String(data[parts[i]!]) : parts[i];
    return text;
  }
  const out: Record<string, unknown> = {};
  const src = skeleton as Record<string, unknown>;
  for (const k in src) out[k] = fill(src[k], data);
  return out;
}

// An expanded card is plain JSON (objects, arrays, strings, numbers, booleans, null): a loop copies
// it in a tenth of the time structuredClone or JSON.parse take.
export function copyJson<T>(value: T): T {
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

// Which fields of a card template may be bound by substitution after the template is expanded once.
//
// adaptivecards-templating evaluates every ${...} through adaptive-expressions on every expansion:
// for a four-step outage report that was a tenth of the bot's main thread and a quarter of the bytes
// each turn allocated. Most of a view's fields are only ever shown as they are (a name, an e-mail,
// the draft's button data, a timeline row's text) or tested for being empty (a notice): their
// values decide no $when and feed no $data. Such a field is "opaque": the template can be expanded
// once with a marker in its place, and later views that agree on everything else (the other
// fields, which opaque fields are empty, how many rows each repeat has) get that expansion with
// their own values put where the markers are. This module reads a template's expressions to find
// its opaque fields, computes a view's key, and builds and fills the expansion with markers (a
// "skeleton"). bot/cards.ts decides when a skeleton is used and checks each one it makes against
// a direct expansion of the same view.

/** How an opaque field (of the view, or of each row of a repeat) is used. */
export interface OpaqueUse {
  /** Some use is inside a longer string: the value must be a string, number or boolean. */
  embedded: boolean;
  /** Some expression tests it against '': the key says whether it is empty. */
  emptiness: boolean;
}

/** A root array shown once per row (`"$data": "${rows}"`) whose rows' fields are opaque or keyed. */
export interface Repeat {
  opaque: Map<string, OpaqueUse>;
  keyed: string[];
}

/** What a template's expressions do with each root field of the view. */
export interface TemplateFields {
  opaque: Map<string, OpaqueUse>;
  repeats: Map<string, Repeat>;
  /** Every other root field an expression reads: the expansion depends on their values. */
  keyed: string[];
}

/** The uses of the fields of one scope (the view, or the rows of one repeat). */
class Uses {
  plain = new Map<string, OpaqueUse>();
  other = new Set<string>();
  show(name: string, embedded: boolean): void {
    const use = this.plain.get(name) ?? { embedded: false, emptiness: false };
    use.embedded ||= embedded;
    this.plain.set(name, use);
  }
  testEmpty(name: string): void {
    const use = this.plain.get(name) ?? { embedded: false, emptiness: false };
    use.emptiness = true;
    this.plain.set(name, use);
  }
  opaque(except: Set<string> = new Set()): Map<string, OpaqueUse> {
    return new Map([...this.plain].filter(([n]) => !this.other.has(n) && !except.has(n)));
  }
  keyed(): string[] {
    return [...this.other].sort();
  }
}

/** Null when the template does something this reading does not follow (then it is always expanded directly). */
export function analyseTemplate(template: unknown): TemplateFields | null {
  const root = new Uses();
  const rows = new Map<string, Uses | null>(); // per repeated field; null: not followed, keyed whole
  let ok = true;

  // scope: undefined at the root; in a repeat, the repeated field's rows (null inside anything else
  // that repeats: a nested $data, or one over something other than a root field).
  type Scope = { field: string; uses: Uses | null } | undefined;

  const visit = (node: unknown, scope: Scope): void => {
    if (!ok) return;
    if (typeof node === 'string') return readString(node, scope, false);
    if (Array.isArray(node)) {
      for (const item of node) visit(item, scope);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    let inner = scope;
    if ('$data' in obj) {
      const data = obj.$data;
      const field = scope === undefined && typeof data === 'string' ? wholeField(data) : undefined;
      if (field !== undefined && !rows.has(field)) {
        const uses = new Uses();
        rows.set(field, uses);
        inner = { field, uses };
      } else {
        if (field !== undefined) rows.set(field, null); // repeated twice: keyed whole
        abandon(scope); // a repeat inside a repeat: the outer one is keyed whole
        inner = { field: '', uses: null };
        if (typeof data === 'string') readString(data, scope, true);
        else visit(data, scope); // inline data: its strings are expressions of the outer scope
      }
    }
    for (const [key, value] of Object.entries(obj)) {
      if (key.includes('${')) ok = false;
      if (key === '$data') continue;
      if (key === '$when') {
        if (typeof value === 'string') readString(value, inner, true);
        else ok = false;
      } else visit(value, inner);
    }
  };

  function readString(text: string, scope: Scope, decides: boolean): void {
    let at = 0;
    for (;;) {
      const start = text.indexOf('${', at);
      if (start < 0) return;
      const end = text.indexOf('}', start + 2);
      if (end < 0 || text.slice(start + 2, end).includes('{')) {
        ok = false;
        return;
      }
      readExpression(text.slice(start + 2, end), scope, decides, !(start === 0 && end === text.length - 1));
      at = end + 1;
    }
  }

  function readExpression(expr: string, scope: Scope, decides: boolean, embedded: boolean): void {
    const uses = scope === undefined ? root : scope.uses;
    const plain = plainName(expr, scope !== undefined);
    if (!decides && plain !== undefined) {
      if (plain.root) root.show(plain.name, embedded);
      else uses?.show(plain.name, embedded);
      if (plain.root && scope !== undefined) root.other.add(plain.name); // $root.x in a row: keyed, simply
      return;
    }
    // `name != ''` and `name == ''` read only whether the field is empty.
    const rest = expr.replace(EMPTINESS_TEST, (_m, lead: string, rootPrefix: string | undefined, name: string) => {
      if (rootPrefix || scope === undefined) {
        root.testEmpty(name);
        if (scope !== undefined) root.other.add(name);
      } else uses?.testEmpty(name);
      return `${lead}true`;
    });
    const names = rootNames(rest, scope !== undefined);
    if (names === null) {
      ok = false;
      return;
    }
    for (const n of names.root) root.other.add(n);
    for (const n of names.scoped) uses?.other.add(n);
    if (names.wholeRow) abandon(scope);
  }

  function abandon(scope: Scope): void {
    if (!scope) return;
    if (rows.has(scope.field)) rows.set(scope.field, null);
    scope.uses = null;
  }

  visit(template, undefined);
  if (!ok) return null;

  const repeats = new Map<string, Repeat>();
  for (const [field, uses] of rows) {
    // A repeated field that any expression also reads, or whose rows are not followed, is keyed whole.
    if (uses === null || root.plain.has(field) || root.other.has(field)) root.other.add(field);
    else repeats.set(field, { opaque: uses.opaque(), keyed: uses.keyed() });
  }
  return { opaque: root.opaque(new Set(rows.keys())), repeats, keyed: root.keyed() };
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEYWORDS = new Set(['true', 'false', 'null']);
const EMPTINESS_TEST = /(^|[^\w.$])(\$root\s*\.\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*[!=]=\s*''(?!')/g;

/** `name` or `$root.name`, and nothing else: the field shown as it is. */
function plainName(expr: string, inScope: boolean): { name: string; root: boolean } | undefined {
  const e = expr.trim();
  const viaRoot = e.startsWith('$root.');
  const name = viaRoot ? e.slice('$root.'.length) : e;
  if (!IDENT.test(name) || KEYWORDS.has(name)) return undefined;
  return { name, root: viaRoot || !inScope };
}

/** The field of `${name}` or `${$root.name}` when that is the whole string. */
function wholeField(text: string): string | undefined {
  if (!text.startsWith('${') || !text.endsWith('}') || text.indexOf('}') !== text.length - 1) return undefined;
  const plain = plainName(text.slice(2, -1), false);
  return plain?.name;
}

/**
 * The fields an expression may read: the view's (`$root.x`, or bare names at the root) and the
 * row's (bare names in a repeat); null for what this reading does not follow (indexing, the whole
 * $root, $data at the root). wholeRow: the expression reads the row itself ($data in a repeat).
 */
function rootNames(expr: string, inScope: boolean): { root: string[]; scoped: string[]; wholeRow: boolean } | null {
  if (expr.includes('[')) return null;
  const code = expr.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''");
  const out = { root: [] as string[], scoped: [] as string[], wholeRow: false };
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
      out.root.push(next);
    } else if (head!.startsWith('$')) {
      if (!inScope) return null; // $data, $index … outside a repeat
      if (head === '$data') out.wholeRow = true;
    } else if (!KEYWORDS.has(head!)) (inScope ? out.scoped : out.root).push(head!);
  }
  return out;
}

// ---- keys and skeletons ---------------------------------------------------------------------------

/** Where a marker's value comes from: a field of the view, or a field of one row of a repeat. */
export type Slot = { field: string } | { field: string; row: number; of: string };

const SEP = '\u0001';

/** Accepts a value for an opaque use and gives its part of the key, or undefined for a value a skeleton can't hold. */
function opaqueKey(value: unknown, use: OpaqueUse): string | undefined {
  if (value === undefined || value === null) return undefined; // unbound: the expansion reports it
  const type = typeof value;
  if (use.emptiness && type !== 'string') return undefined;
  if (use.embedded && type !== 'string' && type !== 'number' && type !== 'boolean') return undefined;
  return use.emptiness && value === '' ? 'e' : type[0];
}

/**
 * The view's card and everything but its opaque values, as one string, or undefined when the view
 * must be expanded directly: an opaque field without a value (the expansion reports it), a value a
 * skeleton can't hold, a repeat that isn't a list of objects, a key longer than maxChars.
 */
export function keyOf(card: string, data: Record<string, unknown>, fields: TemplateFields, maxChars: number): string | undefined {
  let key = card;
  for (const [name, use] of fields.opaque) {
    const part = opaqueKey(data[name], use);
    if (part === undefined) return undefined;
    key += part;
  }
  for (const [name, repeat] of fields.repeats) {
    const rows = data[name];
    if (!Array.isArray(rows)) return undefined;
    key += `${SEP}${rows.length}[`;
    for (const row of rows) {
      if (row === null || typeof row !== 'object' || Array.isArray(row)) return undefined;
      const r = row as Record<string, unknown>;
      for (const [of, use] of repeat.opaque) {
        const part = opaqueKey(r[of], use);
        if (part === undefined) return undefined;
        key += part;
      }
      for (const of of repeat.keyed) key += SEP + JSON.stringify(r[of]);
      if (key.length > maxChars) return undefined;
    }
  }
  for (const name of fields.keyed) {
    key += SEP + JSON.stringify(data[name]);
    if (key.length > maxChars) return undefined;
  }
  return key;
}

// A NUL can't come from the view where a marker is: marked fields hold markers, and a key whose
// JSON has a NUL (escaped as \u0000) is not used (bot/cards.ts).
const MARK = '\u0000';

/** A place in the skeleton that holds one opaque value, as it is. */
class Whole {
  constructor(readonly slot: Slot) {}
}
/** A string of the skeleton with opaque values inside: literal text and slots, alternating. */
class Embedded {
  constructor(readonly parts: (string | Slot)[]) {}
}

export type Skeleton = unknown;

/**
 * The data to expand the skeleton with: the view's data, each opaque value replaced by a marker
 * (but an empty one that an expression tests, which the key already holds), and the slots the
 * markers stand for, by number.
 */
export function markedData(data: Record<string, unknown>, fields: TemplateFields): { marked: Record<string, unknown>; slots: Slot[] } {
  const slots: Slot[] = [];
  const mark = (slot: Slot) => `${MARK}${slots.push(slot) - 1}${MARK}`;
  const marked: Record<string, unknown> = { ...data };
  for (const [name, use] of fields.opaque) if (!(use.emptiness && data[name] === '')) marked[name] = mark({ field: name });
  for (const [name, repeat] of fields.repeats) {
    marked[name] = (data[name] as Record<string, unknown>[]).map((row, i) => {
      const out = { ...row };
      for (const [of, use] of repeat.opaque) if (!(use.emptiness && row[of] === '')) out[of] = mark({ field: name, row: i, of });
      return out;
    });
  }
  return { marked, slots };
}

/** Turns an expansion of markedData into a skeleton: each marked string becomes a hole. */
export function toSkeleton(expanded: unknown, slots: Slot[]): Skeleton {
  if (typeof expanded === 'string') {
    if (!expanded.includes(MARK)) return expanded;
    const pieces = expanded.split(MARK); // text, slot number, text, slot number, text …
    if (pieces.length === 3 && pieces[0] === '' && pieces[2] === '') return new Whole(slots[Number(pieces[1])]!);
    return new Embedded(pieces.map((p, i) => (i % 2 === 1 ? slots[Number(p)]! : p)));
  }
  if (Array.isArray(expanded)) return expanded.map((x) => toSkeleton(x, slots));
  if (expanded !== null && typeof expanded === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(expanded)) out[k] = toSkeleton(v, slots);
    return out;
  }
  return expanded;
}

function valueAt(slot: Slot, data: Record<string, unknown>): unknown {
  return 'row' in slot ? (data[slot.field] as Record<string, unknown>[])[slot.row]![slot.of] : data[slot.field];
}

/** A new card: the skeleton with the view's opaque values in their places. */
export function fill(skeleton: Skeleton, data: Record<string, unknown>): unknown {
  if (skeleton === null || typeof skeleton !== 'object') return skeleton;
  if (Array.isArray(skeleton)) {
    const out = new Array<unknown>(skeleton.length);
    for (let i = 0; i < skeleton.length; i++) out[i] = fill(skeleton[i], data);
    return out;
  }
  if (skeleton instanceof Whole) return copyJson(valueAt(skeleton.slot, data));
  if (skeleton instanceof Embedded) {
    let text = '';
    for (const part of skeleton.parts) text += typeof part === 'string' ? part : String(valueAt(part, data));
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

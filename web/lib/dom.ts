// Small DOM helpers shared by the pages (no framework): typed look-ups that fail loudly when the
// HTML and the script disagree, and element building that never goes through innerHTML.

/** The element with this id, or an error naming it (the page's HTML is out of step). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

type Child = Node | string | null | undefined | false;

/** Builds an element; text is always set as text, so nothing from the server becomes markup. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

/** `**bold**` runs (search snippets) as <mark>, the rest as text. */
export function withMarks(text: string): Node[] {
  return text.split('**').map((part, i) => (i % 2 === 1 ? h('mark', {}, part) : document.createTextNode(part)));
}

export function show(el: HTMLElement, visible: boolean): void {
  el.hidden = !visible;
}

/** A random id for idempotency keys; getRandomValues works outside secure contexts too. */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

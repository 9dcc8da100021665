// Pack files: the documents of one group of a packed collection, in one file of their own that the
// flusher only appends to. A packed collection (LowdbStoreOptions.packs) names a separator; the
// documents whose ids share the text before it share a pack: an outbox item `<ticket>:ack:reporter`
// sits in the pack of its ticket with every other message about that ticket.
//
// Why: creating a file is what costs on this store's disk (fileWriter.ts), and every desk action
// queued two or three new outbox items, each a new file, against one ticket overwritten in place.
// A ticket's pack exists from its first message on; an acknowledgement appends to it.
//
// A pack is lines, one per version, oldest first, each a document file's text (docFile.ts) or a
// tombstone; the last line of an id is its state:
//   {"collection":"outbox","id":"OUT-1:ack:reporter","eTag":"…","value":{…}}
//   {"collection":"outbox","id":"OUT-1:ack:reporter","deleted":true}
// A crash can tear only what was appended since the last checkpoint (which fsyncs the packs it
// touched before it cuts the journal), and all of that is still in the journal: recovery keeps a
// pack's valid lines up to the first torn one, and appends each journaled version the rest lacks.
// The writer thread rewrites a pack that has grown mostly stale, keeping each id's last line
// (compactPack, run there by fileWriter.ts's own copy of the same rules).

import { readFileSync } from 'node:fs';
import { docFileParts, type DocFileData, type DocFileRead, type DocFileText } from './docFile.js';
import { isErrno, readTextIfPresent } from './fsUtil.js';

export type { PackSpec } from './store.js';

/** The group (pack) of an id: the text before the first separator, or the whole id. */
export function packGroup(id: string, separator: string): string {
  const at = separator === '' ? -1 : id.indexOf(separator);
  return at > 0 ? id.slice(0, at) : id;
}

/** A version's line, in the parts the flusher writes one after the other. */
export function packRecordParts(doc: DocFileText): [string, string, string] {
  return docFileParts(doc);
}

/** The line that says a document was deleted. */
export function packTombstone(collection: string, id: string): string {
  return `{"collection":${JSON.stringify(collection)},"id":${JSON.stringify(id)},"deleted":true}\n`;
}

/**
 * A version's line from a pack's text, found by the start that only its line has (ids and eTags
 * are JSON strings, and a line's start is checked to be one); undefined if the pack lacks it.
 * Reads no other line: a ticket's pack holds a dozen.
 */
export function findPackRecord(
  text: string,
  collection: string,
  id: string,
  eTag: string,
): DocFileRead | undefined {
  const head = `{"collection":${JSON.stringify(collection)},"id":${JSON.stringify(id)},"eTag":${JSON.stringify(eTag)},"value":`;
  let at = text.lastIndexOf(head);
  while (at > 0 && text.charCodeAt(at - 1) !== 0x0a) at = text.lastIndexOf(head, at - 1);
  if (at < 0) return undefined;
  const end = text.indexOf('\n', at);
  if (end < 0) return undefined; // a line still being appended is not one yet
  const json = text.slice(at + head.length, end - 1); // without the closing brace
  return { collection, id, eTag, value: JSON.parse(json) as unknown, json };
}

/**
 * Reads one version from a pack on the calling thread (as readDocFileSync reads a document file:
 * the store asks only for versions the flusher has written, in the page cache by then).
 */
export function readPackRecordSync(
  path: string,
  collection: string,
  id: string,
  eTag: string,
): DocFileRead | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  return findPackRecord(text, collection, id, eTag);
}

/** A pack as read back whole: each id's last line, and where its valid lines end. */
export interface ParsedPack {
  /** id -> its last version (null: deleted), in the order of their last lines. */
  docs: Map<string, DocFileData | null>;
  /** Length (in UTF-16 units, as the text's) of the whole, well-formed lines from the start; the
   * rest is torn (or not a pack). */
  validLength: number;
  /** Lines in all, up to validBytes (stale versions included). */
  lines: number;
}

/** Parses a pack's lines up to the first that is torn or malformed. */
export function parsePack(text: string): ParsedPack {
  const docs = new Map<string, DocFileData | null>();
  let lines = 0;
  let from = 0;
  while (from < text.length) {
    const end = text.indexOf('\n', from);
    if (end < 0) break;
    const line = parseLine(text.slice(from, end));
    if (!line) break;
    docs.delete(line.id); // keeps the map in the order of last lines
    docs.set(line.id, line.deleted ? null : line.doc);
    lines += 1;
    from = end + 1;
  }
  return { docs, validLength: from, lines };
}

function parseLine(
  line: string,
): { id: string; deleted: true } | { id: string; deleted: false; doc: DocFileData } | undefined {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (data === null || typeof data !== 'object') return undefined;
  const d = data as Partial<DocFileData> & { deleted?: unknown };
  if (typeof d.collection !== 'string' || typeof d.id !== 'string') return undefined;
  if (d.deleted === true) return { id: d.id, deleted: true };
  if (typeof d.eTag !== 'string' || !('value' in d)) return undefined;
  return {
    id: d.id,
    deleted: false,
    doc: { collection: d.collection, id: d.id, eTag: d.eTag, value: d.value },
  };
}

/** Reads and parses a pack; undefined when it does not exist. */
export async function readPack(path: string): Promise<{ text: string; pack: ParsedPack } | undefined> {
  const text = await readTextIfPresent(path);
  return text === undefined ? undefined : { text, pack: parsePack(text) };
}

/** A pack's text holding each live document once, as `docs` has them. */
export function packText(docs: Iterable<DocFileText>): string {
  let out = '';
  for (const doc of docs) out += packRecordParts(doc).join('');
  return out;
}

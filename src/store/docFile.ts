// Reads and writes one document file through lowdb (its DataFile adapter over steno, which writes a
// temp file and renames it). The store's flusher writes the files of new versions itself, in place
// (fileWriter.ts); writeDocFile is what recovery uses to restore a file from the journal. The value
// arrives as JSON text already (the store keeps it that way), so writing splices it in instead of
// parsing it back and serialising it again.

import { DataFile, DataFileSync } from 'lowdb/node';

/** A document file's content; collection and id are inside so a scan needs no name decoding. */
export interface DocFileData {
  collection: string;
  id: string;
  eTag: string;
  value: unknown;
}

/** What a document file is written from: the value as its JSON text. */
export interface DocFileText {
  collection: string;
  id: string;
  eTag: string;
  json: string;
}

/**
 * The file's text in three parts, to be written one after the other: what comes before the value,
 * the value's JSON unchanged, and what follows it. The flusher writes the parts as they are, so a
 * document is not copied once more just to join them.
 */
export function docFileParts(doc: DocFileText): [string, string, string] {
  const head = `{"collection":${JSON.stringify(doc.collection)},"id":${JSON.stringify(doc.id)}`;
  return [`${head},"eTag":${JSON.stringify(doc.eTag)},"value":`, doc.json, '}\n'];
}

/** The file's text: one JSON object, the value spliced in unchanged. */
export function docFileText(doc: DocFileText): string {
  return docFileParts(doc).join('');
}

function parseDocFile(path: string, text: string): DocFileData {
  const data = JSON.parse(text) as unknown;
  if (
    data === null ||
    typeof data !== 'object' ||
    typeof (data as DocFileData).collection !== 'string' ||
    typeof (data as DocFileData).id !== 'string' ||
    typeof (data as DocFileData).eTag !== 'string' ||
    !('value' in data)
  ) {
    throw new Error(`Malformed document file ${path}`);
  }
  return data as DocFileData;
}

/** A document file read for the store's cache: its data, and its value as JSON text. */
export interface DocFileRead extends DocFileData {
  json: string;
}

const VALUE_KEY = ',"value":';

/**
 * The value's JSON text cut out of a file that docFileText wrote, instead of serialising the parsed
 * value again. The head holds only JSON strings, in which a quote is always escaped, so the first
 * `,"value":` is the value's key. A file in any other shape (edited by hand, say) is serialised.
 */
function valueJson(text: string, data: DocFileData): string {
  const start = text.indexOf(VALUE_KEY);
  const end = text.lastIndexOf('}');
  if (start > 0 && end > start && text.startsWith('{"collection":')) {
    const json = text.slice(start + VALUE_KEY.length, end);
    if (json.length > 0) return json;
  }
  return JSON.stringify(data.value);
}

/**
 * Reads a document file on the calling thread; undefined when it does not exist. Throws if
 * unreadable or malformed. The store reads a file only when the document is in neither its
 * unflushed set nor its cache, and such a file (a few KB, written recently or read at start-up) is
 * in the page cache: reading it synchronously costs about 15 µs of the event loop, against about
 * 105 µs for the four thread-pool round trips of an fs/promises read (3,000 files, 4 KB each).
 */
export function readDocFileSync(path: string): DocFileRead | undefined {
  const file = new DataFileSync<DocFileRead>(path, {
    parse: (text) => {
      const data = parseDocFile(path, text);
      return { ...data, json: valueJson(text, data) };
    },
    stringify: () => {
      throw new Error('read-only');
    },
  });
  return file.read() ?? undefined;
}

/** Reads a document file; undefined when it does not exist. Throws if unreadable or malformed. */
export async function readDocFile(path: string): Promise<DocFileData | undefined> {
  const file = new DataFile<DocFileData>(path, {
    parse: (text) => parseDocFile(path, text),
    stringify: () => {
      throw new Error('read-only');
    },
  });
  return (await file.read()) ?? undefined;
}

/** Replaces a document file (atomic rename, not yet fsynced: the journal covers it until then). */
export async function writeDocFile(path: string, doc: DocFileText): Promise<void> {
  const file = new DataFile<DocFileText>(path, {
    parse: () => {
      throw new Error('write-only');
    },
    stringify: docFileText,
  });
  await file.write(doc);
}

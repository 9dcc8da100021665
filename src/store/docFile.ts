// Reads and writes one document file through lowdb (Low + JSONFile, which steno writes to a temp
// file and renames, so a reader never sees a half-written document).

import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';

/** A document file's content; collection and id are inside so a scan needs no name decoding. */
export interface DocFileData {
  collection: string;
  id: string;
  eTag: string;
  value: unknown;
}

/** Reads a document file; undefined when it does not exist. Throws if unreadable or malformed. */
export async function readDocFile(path: string): Promise<DocFileData | undefined> {
  const db = new Low<DocFileData | null>(new JSONFile<DocFileData | null>(path), null);
  await db.read();
  const data = db.data;
  if (data === null) return undefined;
  if (
    typeof data !== 'object' ||
    typeof data.collection !== 'string' ||
    typeof data.id !== 'string' ||
    typeof data.eTag !== 'string' ||
    !('value' in data)
  ) {
    throw new Error(`Malformed document file ${path}`);
  }
  return data;
}

/** Replaces a document file (atomic rename, not yet fsynced: the journal covers it until then). */
export async function writeDocFile(path: string, data: DocFileData): Promise<void> {
  const db = new Low<DocFileData>(new JSONFile<DocFileData>(path), data);
  await db.write();
}

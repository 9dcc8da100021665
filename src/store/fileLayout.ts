// Where the lowdb store keeps things on disk. One JSON file per document keeps the cost of a write
// independent of how many documents exist (lowdb rewrites a whole file on every write).

import { createHash, hash } from 'node:crypto';
import { join, sep } from 'node:path';

// Longer names fall back to a hash: most file systems cap a name at 255 bytes, and steno adds
// ".<name>.tmp" around it while writing.
const MAX_ENCODED = 120;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)$/;
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/**
 * Turns any string into a safe, case-insensitive-proof file name: [a-z0-9-] stay as they are,
 * every other UTF-8 byte becomes "_hh" (so "A" and "a" never share a file on macOS or Windows).
 * Injective: different inputs never share a name (hashes carry a "~" that encoding never emits).
 */
export function encodeName(raw: string): string {
  let out = '';
  // ASCII (ids, collection names) is read char by char: a Buffer and its iterator per name were
  // most of the cost of a document's path, which a write asks for several times.
  const ascii = /^[\x00-\x7f]*$/.test(raw);
  const bytes = ascii ? undefined : Buffer.from(raw, 'utf8');
  const length = bytes ? bytes.length : raw.length;
  for (let i = 0; i < length; i++) {
    const byte = bytes ? bytes[i]! : raw.charCodeAt(i);
    const keep = (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte === 0x2d;
    out += keep ? String.fromCharCode(byte) : `_${HEX[byte]}`;
  }
  if (out.length > MAX_ENCODED) return `~${createHash('sha256').update(raw).digest('hex')}`;
  // "con.json" is unusable on Windows; escaping the first letter keeps the name decodable.
  if (WINDOWS_RESERVED.test(out)) return `_${out.charCodeAt(0).toString(16)}${out.slice(1)}`;
  return out;
}

/** 256 shard directories keep each directory small (about 200 files at 50,000 documents). */
export function shardOf(id: string): string {
  // The first byte of the id's SHA-1 (one-shot: a Hash object per call showed in write profiles).
  return hash('sha1', id, 'hex').slice(0, 2);
}

/** Paths of one store directory. */
export class FileLayout {
  /** collection -> its folder: a document's path is asked for several times per write. */
  private readonly collectionDirs = new Map<string, string>();
  readonly lock: string;
  readonly docs: string;
  readonly wal: string;
  readonly snapshot: string;

  constructor(readonly root: string) {
    this.lock = join(root, 'LOCK');
    this.docs = join(root, 'docs');
    this.wal = join(root, 'wal');
    this.snapshot = join(root, 'index.json');
  }

  collectionDir(collection: string): string {
    let dir = this.collectionDirs.get(collection);
    if (dir === undefined) {
      dir = join(this.docs, encodeName(collection));
      this.collectionDirs.set(collection, dir);
    }
    return dir;
  }

  // Joined by hand: the parts are already normal (encodeName emits no separators or dots), and
  // path.join's normalising was most of a path's cost (3.2 against 1.3 µs a document's path).
  shardDir(collection: string, id: string): string {
    return `${this.collectionDir(collection)}${sep}${shardOf(id)}`;
  }

  docFile(collection: string, id: string): string {
    return `${this.shardDir(collection, id)}${sep}${encodeName(id)}.json`;
  }

  /** The pack of a group of a packed collection (packFile.ts), sharded by the group. */
  packFile(collection: string, group: string): string {
    return `${this.shardDir(collection, group)}${sep}${encodeName(group)}.pack`;
  }

  walFile(gen: number): string {
    return join(this.wal, `${String(gen).padStart(10, '0')}.log`);
  }

  /** The generation of a journal file name, or undefined for anything else in the folder. */
  walGenOf(name: string): number | undefined {
    const m = /^(\d{10})\.log$/.exec(name);
    return m ? Number(m[1]) : undefined;
  }
}

// The write-ahead journal. A batch is committed once its one-line record is appended and
// fdatasynced; only then are document files touched. After a crash, open() replays the records,
// so a batch is either fully there or (if its line is torn) not there at all.

import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import type { PlannedOp } from './batchPlan.js';
import { fsyncPath } from './fsUtil.js';

/** One op of a journal record: a put carries the whole new document, a delete only its address. */
export type WalOp =
  { c: string; id: string; e: string; v: unknown } | { c: string; id: string; d: 1 };

/** One committed batch. */
export interface WalRecord {
  ops: WalOp[];
}

/** The journal holds a bad record followed by good ones: not a torn tail but damage. */
export class WalCorruptError extends Error {
  constructor(path: string, offset: number) {
    super(`Journal ${path} is damaged at byte ${offset} (valid records follow a bad one)`);
    this.name = 'WalCorruptError';
  }
}

/** Frames a record as a journal line: "<crc32 hex> <json>\n". Exported for crash-recovery tests. */
export function encodeWalRecord(record: WalRecord): string {
  return frame(JSON.stringify(record));
}

/**
 * The journal lines of a group of planned batches (one line per batch that has ops), written
 * straight into one buffer: byte for byte the lines encodeWalRecord gives. Each value is already
 * JSON and is copied once, into the buffer; joining the lines as strings first copied a group's
 * documents three more times (the ops, the record, the group), and those copies were the largest
 * share of the bytes an acknowledgement allocated.
 */
export function encodeGroup(plans: readonly (readonly PlannedOp[])[]): Buffer {
  const pieces: string[] = [];
  // Per line: the index in `pieces` where it starts and where it ends.
  const lines: number[] = [];
  let size = 0;
  for (const plan of plans) {
    if (plan.length === 0) continue;
    lines.push(pieces.length);
    plan.forEach((op, n) => {
      const head = `${n === 0 ? '{"ops":[' : ','}${address(op.collection, op.id)}`;
      if (op.kind === 'put') pieces.push(`${head},"e":${JSON.stringify(op.eTag)},"v":`, op.json, '}');
      else pieces.push(`${head},"d":1}`);
    });
    pieces.push(']}');
    lines.push(pieces.length);
    size += CRC_PREFIX + 1; // "<crc32 hex> " and "\n"
  }
  for (const piece of pieces) size += Buffer.byteLength(piece, 'utf8');
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  for (let l = 0; l < lines.length; l += 2) {
    const start = at;
    at += CRC_PREFIX;
    for (let p = lines[l] as number; p < (lines[l + 1] as number); p++) at += buf.write(pieces[p] as string, at, 'utf8');
    buf.write(`${crc32(buf.subarray(start + CRC_PREFIX, at)).toString(16).padStart(8, '0')} `, start, 'latin1');
    buf[at++] = 0x0a;
  }
  return buf;
}

/** "<8 hex digits> " before each line's JSON. */
const CRC_PREFIX = 9;

function address(collection: string, id: string): string {
  return `{"c":${JSON.stringify(collection)},"id":${JSON.stringify(id)}`;
}

function frame(json: string): string {
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/** The records of a journal file and how many leading bytes hold them (the rest is a torn tail). */
export interface DecodedWal {
  records: WalRecord[];
  validBytes: number;
}

/**
 * Decodes a journal. A torn last line (crash mid-append) is left out; a bad line followed by good
 * ones cannot come from a crash (appends are serialized and synced) and throws WalCorruptError.
 */
export function decodeWal(path: string, buf: Buffer): DecodedWal {
  const records: WalRecord[] = [];
  let validBytes = 0;
  let badAt = -1;
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl === -1) break;
    const record = parseLine(buf.toString('utf8', pos, nl));
    if (record) {
      if (badAt >= 0) throw new WalCorruptError(path, badAt);
      records.push(record);
      validBytes = nl + 1;
    } else if (badAt < 0) {
      badAt = pos;
    }
    pos = nl + 1;
  }
  return { records, validBytes };
}

function parseLine(line: string): WalRecord | undefined {
  const m = /^([0-9a-f]{8}) (.*)$/s.exec(line);
  if (!m || parseInt(m[1] as string, 16) !== crc32(m[2] as string)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(m[2] as string);
  } catch (err) {
    // A line whose checksum matches but whose JSON does not parse comes from a bug, not a crash.
    throw new Error(`Journal line with a valid checksum does not parse: ${String(err)}`, {
      cause: err,
    });
  }
  const ops = (parsed as { ops?: unknown }).ops;
  if (!Array.isArray(ops) || !ops.every(isWalOp)) return undefined;
  return { ops };
}

function isWalOp(op: unknown): op is WalOp {
  if (op === null || typeof op !== 'object') return false;
  const o = op as Record<string, unknown>;
  if (typeof o.c !== 'string' || typeof o.id !== 'string') return false;
  return o.d === 1 || (typeof o.e === 'string' && 'v' in o);
}

// Where the system has O_DSYNC (Linux, macOS), the journal is opened with it: a write returns once
// its data is on disk, as write + fdatasync would, in one call to the thread pool instead of two.
// Under load each call also waits its turn on the busy event loop, so this halves that wait.
const DSYNC = constants.O_DSYNC;
const APPEND_DSYNC =
  DSYNC === undefined
    ? undefined
    : constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | DSYNC;

/** An open journal file that appends whole records durably. */
export class WalWriter {
  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    private bytes: number,
    /** Writes are durable on return (O_DSYNC): no separate fdatasync. */
    private readonly syncedWrites: boolean,
  ) {}

  /** Opens (creating if needed) a journal file and makes its directory entry durable. */
  static async open(path: string): Promise<WalWriter> {
    const fh = await open(path, APPEND_DSYNC ?? 'a');
    try {
      const { size } = await fh.stat();
      await fh.sync();
      await fsyncPath(dirname(path));
      return new WalWriter(fh, path, size, APPEND_DSYNC !== undefined);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** Bytes in the journal. */
  get size(): number {
    return this.bytes;
  }

  /** Appends encoded records (encodeGroup) and waits until they are on disk. */
  async append(buf: Buffer): Promise<void> {
    let written = 0;
    while (written < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, written, buf.length - written);
      written += bytesWritten;
    }
    if (!this.syncedWrites) await this.fh.datasync();
    this.bytes += buf.length;
  }

  /** Cuts the journal back to `size` bytes (undoes a record whose batch could not be applied). */
  async truncate(size: number): Promise<void> {
    await this.fh.truncate(size);
    await this.fh.datasync();
    this.bytes = size;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

import { randomBytes, scrypt, type ScryptOptions, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

// Access IDs and passwords of the contract registry are kept only as salted scrypt hashes, in a
// PHC-like string: scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash> (base64url). The directory file may
// be read by many people; a hash there gives nothing away, and the schema refuses anything else.

/** Default cost: N = 2^15 (32 MiB, about 0.1 s); the registry is checked rarely and is throttled. */
export const DEFAULT_COST = { ln: 15, r: 8, p: 1 } as const;
export type ScryptCost = { ln: number; r: number; p: number };

const PATTERN =
  /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{22,64})\$([A-Za-z0-9_-]{43,128})$/;
const KEY_BYTES = 32;
const SALT_BYTES = 16;

interface ParsedHash {
  cost: ScryptCost;
  salt: Buffer;
  key: Buffer;
}

function parse(hash: string): ParsedHash | undefined {
  const m = PATTERN.exec(hash);
  if (!m) return undefined;
  const cost = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  // Below 2^14 is too cheap to guess against; above 2^20 a typo would stall every check.
  if (cost.ln < 14 || cost.ln > 20 || cost.r < 1 || cost.r > 32 || cost.p < 1 || cost.p > 4)
    return undefined;
  return { cost, salt: Buffer.from(m[4]!, 'base64url'), key: Buffer.from(m[5]!, 'base64url') };
}

/** A stored secret: only the hash printed by `npx tsx src/plans/hashAccessId.ts` is accepted. */
export const SecretHash = z
  .string()
  .refine(
    (s) => parse(s) !== undefined,
    'expected an scrypt hash made with `npx tsx src/plans/hashAccessId.ts`, never the access ID or password itself',
  );
export type SecretHash = z.infer<typeof SecretHash>;

/** Typed secrets are compared after Unicode normalisation and trimming (pasted values carry blanks). */
export function normalizeSecret(secret: string): string {
  return secret.normalize('NFC').trim();
}

function derive(
  secret: string,
  salt: Buffer,
  cost: ScryptCost,
  keyLength: number,
): Promise<Buffer> {
  const N = 2 ** cost.ln;
  const options: ScryptOptions = { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r * cost.p };
  return new Promise((resolve, reject) =>
    scrypt(normalizeSecret(secret), salt, keyLength, options, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** Hashes a secret with a fresh random salt. */
export async function hashSecret(secret: string, cost: ScryptCost = DEFAULT_COST): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(secret, salt, cost, KEY_BYTES);
  const hash = `scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
  if (!parse(hash))
    throw new RangeError('scrypt cost out of the accepted range (ln 14-20, r 1-32, p 1-4)');
  return hash;
}

/** Whether `secret` matches `hash`, compared in constant time. A malformed hash never matches. */
export async function verifySecret(secret: string, hash: string): Promise<boolean> {
  const parsed = parse(hash);
  if (!parsed) return false;
  const key = await derive(secret, parsed.salt, parsed.cost, parsed.key.length);
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}

/** The cost a hash was made with, so that a decoy check can take as long as a real one. */
export function costOf(hash: string): ScryptCost | undefined {
  return parse(hash)?.cost;
}

/**
 * Spends the same time as verifySecret against a hash of cost `cost`, and never matches. Used when
 * the contract ID is unknown, so that timing does not tell a wrong contract ID from a wrong secret.
 */
export async function decoyVerify(secret: string, cost: ScryptCost = DEFAULT_COST): Promise<false> {
  await derive(secret, randomBytes(SALT_BYTES), cost, KEY_BYTES);
  return false;
}

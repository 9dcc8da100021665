import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { z } from 'zod';
import type { UserContext } from '../domain/user.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type Clock, systemClock } from '../time.js';

// Teams SSO for the bot's web pages (the Incidents tab). The tab asks Teams for a token
// (authentication.getAuthToken) and sends it as `Authorization: Bearer <token>`: a Microsoft Entra
// ID token (v1 or v2, id or access token) issued to our app for the signed-in user. Checked here:
// RS256 signature with a key of the Entra OpenID metadata's JWKS, issuer of the user's own tenant,
// audience (the app id or api://<host>/<app id>), lifetime, and the oid and tid claims that name the
// user. What that user may see is the caller's business (tenant isolation lives with the data).

export const DEFAULT_SSO_METADATA_URL = 'https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration';

/** Tolerated clock difference with Entra ID (Microsoft's token libraries default to five minutes). */
export const CLOCK_SKEW_SECONDS = 300;

/** A token we do not accept: 401. `reason` is for the log only, never for the caller. */
export class SsoRejectedError extends AppError {
  constructor(readonly reason: string) {
    super('unauthorized', 'Your Teams sign-in was not accepted. Close the tab and open it again from Teams.', 401);
    this.name = 'SsoRejectedError';
  }
}

/** The signing keys cannot be fetched: our problem, not the user's, so 503 and try again later. */
export class SsoUnavailableError extends AppError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super('auth_unavailable', 'Sign-in cannot be checked right now. Try again in a minute.', 503, options);
    this.name = 'SsoUnavailableError';
    this.message = `auth_unavailable: ${reason}`;
  }
}

// ---- the token itself (pure) ---------------------------------------------------------------

export interface DecodedJwt {
  header: { alg?: unknown; kid?: unknown; x5t?: unknown };
  claims: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/** Splits and decodes a compact JWS; anything else is rejected. Nothing is trusted yet. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new SsoRejectedError('not a compact JWT');
  const json = (part: string, what: string) => {
    try {
      const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
      if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // falls through to the rejection below: a token that is not JSON is simply not a token
    }
    throw new SsoRejectedError(`the ${what} is not a JSON object`);
  };
  return {
    header: json(parts[0]!, 'header'),
    claims: json(parts[1]!, 'payload'),
    signingInput: `${parts[0]}.${parts[1]}`,
    signature: Buffer.from(parts[2]!, 'base64url'),
  };
}

/** Object and tenant ids: GUIDs in Entra ID (the demo directory's are longer); never a path or a URL. */
const EntraId = z.string().regex(/^[0-9A-Fa-f-]{8,64}$/);

/** The claims we rely on; Entra ID sends many more. */
export const SsoClaims = z
  .object({
    iss: z.string(),
    aud: z.union([z.string(), z.array(z.string())]),
    exp: z.number(),
    nbf: z.number().optional(),
    oid: EntraId,
    tid: EntraId,
    name: z.string().optional(),
    preferred_username: z.string().optional(), // v2
    upn: z.string().optional(), // v1
    email: z.string().optional(),
  })
  .loose();
export type SsoClaims = z.infer<typeof SsoClaims>;

export interface ClaimRules {
  audiences: readonly string[];
  now: Date;
  /** Single-tenant apps: only this tenant's users. */
  tenantId?: string;
}

/** The issuers Entra ID uses for a tenant: v2 tokens, and v1 (sts.windows.net). */
export function issuersFor(tenantId: string): string[] {
  return [`https://login.microsoftonline.com/${tenantId}/v2.0`, `https://sts.windows.net/${tenantId}/`];
}

/** Checks issuer, audience, lifetime and the user's ids; returns the claims, or throws SsoRejectedError. */
export function checkClaims(raw: Record<string, unknown>, rules: ClaimRules): SsoClaims {
  const parsed = SsoClaims.safeParse(raw);
  if (!parsed.success) throw new SsoRejectedError(`claims: ${z.prettifyError(parsed.error).replace(/\s+/g, ' ')}`);
  const c = parsed.data;
  // The issuer must be the token's own tenant: with the common endpoint any tenant signs with the
  // same keys, so `tid` and `iss` must agree or one tenant could speak for another.
  if (!issuersFor(c.tid).includes(c.iss)) throw new SsoRejectedError(`issuer ${c.iss} is not tenant ${c.tid}'s`);
  if (rules.tenantId && c.tid.toLowerCase() !== rules.tenantId.toLowerCase())
    throw new SsoRejectedError(`tenant ${c.tid} is not the app's tenant`);
  const audiences = Array.isArray(c.aud) ? c.aud : [c.aud];
  if (!audiences.some((a) => rules.audiences.includes(a))) throw new SsoRejectedError(`audience ${audiences.join(', ')} is not this app`);
  const now = rules.now.getTime() / 1000;
  if (now > c.exp + CLOCK_SKEW_SECONDS) throw new SsoRejectedError('expired');
  if (c.nbf !== undefined && now < c.nbf - CLOCK_SKEW_SECONDS) throw new SsoRejectedError('not valid yet');
  return c;
}

/** The key id the token was signed with (v1 tokens carry x5t as well; both name the same key). */
export function keyIdOf(jwt: DecodedJwt): string {
  if (jwt.header.alg !== 'RS256') throw new SsoRejectedError(`algorithm ${String(jwt.header.alg)} is not RS256`);
  const kid = typeof jwt.header.kid === 'string' ? jwt.header.kid : typeof jwt.header.x5t === 'string' ? jwt.header.x5t : '';
  if (!kid) throw new SsoRejectedError('no key id');
  return kid;
}

export function signatureHolds(jwt: DecodedJwt, key: KeyObject): boolean {
  try {
    return verify('sha256', Buffer.from(jwt.signingInput), key, jwt.signature);
  } catch {
    return false; // a signature OpenSSL cannot even parse does not hold
  }
}

/** The person the token names, as the rest of the product knows users. */
export function userFromClaims(c: SsoClaims): UserContext {
  const email = [c.preferred_username, c.upn, c.email].find((v) => v?.includes('@'));
  return {
    aadObjectId: c.oid.toLowerCase(),
    tenantId: c.tid.toLowerCase(),
    name: c.name?.trim() || email || 'Teams user',
    ...(email ? { email } : {}),
  };
}

/** The token of an `Authorization: Bearer <token>` header, if that is what it holds. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

// ---- the signing keys ----------------------------------------------------------------------

const Metadata = z.object({ jwks_uri: z.url() });
const Jwks = z.object({
  keys: z.array(z.object({ kty: z.string(), kid: z.string().optional(), use: z.string().optional(), n: z.string().optional(), e: z.string().optional() }).loose()),
});

export interface JwksCacheOptions {
  metadataUrl: string;
  clock?: Clock;
  logger: Logger;
  fetch?: typeof fetch;
  /** Keys are fetched again after this long (Entra ID rolls them over every few weeks). */
  maxAgeMs?: number;
  /** An unknown key id fetches the keys again, but at most this often (a forged kid costs nothing). */
  minRefreshMs?: number;
  /** After a failed fetch, requests answer 503 for this long without trying again. */
  failureBackoffMs?: number;
  timeoutMs?: number;
}

/** The JWKS behind an OpenID metadata document, kept in memory and refreshed when due or on a new key id. */
export class JwksCache {
  private keys = new Map<string, KeyObject>();
  private fetchedAt = -Infinity;
  private failedAt = -Infinity;
  private lastFailure = '';
  private inFlight: Promise<void> | undefined;
  private readonly clock: Clock;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: JwksCacheOptions) {
    this.clock = options.clock ?? systemClock;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** The key with this id; undefined if the JWKS has none; SsoUnavailableError if it cannot be fetched. */
  async key(kid: string): Promise<KeyObject | undefined> {
    const now = this.clock.now().getTime();
    const age = now - this.fetchedAt;
    const stale = age > (this.options.maxAgeMs ?? 24 * 3600_000);
    const unknown = !this.keys.has(kid) && age > (this.options.minRefreshMs ?? 5 * 60_000);
    if (stale || unknown) {
      try {
        await this.refresh();
      } catch (err) {
        // Keys we already hold stay good through an outage of the metadata endpoint.
        const held = this.keys.get(kid);
        if (held) {
          this.options.logger.warn({ reason: (err as Error).message }, 'signing keys not refreshed; using the ones held');
          return held;
        }
        throw err;
      }
    }
    return this.keys.get(kid);
  }

  private refresh(): Promise<void> {
    const now = this.clock.now().getTime();
    if (now - this.failedAt < (this.options.failureBackoffMs ?? 10_000))
      return Promise.reject(new SsoUnavailableError(`signing keys unavailable (${this.lastFailure})`));
    this.inFlight ??= this.load().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async load(): Promise<void> {
    try {
      const metadata = Metadata.parse(await this.getJson(this.options.metadataUrl));
      const jwks = Jwks.parse(await this.getJson(metadata.jwks_uri));
      const keys = new Map<string, KeyObject>();
      for (const k of jwks.keys) {
        if (k.kty !== 'RSA' || !k.kid || !k.n || !k.e || (k.use && k.use !== 'sig')) continue;
        try {
          keys.set(k.kid, createPublicKey({ key: { kty: 'RSA', n: k.n, e: k.e }, format: 'jwk' }));
        } catch (err) {
          this.options.logger.warn({ kid: k.kid, reason: (err as Error).message }, 'skipped an unreadable signing key');
        }
      }
      this.keys = keys;
      this.fetchedAt = this.clock.now().getTime();
      this.options.logger.info({ keys: keys.size }, 'Teams SSO signing keys loaded');
    } catch (err) {
      this.failedAt = this.clock.now().getTime();
      this.lastFailure = err instanceof z.ZodError ? 'unexpected metadata or JWKS' : (err as Error).message;
      this.options.logger.error({ reason: this.lastFailure }, 'cannot fetch the Teams SSO signing keys');
      throw new SsoUnavailableError(`signing keys unavailable (${this.lastFailure})`, { cause: err });
    }
  }

  private async getJson(url: string): Promise<unknown> {
    const res = await this.fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000) });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    return res.json();
  }
}

// ---- the verifier ----------------------------------------------------------------------------

export interface TeamsSsoOptions {
  /** The Entra ID app (client) id the tab's tokens are issued to (webApplicationInfo.id). */
  appId: string;
  /** The host the tab is served from (webApplicationInfo.resource is api://<host>/<appId>). */
  host?: string;
  /** Single-tenant apps: accept this tenant's users only. */
  tenantId?: string;
  metadataUrl?: string;
  clock?: Clock;
  logger: Logger;
  fetch?: typeof fetch;
  /** Tests shorten the cache's waits. */
  cache?: Partial<Pick<JwksCacheOptions, 'maxAgeMs' | 'minRefreshMs' | 'failureBackoffMs' | 'timeoutMs'>>;
}

/** Validates Teams SSO tokens: `verify(authorizationHeader)` is the user, or throws an AppError (401, 503). */
export class TeamsSso {
  readonly audiences: readonly string[];
  private readonly keys: JwksCache;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(private readonly options: TeamsSsoOptions) {
    if (!options.appId) throw new Error('TeamsSso needs the app id');
    this.clock = options.clock ?? systemClock;
    this.log = options.logger.child({ module: 'auth.sso' });
    this.audiences = [options.appId, ...(options.host ? [`api://${options.host}/${options.appId}`] : [])];
    this.keys = new JwksCache({
      metadataUrl: options.metadataUrl ?? DEFAULT_SSO_METADATA_URL,
      clock: this.clock,
      logger: this.log,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...options.cache,
    });
  }

  async verify(authorization: string | undefined): Promise<UserContext> {
    try {
      const token = bearerToken(authorization);
      if (!token) throw new SsoRejectedError('no Bearer token');
      const jwt = decodeJwt(token);
      const kid = keyIdOf(jwt);
      // The claims first: they cost nothing, and a token that fails them never makes us fetch keys.
      const claims = checkClaims(jwt.claims, {
        audiences: this.audiences,
        now: this.clock.now(),
        ...(this.options.tenantId ? { tenantId: this.options.tenantId } : {}),
      });
      const key = await this.keys.key(kid);
      if (!key) throw new SsoRejectedError(`unknown key ${kid}`);
      if (!signatureHolds(jwt, key)) throw new SsoRejectedError('bad signature');
      return userFromClaims(claims);
    } catch (err) {
      if (err instanceof SsoRejectedError) this.log.warn({ reason: err.reason }, 'rejected a Teams SSO token');
      throw err;
    }
  }
}

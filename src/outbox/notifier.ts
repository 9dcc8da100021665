// The port the Teams layer implements to deliver one outbox item, and the error it throws.

import type { SendableItem } from './outboxItem.js';

export interface Notifier {
  /**
   * Delivers the item once: post a new message, reply in target.threadId, or update
   * target.activityId (the outbox has filled these in from threadOf / activityOf, and rendered a
   * payload that names a card into the card).
   * Resolves with the activity id Teams gave the message (post and reply).
   * Rejects with DeliveryError; anything else is treated as a transient (network) failure.
   * Include item.id in the activity (e.g. channelData) so a duplicate can be traced.
   * `signal` is aborted when the outbox stops waiting for the answer (its send timeout): stop the
   * request then, rather than leave it open to land later beside the retry.
   */
  send(item: SendableItem, signal?: AbortSignal): Promise<{ activityId?: string }>;
}

/** A failed delivery. `permanent`: retrying cannot help (bot removed, conversation gone). */
export class DeliveryError extends Error {
  readonly code = 'outbox.delivery';
  readonly status?: number;
  /** From HTTP 429/503 Retry-After: the next attempt waits exactly this long, never less. */
  readonly retryAfterMs?: number;
  readonly permanent: boolean;

  constructor(
    message: string,
    options: { status?: number; retryAfterMs?: number; permanent: boolean; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.name = 'DeliveryError';
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.permanent = options.permanent;
  }
}

/** Headers as fetch (`Headers`), @azure/core-rest-pipeline (`HttpHeaders`) or node:http has them. */
export type HeaderSource =
  | { get(name: string): string | null | undefined }
  | Record<string, string | string[] | number | undefined>
  | undefined;

function header(headers: HeaderSource, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(n: string): string | null | undefined }).get(name) ?? undefined;
  }
  const record = headers as Record<string, string | string[] | number | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value === undefined ? undefined : String(value);
}

/** Retry-After (delay-seconds or an HTTP-date, RFC 9110 §10.2.3) in ms; undefined if absent/bad. */
export function parseRetryAfter(
  value: string | undefined,
  now: Date = new Date(),
): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

// 401: the token is refreshed on the next attempt. 408/425/429 and 5xx: the service may recover.
const TRANSIENT_4XX = new Set([401, 408, 425, 429]);

/**
 * A DeliveryError for an HTTP failure. Permanent: 400, 403 and 404 (the bot was removed, the
 * conversation or message is gone) and other 4xx; transient: 401, 408, 425, 429 and 5xx.
 */
export function classifyHttpError(
  status: number,
  headers?: HeaderSource,
  now: Date = new Date(),
  detail?: string,
): DeliveryError {
  const permanent = status >= 400 && status < 500 && !TRANSIENT_4XX.has(status);
  const retryAfterMs = permanent ? undefined : parseRetryAfter(header(headers, 'retry-after'), now);
  const message = `HTTP ${status}${detail ? `: ${detail}` : ''}`;
  return new DeliveryError(message, { status, retryAfterMs, permanent });
}

/**
 * Any error from a send, as a DeliveryError: DeliveryErrors pass through; errors with an HTTP
 * `statusCode` (botbuilder's RestError, with `response.headers`) are classified; the rest
 * (ECONNRESET, DNS, timeouts) are transient.
 */
export function toDeliveryError(err: unknown, now: Date = new Date()): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const e = err as {
    statusCode?: unknown;
    status?: unknown;
    response?: { headers?: HeaderSource };
    message?: unknown;
  };
  const status =
    typeof e?.statusCode === 'number'
      ? e.statusCode
      : typeof e?.status === 'number'
        ? e.status
        : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (status !== undefined && status >= 400) {
    const classified = classifyHttpError(status, e.response?.headers, now, message);
    return new DeliveryError(classified.message, {
      status,
      retryAfterMs: classified.retryAfterMs,
      permanent: classified.permanent,
      cause: err,
    });
  }
  return new DeliveryError(message, { permanent: false, cause: err });
}

import { expect } from 'chai';
import {
  classifyHttpError,
  DeliveryError,
  parseRetryAfter,
  toDeliveryError,
} from '../../src/outbox/notifier.js';

const now = new Date('2026-11-21T09:00:00Z');

describe('notifier', () => {
  const rows: { status: number; permanent: boolean }[] = [
    { status: 400, permanent: true },
    { status: 403, permanent: true },
    { status: 404, permanent: true },
    { status: 413, permanent: true },
    { status: 401, permanent: false },
    { status: 408, permanent: false },
    { status: 429, permanent: false },
    { status: 500, permanent: false },
    { status: 502, permanent: false },
    { status: 503, permanent: false },
  ];
  for (const { status, permanent } of rows)
    it(`classifies HTTP ${status} as ${permanent ? 'permanent' : 'transient'}`, () => {
      const err = classifyHttpError(status, {}, now);
      expect(err).to.be.instanceOf(DeliveryError);
      expect(err).to.include({ status, permanent });
    });

  it('reads Retry-After seconds from fetch Headers, HttpHeaders-like objects and plain records', () => {
    expect(classifyHttpError(429, new Headers({ 'Retry-After': '2' }), now).retryAfterMs).to.equal(
      2_000,
    );
    expect(
      classifyHttpError(429, { get: (n: string) => (n === 'retry-after' ? '3' : undefined) }, now)
        .retryAfterMs,
    ).to.equal(3_000);
    expect(classifyHttpError(503, { 'Retry-After': ['4'] }, now).retryAfterMs).to.equal(4_000);
  });

  it('reads Retry-After as an HTTP-date', () => {
    expect(parseRetryAfter('Sat, 21 Nov 2026 09:00:05 GMT', now)).to.equal(5_000);
    expect(parseRetryAfter('Sat, 21 Nov 2026 08:00:00 GMT', now)).to.equal(0);
    expect(parseRetryAfter('soon', now)).to.equal(undefined);
    expect(parseRetryAfter(undefined, now)).to.equal(undefined);
  });

  it('classifies a botbuilder RestError by its statusCode and response headers', () => {
    const restError = Object.assign(new Error('Too Many Requests'), {
      statusCode: 429,
      response: { headers: { get: (n: string) => (n === 'retry-after' ? '7' : undefined) } },
    });
    const err = toDeliveryError(restError, now);
    expect(err).to.include({ status: 429, retryAfterMs: 7_000, permanent: false });
    expect(
      toDeliveryError(Object.assign(new Error('Forbidden'), { statusCode: 403 }), now).permanent,
    ).to.equal(true);
  });

  it('treats network errors as transient', () => {
    const err = toDeliveryError(
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      now,
    );
    expect(err).to.include({ permanent: false, status: undefined });
  });
});

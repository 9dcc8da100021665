import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { APP_INDEX_VERSION, APP_INDEXES } from '../../src/services/appIndexes.js';
import { specFingerprint } from '../../src/store/indexSnapshot.js';
import { IndexTable } from '../../src/store/indexTable.js';

// The store keeps each document's index keys and, at open, reuses them while the index spec's
// fingerprint (its extractors' text and APP_INDEX_VERSION) is unchanged. What an extractor calls is
// not in its text, so this test holds the keys of sample documents to the ones recorded with the
// fingerprint: keys that change under the same fingerprint mean stores in use would keep stale keys.
//
// Regenerate the record after a deliberate change: UPDATE_INDEX_KEYS=1 npx mocha test/services/appIndexes.test.ts

const RECORD = fileURLToPath(new URL('../fixtures/app-index-keys.json', import.meta.url));

interface Recorded {
  version: number;
  fingerprint: string;
  keys: Record<string, unknown>;
}

const reporter = { aadObjectId: 'user-1', name: 'Ada' };
const conversation = { id: 'conv-1', kind: 'personal' };

// Every step of both kinds of draft, the steps the product has today and one it does not know.
const OUTAGE_STEPS = ['project', 'confirm', 'details', 'contact', 'done', 'notListed', 'cancelled', 'unknown'];
const INCIDENT_STEPS = ['project', 'category', 'area', 'describe', 'screenshots', 'contact', 'contract', 'done', 'solved', 'cancelled', 'unknown'];

function samples(): Record<string, [collection: string, doc: unknown]> {
  const out: Record<string, [string, unknown]> = {};
  for (const step of OUTAGE_STEPS) out[`outage draft at ${step}`] = ['drafts', { id: `d-o-${step}`, kind: 'outage', step, conversation, reporter }];
  for (const step of OUTAGE_STEPS)
    out[`draft without a kind at ${step}`] = ['drafts', { id: `d-x-${step}`, step, conversation, reporter }];
  for (const step of INCIDENT_STEPS)
    out[`incident draft at ${step}`] = ['drafts', { id: `d-i-${step}`, kind: 'incident', step, conversation, reporter }];

  const sla = { kind: 'acknowledgement', target: '30 minutes, 24x7', warnAt: '2026-11-22T10:20:00.000Z', dueAt: '2026-11-22T10:30:00.000Z' };
  const ticket = (status: string, extra: Record<string, unknown> = {}, slaExtra: Record<string, unknown> = {}) => ({
    id: 'OUT-100001',
    status,
    projectId: 'contoso-fo',
    reporter,
    sla: { ...sla, ...slaExtra },
    ...extra,
  });
  for (const status of ['submitted', 'acknowledged', 'resolved', 'unknown']) {
    out[`ticket ${status}`] = ['tickets', ticket(status)];
    out[`ticket ${status}, acknowledged`] = ['tickets', ticket(status, { acknowledged: { at: '2026-11-22T10:05:00.000Z', by: reporter, minutes: 5, met: true } })];
    out[`ticket ${status}, warned`] = ['tickets', ticket(status, {}, { warnedAt: '2026-11-22T10:20:00.000Z' })];
    out[`ticket ${status}, escalated`] = ['tickets', ticket(status, {}, { escalatedAt: '2026-11-22T10:30:00.000Z' })];
    out[`ticket ${status}, warned and escalated`] = [
      'tickets',
      ticket(status, {}, { warnedAt: '2026-11-22T10:20:00.000Z', escalatedAt: '2026-11-22T10:30:00.000Z' }),
    ];
  }
  out['ticket with a first-response SLA'] = ['tickets', ticket('submitted', {}, { kind: 'firstResponse', target: '2 business hours' })];
  out['ticket without a reporter'] = ['tickets', { ...ticket('submitted'), reporter: undefined }];

  for (const status of ['pending', 'sent', 'failed', 'unknown'])
    out[`outbox item ${status}`] = ['outbox', { id: `o-${status}`, status, ticketId: 'OUT-100001', conversationId: 'conv-1' }];
  out['outbox item without a ticket'] = ['outbox', { id: 'o-none', status: 'pending', conversationId: 'conv-1' }];

  out['dialog session'] = ['dialogSessions', { id: 's-1', expiresAt: '2026-11-22T10:59:59.000Z', createdAt: '2026-11-22T10:00:00.000Z' }];
  return out;
}

function keysNow(): Record<string, unknown> {
  const table = new IndexTable(APP_INDEXES);
  const out: Record<string, unknown> = {};
  for (const [name, [collection, doc]] of Object.entries(samples())) out[name] = table.keysFor(collection, doc) ?? null;
  return out;
}

describe('the app index spec against its recorded keys', () => {
  it('gives the recorded keys, or has a new fingerprint (APP_INDEX_VERSION raised) and a new record', async function () {
    this.timeout(10_000); // the canonical fingerprint starts esbuild's service once
    const now: Recorded = { version: APP_INDEX_VERSION, fingerprint: await specFingerprint(APP_INDEXES), keys: keysNow() };
    if (process.env.UPDATE_INDEX_KEYS) {
      writeFileSync(RECORD, `${JSON.stringify(now, null, 2)}\n`);
      return;
    }
    const recorded = JSON.parse(readFileSync(RECORD, 'utf8')) as Recorded;
    const regenerate = 'run UPDATE_INDEX_KEYS=1 npx mocha test/services/appIndexes.test.ts and commit test/fixtures/app-index-keys.json';
    if (now.fingerprint === recorded.fingerprint) {
      expect(
        now.keys,
        'An index extractor now gives other keys, but the index spec\'s fingerprint did not change, so a store ' +
          'opened with this code would keep its stale keys: raise APP_INDEX_VERSION in src/services/appIndexes.ts, then ' +
          regenerate,
      ).to.deep.equal(recorded.keys);
      return;
    }
    expect.fail(
      `The index spec changed (its extractors' text, esbuild's printing of it, or APP_INDEX_VERSION: ${recorded.version} -> ${now.version}); stores ` +
        `rebuild their indexes at open. Record the keys it gives now: ${regenerate}`,
    );
  });

  it('covers every index of the spec with a sample that has a key for it', () => {
    const seen = new Set<string>();
    for (const keys of Object.values(keysNow()))
      for (const index of Object.keys((keys ?? {}) as object)) seen.add(index);
    const declared = Object.entries(APP_INDEXES).flatMap(([, indexes]) => Object.keys(indexes));
    expect([...seen].sort()).to.deep.equal([...new Set(declared)].sort());
  });
});

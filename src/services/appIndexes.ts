import { OUTBOX_INDEXES, OUTBOX_PACKS } from '../outbox/outboxItem.js';
import { PLAN_INDEXES } from '../plans/planService.js';
import { DEADLINE_INDEXES } from '../sla/deadlines.js';
import { mergeIndexes, versionedIndexes, type PackSpec } from '../store/store.js';
import { DIALOG_SESSION_INDEXES } from '../web/dialogSessions.js';
import { INDEXES } from './collections.js';

/**
 * The indexes' version. Raise it when an extractor's answer changes while its own text does not
 * (a helper it calls, such as pendingDeadlines, or a list of steps it reads, such as
 * INCIDENT_ACTIVE_STEPS): a store opened with a new version rebuilds its indexes from the
 * documents. test/services/appIndexes.test.ts fails until it is raised.
 */
export const APP_INDEX_VERSION = 1;

/** Every index the product opens its store with: each module declares its own. */
export const APP_INDEXES = versionedIndexes(
  mergeIndexes(INDEXES, OUTBOX_INDEXES, DEADLINE_INDEXES, PLAN_INDEXES, DIALOG_SESSION_INDEXES),
  APP_INDEX_VERSION,
);

/** The collections the product's store keeps in packs (see PackSpec). */
export const APP_PACKS: PackSpec = { ...OUTBOX_PACKS };

import { OUTBOX_INDEXES } from '../outbox/outboxItem.js';
import { PLAN_INDEXES } from '../plans/planService.js';
import { DEADLINE_INDEXES } from '../sla/deadlines.js';
import { mergeIndexes } from '../store/store.js';
import { DIALOG_SESSION_INDEXES } from '../web/dialogSessions.js';
import { INDEXES } from './collections.js';

/** Every index the product opens its store with: each module declares its own. */
export const APP_INDEXES = mergeIndexes(INDEXES, OUTBOX_INDEXES, DEADLINE_INDEXES, PLAN_INDEXES, DIALOG_SESSION_INDEXES);

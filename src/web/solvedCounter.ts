import { createHash } from 'node:crypto';
import type { UserContext } from '../domain/user.js';
import type { IssueSearch } from '../search/issueSearch.js';
import { INCIDENT_COLLECTIONS, type SolvedCounter } from '../services/incidentService.js';
import { ConflictError, type Store } from '../store/store.js';
import type { Clock } from '../time.js';

// "This solved my problem" in the dialog page counts on the same per-entry counter as the card
// flow (IncidentService, collection kbSolved). Once per opened form: a marker keyed by the user
// and the form's idempotency key is written with the counter in one atomic write, so a double
// click or a retried task/submit counts once.

export const DIALOG_SOLVED = 'dialogSolved';
const MAX_RETRIES = 8;

export interface SolvedCounterDeps {
  store: Store;
  search: Pick<IssueSearch, 'byKb'>;
  clock: Clock;
}

/** Counts the entry as having solved this user's problem; returns its count, or undefined if unknown. */
export async function countSolved(
  deps: SolvedCounterDeps,
  user: UserContext,
  kbNumber: string,
  formKey: string,
): Promise<number | undefined> {
  const entry = deps.search.byKb(kbNumber);
  if (!entry) return undefined;
  const marker = createHash('sha256').update(`${user.tenantId}|${user.aadObjectId}|${formKey}`).digest('hex').slice(0, 32);
  for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
    const counter = await deps.store.get<SolvedCounter>(INCIDENT_COLLECTIONS.solved, entry.id);
    const value: SolvedCounter = {
      issueId: entry.id,
      kbNumber: entry.kbNumber,
      count: (counter?.value.count ?? 0) + 1,
      updatedAt: deps.clock.now().toISOString(),
    };
    try {
      await deps.store.write([
        { op: 'put', collection: DIALOG_SOLVED, id: marker, value: { issueId: entry.id, at: value.updatedAt }, ifMatch: 'absent' },
        { op: 'put', collection: INCIDENT_COLLECTIONS.solved, id: entry.id, value, ifMatch: counter?.eTag ?? 'absent' },
      ]);
      return value.count;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      if (err.collection === DIALOG_SOLVED) return counter?.value.count ?? 0; // already counted
    }
  }
  throw new Error(`known issue ${entry.id}: too many concurrent "solved" counts`);
}

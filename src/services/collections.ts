import type { IndexSpec } from '../store/store.js';

/** Collection names, in one place so every backend and service agrees. */
export const COLLECTIONS = {
  drafts: 'drafts',
  tickets: 'tickets',
  counters: 'counters',
  conversations: 'conversations',
} as const;

const ACTIVE = new Set(['project', 'confirm', 'details', 'contact']);

/** The secondary indexes the services query by. Extractors are pure functions of the document. */
export const INDEXES: IndexSpec = {
  drafts: {
    // conversation|user of drafts still being filled in: "report outage" resumes them
    active: (d) => (ACTIVE.has(d.step) ? `${d.conversation.id}|${d.reporter.aadObjectId}` : undefined),
  },
  tickets: {
    reporter: (t) => t.reporter?.aadObjectId,
    project: (t) => t.projectId,
    status: (t) => t.status,
  },
};

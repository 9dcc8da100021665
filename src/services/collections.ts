import { ATTACHMENT_STEPS, INCIDENT_ACTIVE_STEPS } from '../flows/incidentFlow.js';
import type { IndexSpec } from '../store/store.js';

/** Collection names, in one place so every backend and service agrees. */
export const COLLECTIONS = {
  drafts: 'drafts',
  tickets: 'tickets',
  counters: 'counters',
  conversations: 'conversations',
} as const;

const ACTIVE = new Set(['project', 'confirm', 'details', 'contact']);
const INCIDENT_ACTIVE = new Set<string>(INCIDENT_ACTIVE_STEPS);
const INCIDENT_FILES = new Set<string>(ATTACHMENT_STEPS);

/** The secondary indexes the services query by. Extractors are pure functions of the document. */
export const INDEXES: IndexSpec = {
  drafts: {
    // conversation|user of outage drafts still being filled in: "report outage" resumes them
    active: (d) => (d.kind !== 'incident' && ACTIVE.has(d.step) ? `${d.conversation.id}|${d.reporter.aadObjectId}` : undefined),
    // conversation|user of incident drafts still being filled in: "submit incident" resumes them
    incident: (d) =>
      d.kind === 'incident' && INCIDENT_ACTIVE.has(d.step) ? `${d.conversation.id}|${d.reporter.aadObjectId}` : undefined,
    // user of incident drafts that take files now: files sent in personal chat go to them
    incidentFiles: (d) => (d.kind === 'incident' && INCIDENT_FILES.has(d.step) ? d.reporter.aadObjectId : undefined),
  },
  tickets: {
    reporter: (t) => t.reporter?.aadObjectId,
    project: (t) => t.projectId,
    status: (t) => t.status,
  },
};

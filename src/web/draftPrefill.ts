import type { UserContext } from '../domain/user.js';
import { type IncidentDraft, isActiveIncident } from '../flows/incidentFlow.js';
import { COLLECTIONS } from '../services/collections.js';
import type { Store } from '../store/store.js';
import { boundValues } from './dialogSessions.js';

/**
 * What the user already entered on the incident cards, as the dialog's form values, when the
 * dialog is opened from a card of that draft ("Use the full form"). Only the reporter's own,
 * still open draft; anything else opens an empty form.
 */
export async function incidentDraftValues(
  store: Store,
  user: UserContext,
  draftId: string,
): Promise<Record<string, unknown> | undefined> {
  const doc = await store.get<IncidentDraft>(COLLECTIONS.drafts, draftId);
  const d = doc?.value;
  if (!d || d.kind !== 'incident' || !isActiveIncident(d)) return undefined;
  if (d.reporter.aadObjectId.toLowerCase() !== user.aadObjectId.toLowerCase() || d.tenantId !== user.tenantId) return undefined;
  return boundValues({
    ...(d.projectId ? { projectId: d.projectId } : {}),
    environmentId: d.inEnvironment === 'yes' ? d.environmentId : '',
    category: d.category,
    area: d.area,
    title: d.title,
    details: d.details,
    errorMessage: d.errorMessage,
    contact: d.contact,
    contractRef: d.contractRef,
    severity: d.severity,
    confirmCritical: d.confirmCritical,
    confirm24x7: d.confirm24x7,
  });
}

/**
 * What the user typed on the card but has not sent yet: an Action.Submit sends the card's inputs
 * with its data (the incident cards' input ids are the form's field names).
 */
export function cardInputValues(data: Record<string, unknown>): Record<string, unknown> {
  const pick = ['projectId', 'category', 'area', 'title', 'details', 'errorMessage'].filter((k) => typeof data[k] === 'string');
  const out: Record<string, unknown> = Object.fromEntries(pick.map((k) => [k, data[k]]));
  if (data.inEnvironment === 'no') out.environmentId = '';
  else if (data.inEnvironment === 'yes' && typeof data.environmentId === 'string') out.environmentId = data.environmentId;
  return boundValues(out);
}

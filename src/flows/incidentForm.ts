import { z } from 'zod';

// The incident as one form: what the Teams dialog page (task module) submits in one go. It goes
// through IncidentService.submitForm, which runs the same checks and the same creation as the
// card flow; this schema only bounds shapes and sizes, the meaningful checks (and their messages,
// keyed by the field paths below) are in incidentFlow.ts.

// Web forms send checkboxes as booleans or as "true"/"false"; both are read the same way.
const Flag = z
  .union([z.boolean(), z.enum(['true', 'false'])])
  .transform((v) => v === true || v === 'true');

/** Severity A (critical), B (moderate) or C (minimum business impact): SPEC §5. */
export const Severity = z.enum(['A', 'B', 'C'], { error: 'Choose severity A, B or C.' });
export type Severity = z.infer<typeof Severity>;

export const IncidentForm = z.object({
  projectId: z.string().max(64),
  /** Absent or empty: the issue did not occur in a particular environment. */
  environmentId: z.string().max(64).optional(),
  /** Category id from formOptions().categories. */
  category: z.string().max(64),
  /** Area id from that category's areas. */
  area: z.string().max(64),
  title: z.string().max(1000),
  details: z.string().max(20000),
  errorMessage: z.string().max(8000).optional(),
  contact: z.object({
    name: z.string().max(500),
    email: z.string().max(500),
    phone: z.string().max(100),
  }),
  /** A ref from formOptions().projects[].contracts. */
  contractRef: z.string().max(200),
  severity: Severity,
  /** Severity A only: the user confirms critical business impact ... */
  confirmCritical: Flag.optional(),
  /** ... and that they will be available 24x7. */
  confirm24x7: Flag.optional(),
});
export type IncidentForm = z.infer<typeof IncidentForm>;

/**
 * Field paths of IncidentForm that submitForm's errors are keyed by (`contact.email`, ...), plus
 * `form` for a problem with the whole submission (the store is down, a plan ran out meanwhile).
 */
export type IncidentFormField =
  | 'projectId'
  | 'environmentId'
  | 'category'
  | 'area'
  | 'title'
  | 'details'
  | 'errorMessage'
  | 'contact.name'
  | 'contact.email'
  | 'contact.phone'
  | 'contractRef'
  | 'severity'
  | 'confirmCritical'
  | 'confirm24x7'
  | 'form';

/** What the dialog page needs to draw the form (IncidentService.formOptions). */
export interface IncidentFormOptions {
  organization: { id: string; name: string };
  projects: {
    id: string;
    name: string;
    environments: { id: string; name: string; type: 'production' | 'sandbox' }[];
    /** Support plans usable for an incident in this project, LCS's order. */
    contracts: { ref: string; title: string; incidents: string; limited: boolean }[];
    /** When `contracts` is empty: what ties a plan to this project (one paragraph). */
    noContractsHelp: string;
  }[];
  categories: { id: string; name: string; areas: { id: string; name: string }[] }[];
  severities: { id: Severity; title: string; meaning: string }[];
  /** Prefill for the primary contact, from the Teams profile. */
  contact: { name: string; email: string; phone: string };
}

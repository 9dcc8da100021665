import type { IncidentFormOptions } from '../../src/flows/incidentForm.js';

// Shared by the dialog tests: plain HTTP calls to the bot's web API and a valid form for the
// demo directory's Alex Wilber (Contoso Finance and Operations, a cloud plan, severity B).

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: the page, a script, a style sheet
  }
  return { status: res.status, headers: res.headers, body, text };
}

export const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  call(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/** A form IncidentService.submitForm accepts, built from the choices the form endpoint offered. */
export function validForm(options: IncidentFormOptions, overrides: Record<string, unknown> = {}) {
  const project = options.projects.find((p) => p.contracts.length > 0 && p.environments.length > 0);
  if (!project) throw new Error('no project with a contract and an environment in the form options');
  const platform = options.categories.find((c) => c.name === 'Platform') ?? options.categories[0]!;
  const batch = platform.areas.find((a) => a.name === 'Batch jobs') ?? platform.areas[0]!;
  return {
    projectId: project.id,
    environmentId: project.environments[0]!.id,
    category: platform.id,
    area: batch.id,
    title: 'Batch job stuck in Waiting',
    details: 'Since this morning every recurring batch job stays in Waiting. Steps: open Batch jobs, filter on Waiting.',
    errorMessage: '',
    contact: { name: 'Alex Wilber', email: 'alexw@example.com', phone: '+1 425 555 0100' },
    contractRef: project.contracts[0]!.ref,
    severity: 'B',
    confirmCritical: false,
    confirm24x7: false,
    ...overrides,
  };
}

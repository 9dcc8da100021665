import { byId, h, randomId, show, withMarks } from './lib/dom.js';
import { getJson, isAbort, postJson } from './lib/http.js';
import { connectToTeams, type TeamsHost } from './lib/teamsHost.js';

// The incident form as a Teams dialog (task module), and as a plain page outside Teams.
// - Inside Teams (opened by the bot's task/fetch): the URL carries a short-lived session id that
//   names the user; the form is submitted with dialog.url.submit, which reaches the bot as
//   task/submit. On validation errors the bot re-opens this page with the values and the errors.
// - Outside Teams: a banner says so, and the form posts to /api/incidents (local mode only).
// "Possible issue solutions" follow the description as it is typed: a debounced search, each new
// one aborting the one before, so a slow answer never overwrites a newer one.

interface Choice {
  id: string;
  name: string;
}
interface FormOptions {
  organization: { id: string; name: string };
  projects: {
    id: string;
    name: string;
    environments: (Choice & { type: string })[];
    contracts: { ref: string; title: string; incidents: string; limited: boolean }[];
    noContractsHelp: string;
  }[];
  categories: (Choice & { areas: Choice[] })[];
  severities: { id: string; title: string; meaning: string }[];
  contact: { name: string; email: string; phone: string };
}
interface FormAnswer {
  options: FormOptions;
  values?: Record<string, unknown>;
  errors?: Record<string, string>;
  /** The refused submission's key when the bot re-opened the form: the retry is the same one. */
  idempotencyKey?: string;
}
interface SearchResult {
  id: string;
  kbNumber: string;
  title: string;
  status: string;
  statusColor: string;
  snippet: string;
  link: string;
}
interface SubmitAnswer {
  ticketId?: string;
  title?: string;
  message?: string;
  errors?: Record<string, string>;
}

const SEARCH_DEBOUNCE_MS = 300;
const KEPT = 'Nothing you typed is lost.';
const params = new URLSearchParams(location.search);
const session = params.get('session') ?? '';
const form = byId<HTMLFormElement>('incident-form');
const field = <T extends HTMLElement>(name: string) => form.elements.namedItem(name) as unknown as T;
const select = (name: string) => field<HTMLSelectElement>(name);
const input = (name: string) => field<HTMLInputElement | HTMLTextAreaElement>(name);

let options: FormOptions;
let host: TeamsHost | undefined;
// One key per opened form (IncidentService.submitForm): a double click, a retry or the corrected
// form after a refusal is the same submission and never creates a second incident.
let idempotencyKey = randomId();

async function start(): Promise<void> {
  // Teams detection and the form data in parallel: outside Teams the form shows without waiting.
  const teams = connectToTeams().then((found) => {
    host = found;
    show(byId('banner'), !found);
    return found;
  });
  const query = session ? `?session=${encodeURIComponent(session)}` : '';
  let answer;
  try {
    answer = await getJson<FormAnswer & { message?: string }>(`../api/incidents/form${query}`);
  } catch {
    return loadFailed('The form could not be loaded: check your connection and open it again.');
  }
  if (answer.status !== 200) return loadFailed(answer.body.message ?? `The form could not be loaded (${answer.status}).`);
  options = answer.body.options;
  if (answer.body.idempotencyKey) idempotencyKey = answer.body.idempotencyKey;
  drawOptions();
  fill(answer.body.values ?? {});
  showErrors(answer.body.errors ?? {});
  wire();
  show(byId('loading'), false);
  show(form, true);
  scheduleSearch(0);
  await teams;
}

function loadFailed(message: string): void {
  show(byId('loading'), false);
  const el = byId('load-error');
  el.textContent = message;
  show(el, true);
}

// ---- drawing the choices -------------------------------------------------------------------

function setChoices(el: HTMLSelectElement, choices: { value: string; label: string }[], placeholder?: string): void {
  const keep = el.value;
  el.replaceChildren(
    ...(placeholder ? [h('option', { value: '' }, placeholder)] : []),
    ...choices.map((c) => h('option', { value: c.value }, c.label)),
  );
  if (choices.some((c) => c.value === keep)) el.value = keep;
}

function drawOptions(): void {
  const projects = options.projects.map((p) => ({ value: p.id, label: p.name }));
  setChoices(select('projectId'), projects, projects.length === 1 ? undefined : 'Choose a project');
  // With one project there is nothing to choose (LCS asks only when there are several).
  show(select('projectId').closest('.field') as HTMLElement, projects.length !== 1);
  setChoices(select('category'), options.categories.map((c) => ({ value: c.id, label: c.name })), 'Choose a category');
  drawAreas();
  drawProjectChoices();
  const radios = options.severities.map((s) =>
    h(
      'label',
      { class: 'choice severity' },
      h('input', { type: 'radio', name: 'severity', value: s.id }),
      h('span', {}, h('strong', {}, `Severity ${s.title}`), ' ', h('span', { class: 'hint' }, s.meaning)),
    ),
  );
  byId('severities').replaceChildren(...radios);
}

function drawAreas(): void {
  const category = options.categories.find((c) => c.id === select('category').value);
  const areas = (category?.areas ?? []).map((a) => ({ value: a.id, label: a.name }));
  setChoices(select('area'), areas, category ? 'Choose an area' : 'Choose a category first');
  select('area').disabled = !category;
}

function currentProject() {
  return options.projects.find((p) => p.id === select('projectId').value);
}

function drawProjectChoices(): void {
  const project = currentProject();
  setChoices(
    select('environmentId'),
    (project?.environments ?? []).map((e) => ({ value: e.id, label: `${e.name} (${e.type})` })),
    'Choose an environment',
  );
  setChoices(
    select('contractRef'),
    (project?.contracts ?? []).map((c) => ({ value: c.ref, label: c.title })), // the title says the incidents left
    project ? 'Choose a support contract' : 'Choose a project first',
  );
  const help = byId('contractRef-help');
  help.textContent = project && project.contracts.length === 0 ? project.noContractsHelp : '';
  show(help, help.textContent !== '');
}

function occurred(): boolean {
  return (form.elements.namedItem('occurred') as RadioNodeList).value === 'yes';
}

function severity(): string {
  return (form.elements.namedItem('severity') as RadioNodeList | null)?.value ?? '';
}

function syncDependents(): void {
  show(byId('environment-field'), occurred());
  show(byId('critical-confirmations'), severity() === 'A');
}

// ---- values in and out ---------------------------------------------------------------------

function fill(values: Record<string, unknown>): void {
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  // What was typed wins over the Teams profile, but an empty field keeps the prefill.
  const typed = Object.entries((values.contact as Record<string, unknown> | undefined) ?? {}).filter(([, v]) => text(v) !== '');
  const contact: Record<string, unknown> = { ...options.contact, ...Object.fromEntries(typed) };
  if (text(values.projectId)) select('projectId').value = text(values.projectId);
  drawProjectChoices();
  if (text(values.category)) select('category').value = text(values.category);
  drawAreas();
  if (text(values.area)) select('area').value = text(values.area);
  const environmentId = text(values.environmentId);
  (form.elements.namedItem('occurred') as RadioNodeList).value = environmentId ? 'yes' : 'no';
  select('environmentId').value = environmentId;
  for (const name of ['title', 'details', 'errorMessage'] as const) input(name).value = text(values[name]);
  for (const name of ['name', 'email', 'phone'] as const) input(`contact.${name}`).value = text(contact[name]);
  if (text(values.contractRef)) select('contractRef').value = text(values.contractRef);
  const sev = form.elements.namedItem('severity') as RadioNodeList | null;
  if (sev && text(values.severity)) sev.value = text(values.severity);
  for (const name of ['confirmCritical', 'confirm24x7'] as const)
    field<HTMLInputElement>(name).checked = values[name] === true || values[name] === 'true';
  syncDependents();
}

/** The form as IncidentForm expects it (src/flows/incidentForm.ts). */
function collect(): Record<string, unknown> {
  const isA = severity() === 'A';
  return {
    projectId: select('projectId').value,
    environmentId: occurred() ? select('environmentId').value : '',
    category: select('category').value,
    area: select('area').value,
    title: input('title').value,
    details: input('details').value,
    errorMessage: input('errorMessage').value,
    contact: {
      name: input('contact.name').value,
      email: input('contact.email').value,
      phone: input('contact.phone').value,
    },
    contractRef: select('contractRef').value,
    severity: severity(),
    confirmCritical: isA && field<HTMLInputElement>('confirmCritical').checked,
    confirm24x7: isA && field<HTMLInputElement>('confirm24x7').checked,
  };
}

// ---- errors beside their fields ------------------------------------------------------------

function showErrors(errors: Record<string, string>): void {
  let first: HTMLElement | undefined;
  for (const el of form.querySelectorAll<HTMLElement>('.field-error')) {
    const name = el.id.slice(0, -'-error'.length);
    const message = errors[name] ?? '';
    el.textContent = message;
    show(el, message !== '');
    const control = document.getElementById(name) ?? byId('severities');
    if (message) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
    if (message && !first) first = el.closest<HTMLElement>('.field') ?? el;
  }
  // Errors the page has no field for (the whole form, a stale project) go on top.
  const known = new Set([...form.querySelectorAll('.field-error')].map((e) => e.id.slice(0, -'-error'.length)));
  const other = Object.entries(errors)
    .filter(([k]) => !known.has(k))
    .map(([, v]) => v);
  const formError = byId('form-error');
  formError.textContent = other.join(' ');
  show(formError, other.length > 0);
  // Fields hidden by a choice still show their error: reveal what holds one.
  if (errors.environmentId) show(byId('environment-field'), true);
  if (errors.confirmCritical || errors.confirm24x7) show(byId('critical-confirmations'), true);
  if (other.length) formError.scrollIntoView({ block: 'nearest' });
  else first?.scrollIntoView({ block: 'nearest' });
}

// ---- possible issue solutions --------------------------------------------------------------

let searchTimer: ReturnType<typeof setTimeout> | undefined;
let inFlight: AbortController | undefined;
let lastQuery = '';

function scheduleSearch(delay = SEARCH_DEBOUNCE_MS): void {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => void search(), delay);
}

function nameOf(list: Choice[] | undefined, id: string): string {
  return list?.find((c) => c.id === id)?.name ?? '';
}

async function search(): Promise<void> {
  const category = options.categories.find((c) => c.id === select('category').value);
  const q = new URLSearchParams();
  const add = (key: string, value: string) => value.trim() && q.set(key, value.trim());
  add('title', input('title').value);
  add('details', input('details').value);
  add('errorMessage', input('errorMessage').value);
  add('category', category?.name ?? '');
  add('area', nameOf(category?.areas, select('area').value));
  const query = q.toString();
  if (query === lastQuery) return;
  lastQuery = query;
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  const status = byId('solutions-status');
  status.textContent = 'Searching…';
  byId('solutions').setAttribute('aria-busy', 'true');
  try {
    const answer = await getJson<{ results?: SearchResult[]; message?: string }>(`../api/search?${query}`, controller.signal);
    if (controller.signal.aborted) return;
    if (answer.status !== 200) {
      status.textContent = answer.body.message ?? 'Issue search is not available right now.';
      return;
    }
    drawResults(answer.body.results ?? [], query.includes('title=') || query.includes('details=') || query.includes('errorMessage='));
    byId('solutions').dataset.query = query; // what the list shows (tests wait on it)
  } catch (err) {
    if (isAbort(err)) return;
    status.textContent = 'Issue search is not available right now; you can still submit.';
    lastQuery = ''; // try again on the next keystroke
  } finally {
    if (inFlight === controller) {
      inFlight = undefined;
      byId('solutions').removeAttribute('aria-busy');
    }
  }
}

function drawResults(results: SearchResult[], described: boolean): void {
  const status = byId('solutions-status');
  status.textContent = !described
    ? 'Recently updated known issues. Describe your issue to see the ones that match it.'
    : results.length
      ? `${results.length} known issue${results.length === 1 ? '' : 's'} may match your description.`
      : 'No known issue matches your description yet.';
  byId('solutions').replaceChildren(
    ...results.map((r) =>
      h(
        'li',
        { class: 'solution' },
        h(
          'div',
          { class: 'solution-head' },
          h('a', { href: r.link, target: '_blank', rel: 'noopener noreferrer' }, r.title),
          h('span', { class: 'kb' }, r.kbNumber),
          h('span', { class: `status status-${r.statusColor.toLowerCase()}` }, r.status),
        ),
        h('p', { class: 'snippet' }, ...withMarks(r.snippet)),
        h(
          'button',
          { type: 'button', class: 'solved', 'data-kb': r.kbNumber, 'aria-label': `This solved my problem: ${r.title}` },
          'This solved my problem',
        ),
      ),
    ),
  );
}

// ---- submitting ----------------------------------------------------------------------------

let submitting = false;

async function submit(): Promise<void> {
  if (submitting) return;
  submitting = true;
  const button = byId<HTMLButtonElement>('submit');
  button.disabled = true;
  byId('submit-status').textContent = 'Submitting…';
  try {
    const values = collect();
    if (host) {
      // The bot creates the incident (task/submit) and answers with a message, or re-opens this
      // page with the errors; the dialog closes either way.
      host.submitDialog({ dialog: 'incident', action: 'submit', form: values, idempotencyKey });
      return;
    }
    let answer;
    try {
      answer = await postJson<SubmitAnswer>('../api/incidents', { form: values, idempotencyKey });
    } catch {
      showErrors({ form: `The incident could not be sent: check your connection and submit again. ${KEPT}` });
      return;
    }
    if (answer.status === 201 && answer.body.ticketId)
      return finished(`Incident ${answer.body.ticketId} submitted`, answer.body.message ?? '');
    if (answer.status === 400 && answer.body.errors) {
      showErrors(answer.body.errors);
      return;
    }
    showErrors({ form: answer.body.message ?? `The incident could not be submitted (${answer.status}). ${KEPT}` });
  } finally {
    submitting = false;
    button.disabled = false;
    byId('submit-status').textContent = '';
  }
}

async function solved(kbNumber: string): Promise<void> {
  if (host) {
    host.submitDialog({ dialog: 'incident', action: 'solved', kbNumber, idempotencyKey });
    return;
  }
  // Counting is best effort: the user is done whatever the answer.
  const answer = await postJson<{ message?: string }>('../api/incidents/solved', { kbNumber, idempotencyKey }).catch(() => undefined);
  finished('Glad that helped', answer?.body.message ?? `${kbNumber} solved the problem. Nothing was submitted.`);
}

function finished(title: string, text: string): void {
  show(form, false);
  byId('done-title').textContent = title;
  byId('done-text').textContent = text;
  show(byId('done'), true);
  byId('done').focus();
}

// ---- events --------------------------------------------------------------------------------

function wire(): void {
  select('projectId').addEventListener('change', drawProjectChoices);
  select('category').addEventListener('change', () => {
    drawAreas();
    scheduleSearch();
  });
  select('area').addEventListener('change', () => scheduleSearch());
  for (const radio of form.querySelectorAll('input[name="occurred"]')) radio.addEventListener('change', syncDependents);
  byId('severities').addEventListener('change', syncDependents);
  for (const name of ['title', 'details', 'errorMessage']) input(name).addEventListener('input', () => scheduleSearch());
  byId('solutions').addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button.solved');
    if (button?.dataset.kb) void solved(button.dataset.kb);
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit();
  });
}

void start();

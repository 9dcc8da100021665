import { expect } from 'chai';
import { IncidentDialogs } from '../../bot/dialogs.js';
import { loadConfig } from '../../src/config.js';
import type { Ticket } from '../../src/domain/ticket.js';
import { ConfigError } from '../../src/errors.js';
import { recognize } from '../../src/intents.js';
import { silentLogger } from '../../src/logger.js';
import { COLLECTIONS } from '../../src/services/collections.js';
import { INCIDENT_COLLECTIONS } from '../../src/services/incidentService.js';
import { MemoryStore } from '../../src/store/memoryStore.js';
import { systemClock } from '../../src/time.js';
import { DialogSessions } from '../../src/web/dialogSessions.js';
import {
  ALEX,
  type BotUnderTest,
  MEGAN,
  cardOf,
  type Connector,
  type Conv,
  message,
  personal,
  removeDir,
  startBot,
  startConnector,
  type Who,
} from '../helpers/botHarness.js';
import { demoUser } from '../helpers/fixtures.js';
import { call, validForm } from './dialogFixtures.js';

// The Teams side of the incident dialog, at the invoke level (the Agents Playground has no
// dialogs): task/fetch opens the page on the bot's host, task/submit creates the incident through
// IncidentService.submitForm or re-opens the page with the values and the errors.

describe('incident dialog in Teams (task/fetch, task/submit)', () => {
  let connector: Connector;
  let bot: BotUnderTest;
  let conv: Conv;

  before(async () => {
    connector = await startConnector();
  });
  after(async () => connector.stop());
  beforeEach(async () => {
    bot = await startBot();
    conv = personal();
    connector.calls.length = 0;
  });
  afterEach(async () => {
    await bot.stop();
    removeDir(bot.dataDir);
  });

  function task(who: Who, name: 'task/fetch' | 'task/submit', data: unknown) {
    const { text: _text, deliveryMode: _mode, ...activity } = message(connector.url, who, conv, '');
    return bot.post({ ...activity, type: 'invoke', name, value: { data, context: { theme: 'dark' } } });
  }

  /** Opens the dialog and returns its URL's session with what the page would load. */
  async function open() {
    const res = await task(ALEX, 'task/fetch', { msteams: { type: 'task/fetch' }, dialog: 'incident' });
    expect(res.status).to.equal(200);
    const value = res.body.task.value;
    const session = new URL(value.url).searchParams.get('session')!;
    const form = await call(`${bot.url}/api/incidents/form?session=${encodeURIComponent(session)}`);
    expect(form.status).to.equal(200);
    return { res, value, session, form: form.body };
  }

  it('"incident form" answers with a card whose button opens the dialog (task/fetch)', async () => {
    const res = await bot.post(message(connector.url, ALEX, conv, 'incident form'));
    const card = cardOf(res.body);
    const button = card.actions.find((a: any) => a.type === 'Action.Submit');
    expect(button.title).to.equal('Open the incident form');
    expect(button.data).to.deep.equal({ msteams: { type: 'task/fetch' }, dialog: 'incident' });
  });

  it('the incident cards open the dialog too, carrying what the cards already hold', async () => {
    const card = cardOf((await bot.post(message(connector.url, ALEX, conv, 'submit incident'))).body);
    const button = card.actions.find((a: any) => a.type === 'Action.Submit');
    expect(button.title).to.equal('Use the full form');
    expect(button.data).to.deep.include({ msteams: { type: 'task/fetch' }, dialog: 'incident' });
    expect(button.data.draftId).to.be.a('string');
    // Teams sends the card's inputs with an Action.Submit's data: the project chosen, not yet sent.
    const res = await task(ALEX, 'task/fetch', { ...button.data, projectId: 'contoso-fo' });
    const session = new URL(res.body.task.value.url).searchParams.get('session')!;
    const form = await call(`${bot.url}/api/incidents/form?session=${encodeURIComponent(session)}`);
    expect(form.body.values).to.include({ projectId: 'contoso-fo' });
    // Someone else's draft id opens an empty form.
    const other = await task(MEGAN, 'task/fetch', { ...button.data });
    const otherSession = new URL(other.body.task.value.url).searchParams.get('session')!;
    const otherForm = await call(`${bot.url}/api/incidents/form?session=${encodeURIComponent(otherSession)}`);
    expect(otherForm.body.values).to.equal(undefined);
  });

  it('task/fetch continues with the page on the bot host, for the user who opened it', async () => {
    const { res, value, form } = await open();
    expect(res.body.task.type).to.equal('continue');
    expect(value).to.include({ title: 'Submit an incident', height: 'large', width: 'large' });
    expect(value.url).to.match(new RegExp(`^${bot.url}/dialogs/incident\\?session=[\\w-]{24}$`));
    expect(value.fallbackUrl).to.equal(value.url);
    // The page loads Alex's choices through the session; the Teams profile prefills the contact.
    expect(form.options.contact).to.include({ name: 'Alex Wilber', email: 'alexw@example.com' });
    expect(form.options.projects.length).to.be.greaterThan(0);
    const page = await call(value.url);
    expect(page.status).to.equal(200);
  });

  it('task/submit with a valid form creates the incident and answers with a message', async () => {
    const { form } = await open();
    const submitted = validForm(form.options);
    const res = await task(ALEX, 'task/submit', { dialog: 'incident', action: 'submit', form: submitted, idempotencyKey: 'teams-dialog-1' });
    expect(res.status).to.equal(200);
    expect(res.body.task.type).to.equal('message');
    const ticketId = /^Incident (INC-\d+) submitted$/.exec(res.body.task.value)?.[1];
    expect(ticketId, res.body.task.value).to.be.a('string');
    const stored = await bot.running.store.get<Ticket>(COLLECTIONS.tickets, ticketId!);
    expect(stored?.value).to.include({ kind: 'incident', title: submitted.title });
    expect(stored?.value.reporter.aadObjectId).to.equal(ALEX.aadObjectId);
    expect(stored?.value.origin.conversationId).to.equal(conv.id);
    // The confirmation card stays in the conversation the dialog was opened from.
    const posted = connector.calls.filter((c) => c.method === 'POST' && c.path.includes(encodeURIComponent(conv.id)) && c.body?.attachments?.length);
    expect(JSON.stringify(posted.map((c) => c.body.attachments[0].content))).to.include(ticketId);

    // Teams retries an invoke it thinks was lost: the same incident, not a second one.
    const again = await task(ALEX, 'task/submit', { dialog: 'incident', action: 'submit', form: submitted, idempotencyKey: 'teams-dialog-1' });
    expect(again.body.task.value).to.equal(res.body.task.value);
    expect(await bot.running.store.count(COLLECTIONS.tickets)).to.equal(1);
  });

  it('task/submit with errors re-opens the page with the values and the errors, nothing created', async () => {
    const { form } = await open();
    const submitted = validForm(form.options, { details: '', contact: { name: 'Alex Wilber', email: 'nope', phone: '' } });
    const res = await task(ALEX, 'task/submit', { dialog: 'incident', action: 'submit', form: submitted, idempotencyKey: 'teams-dialog-2' });
    expect(res.status).to.equal(200);
    expect(res.body.task.type).to.equal('continue');
    expect(res.body.task.value).to.include({ title: 'Submit an incident', height: 'large', width: 'large' });
    const session = new URL(res.body.task.value.url).searchParams.get('session')!;
    const reopened = await call(`${bot.url}/api/incidents/form?session=${encodeURIComponent(session)}`);
    expect(reopened.body.errors).to.include.keys('details', 'contact.email');
    expect(reopened.body.values).to.deep.include({ title: submitted.title, projectId: submitted.projectId, severity: 'B' });
    expect(reopened.body.values.contact).to.deep.equal(submitted.contact);
    expect(reopened.body.idempotencyKey).to.equal('teams-dialog-2');
    expect(await bot.running.store.count(COLLECTIONS.tickets)).to.equal(0);
  });

  it('"This solved my problem" closes the dialog with a message and is counted once', async () => {
    const hit = (await call(`${bot.url}/api/search?q=batch%20job%20stuck`)).body.results[0];
    const data = { dialog: 'incident', action: 'solved', kbNumber: hit.kbNumber, idempotencyKey: 'teams-dialog-3' };
    const res = await task(ALEX, 'task/submit', data);
    expect(res.body.task).to.deep.equal({ type: 'message', value: `Glad that helped: ${hit.kbNumber} solved the problem. Nothing was submitted.` });
    await task(ALEX, 'task/submit', data);
    const counter = await bot.running.store.get<{ count: number }>(INCIDENT_COLLECTIONS.solved, hit.id);
    expect(counter?.value.count).to.equal(1);
  });

  it('answers a task/fetch or task/submit it cannot read with a message, never an error', async () => {
    const fetch = await task(ALEX, 'task/fetch', { dialog: 'something-else' });
    expect(fetch.status).to.equal(200);
    expect(fetch.body.task.type).to.equal('message');
    const submit = await task(ALEX, 'task/submit', { dialog: 'incident', action: 'submit', form: 'not an object' });
    expect(submit.status).to.equal(200);
    expect(submit.body.task.value).to.match(/nothing was submitted/);
  });

  it('opens the page on PUBLIC_BASE_URL when it is set', async () => {
    await bot.stop();
    removeDir(bot.dataDir);
    bot = await startBot({ env: { PUBLIC_BASE_URL: 'https://bot.contoso.example/' } });
    const res = await task(ALEX, 'task/fetch', { dialog: 'incident' });
    expect(res.body.task.value.url).to.match(/^https:\/\/bot\.contoso\.example\/dialogs\/incident\?session=/);
  });
});

describe('IncidentDialogs without a public address', () => {
  it('says the form is not set up instead of opening a URL Teams cannot reach', async () => {
    const sessions = new DialogSessions({ store: new MemoryStore(), clock: systemClock, logger: silentLogger });
    const notUsed = () => Promise.reject(new Error('not used'));
    const dialogs = new IncidentDialogs({
      incidents: { formOptions: notUsed, submitForm: notUsed },
      countSolved: notUsed,
      sessions,
      publicBaseUrl: () => undefined,
      logger: silentLogger,
    });
    const res = await dialogs.fetch(demoUser('alex'), { id: 'a:1', kind: 'personal' }, { data: { dialog: 'incident' } });
    expect(res.task).to.deep.include({ type: 'message' });
    expect(String(res.task?.value)).to.match(/not set up/);
  });
});

describe('config: PUBLIC_BASE_URL', () => {
  it('is optional, and empty means unset', () => {
    expect(loadConfig({}).PUBLIC_BASE_URL).to.equal(undefined);
    expect(loadConfig({ PUBLIC_BASE_URL: '' }).PUBLIC_BASE_URL).to.equal(undefined);
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://bot.contoso.com' }).PUBLIC_BASE_URL).to.equal('https://bot.contoso.com');
  });
  it('must be a URL, and https:// outside local mode', () => {
    expect(() => loadConfig({ PUBLIC_BASE_URL: 'bot.contoso.com' })).to.throw(ConfigError, /PUBLIC_BASE_URL/);
    expect(() =>
      loadConfig({ MicrosoftAppId: 'abc', MicrosoftAppPassword: 'x', PUBLIC_BASE_URL: 'http://bot.contoso.com' }),
    ).to.throw(ConfigError, /https/);
  });
});

describe('intents: the incident form', () => {
  for (const text of ['incident form', 'Open the incident form', 'incident dialog', 'open an incident form.'])
    it(`reads “${text}” as the incident form`, () => {
      expect(recognize(text).kind).to.equal('incidentForm');
    });
  it('leaves “submit incident” to the card flow', () => {
    expect(recognize('submit incident').kind).to.equal('newIncident');
  });
});

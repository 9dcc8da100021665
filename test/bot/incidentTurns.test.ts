import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { PLAN_COLLECTIONS } from '../../src/plans/planService.js';
import { COLLECTIONS } from '../../src/services/collections.js';
import { INCIDENT_COLLECTIONS } from '../../src/services/incidentService.js';
import { type Store, StoreUnavailableError } from '../../src/store/store.js';
import { ManualClock } from '../../src/time.js';
import { type FileServer, SAMPLE, startFileServer } from '../attachments/fileServer.js';
import { demoUser } from '../helpers/fixtures.js';
import {
  actionData,
  ALEX,
  type BotUnderTest,
  cardOf,
  cardText,
  type Connector,
  type Conv,
  inputValues,
  invoke,
  message,
  personal,
  removeDir,
  startBot,
  startConnector,
  type Who,
} from '../helpers/botHarness.js';

// Submit an incident turn by turn, over real HTTP against the real embedded store, with a local
// connector (the desk card, the Teams profile) and a local file server (downloadUrl, contentUrl).

const FILE_INFO = 'application/vnd.microsoft.teams.file.download.info';
const INDIVIDUAL = 'login:contoso:incident-alex-1'; // Alex's one purchased incident (limited: 1)
const UNIFIED = 'contract:UNI-4400123'; // unlimited, Unified Advanced

const described = {
  inEnvironment: 'yes',
  environmentId: 'contoso-uat',
  title: 'Vendor invoice posting fails',
  details: 'Posting a vendor invoice journal stops with an error. 1. Accounts payable > Invoice journal 2. Post.',
  errorMessage: '',
};

describe('submit an incident over HTTP', () => {
  let connector: Connector;
  let files: FileServer;
  let bot: BotUnderTest;
  const clock = new ManualClock(new Date('2026-11-21T14:00:00Z')); // 9:00 AM in New York

  before(async () => {
    connector = await startConnector();
    files = await startFileServer();
  });
  after(async () => {
    await connector.stop();
    await files.stop();
  });
  beforeEach(async () => {
    clock.set('2026-11-21T14:00:00Z');
    connector.calls.length = 0;
    bot = await startBot({ clock });
  });
  afterEach(async () => {
    await bot.stop();
    removeDir(bot.dataDir);
  });

  async function say(who: Who, conv: Conv, text: string) {
    const res = await bot.post(message(connector.url, who, conv, text));
    expect(res.status).to.equal(200);
    return cardOf(res.body);
  }
  async function press(who: Who, conv: Conv, card: any, verb: string, inputs: Record<string, string> = {}) {
    const res = await bot.post(invoke(connector.url, who, conv, verb, { ...inputValues(card), ...inputs, ...actionData(card, verb) }));
    expect(res.status).to.equal(200);
    expect(res.body.statusCode).to.equal(200);
    return cardOf(res.body);
  }
  /** Sends files as Teams does in personal chat: file download info, or an inline image. */
  async function send(who: Who, conv: Conv, attachments: object[]) {
    const activity = { ...message(connector.url, who, conv, ''), attachments: [{ contentType: 'text/html', content: '<p></p>' }, ...attachments] };
    const res = await bot.post(activity);
    expect(res.status).to.equal(200);
    return cardOf(res.body);
  }
  const teamsFile = (name: string, url: string) => ({ contentType: FILE_INFO, name, content: { downloadUrl: url, uniqueId: name, fileType: name.split('.').pop() } });
  const inlineImage = (url: string) => ({ contentType: 'image/png', contentUrl: url });

  /** The titles of a choice set's choices. */
  const choices = (card: any, id: string): string[] => {
    let found: any;
    const walk = (n: any) => {
      if (found || !n || typeof n !== 'object') return;
      if (Array.isArray(n)) return n.forEach(walk);
      if (n.type === 'Input.ChoiceSet' && n.id === id) found = n;
      Object.values(n).forEach(walk);
    };
    walk(card);
    return (found?.choices ?? []).map((c: any) => c.title);
  };
  /** The knowledge-base entries of the "Possible issue solutions" on a card, best first. */
  const suggestions = (card: any): string[] => {
    const out: string[] = [];
    const walk = (n: any) => {
      if (!n || typeof n !== 'object') return;
      if (Array.isArray(n)) return n.forEach(walk);
      if (n.type === 'Action.Execute' && n.verb === 'incident.solved') out.push(n.data.issueId);
      Object.values(n).forEach(walk);
    };
    walk(card);
    return out;
  };

  /** From "submit incident" to the screenshots card, in Contoso F&O, Finance / Accounts payable. */
  async function toScreenshots(conv: Conv, who: Who = ALEX, inputs: Record<string, string> = {}) {
    let card = await say(who, conv, 'submit incident');
    card = await press(who, conv, card, 'incident.project', { projectId: 'contoso-fo' });
    card = await press(who, conv, card, 'incident.category', { category: 'finance' });
    card = await press(who, conv, card, 'incident.area', { area: 'accounts-payable' });
    return press(who, conv, card, 'incident.describe', { ...described, ...inputs });
  }
  async function toContract(conv: Conv) {
    let card = await toScreenshots(conv);
    card = await press(ALEX, conv, card, 'incident.screenshots');
    return press(ALEX, conv, card, 'incident.contact', { phone: '+1 425 555 0100' });
  }

  it('files an incident end to end: project, category, area, describe, contact, plan and severity, done', async () => {
    const conv = personal();
    let card = await say(ALEX, conv, 'submit incident');
    let text = cardText(card);
    expect(text).to.include('Submit an incident');
    expect(choices(card, 'projectId')).to.deep.equal(['Contoso Finance and Operations (Contoso Ltd)', 'Contoso AX 2012 R3 (on-premises) (Contoso Ltd)']);
    card = await press(ALEX, conv, card, 'incident.project', { projectId: 'contoso-fo' });
    expect(cardText(card)).to.include('issue category');
    expect(suggestions(card)).to.deep.equal([]); // nothing to suggest before the category
    card = await press(ALEX, conv, card, 'incident.category', { category: 'finance' });
    expect(choices(card, 'area')).to.include.members(['General ledger', 'Accounts payable', 'Fixed assets', 'Tax']);
    card = await press(ALEX, conv, card, 'incident.area', { area: 'accounts-payable' });
    text = cardText(card);
    expect(text).to.include('Describe your issue');
    expect(text).to.include('Possible issue solutions');
    card = await press(ALEX, conv, card, 'incident.describe', { ...described, errorMessage: 'The sales tax transactions do not balance.' });
    text = cardText(card);
    expect(text).to.include('Screenshots and files');
    expect(text).to.include('Send screenshots or log files to me here');
    expect(text).to.include('(Continue without screenshots)');
    card = await press(ALEX, conv, card, 'incident.screenshots');
    text = cardText(card);
    expect(text).to.include('[Name=Alex Wilber]');
    expect(text).to.include('[E-mail=alexw@example.com]'); // from the Teams profile
    card = await press(ALEX, conv, card, 'incident.contact', { phone: '+1 425 555 0100' });
    text = cardText(card);
    expect(text).to.include('Support contract and severity');
    expect(choices(card, 'contractRef')).to.include.members(['Individual incident: 1 of 1 incident left', 'Unified Advanced: unlimited incidents']);
    expect(choices(card, 'severity')[0]).to.match(/^A: Critical: Critical business impact/);
    card = await press(ALEX, conv, card, 'incident.submit', { contractRef: INDIVIDUAL, severity: 'B' });
    text = cardText(card);
    expect(text).to.include('Incident submitted: INC-100001');
    expect(text).to.include('responds by **11:00 AM EST** (2 hours, 24x7)'); // premier project, severity B
    expect(text).to.include('You will be told here who takes it');
    expect(text).to.include('One incident was used from Individual incident: 0 left.');
    expect(text).to.include('Severity: B: Moderate');
    expect(text).to.include('Category: Finance');
    expect(text).to.include('Area: Accounts payable');

    const t = (await bot.running.store.get<any>(COLLECTIONS.tickets, 'INC-100001'))!.value;
    expect(t).to.include({ kind: 'incident', severity: 'B', projectId: 'contoso-fo', environmentId: 'contoso-uat', errorMessage: 'The sales tax transactions do not balance.' });
    expect(t.sla).to.include({ kind: 'response', dueAt: '2026-11-21T16:00:00.000Z', target: '2 hours, 24x7' });
    expect(t.category).to.deep.equal({ id: 'finance', name: 'Finance' });
    expect(t.area).to.deep.equal({ id: 'accounts-payable', name: 'Accounts payable' });
    expect(t.contract).to.deep.equal({ ref: INDIVIDUAL, name: 'Individual incident' });
    expect(t.queue).to.equal('fo-support');

    // The desk card, posted in the same write as the ticket
    await bot.running.outbox.idle();
    const desk = connector.calls.filter((c) => c.method === 'POST' && decodeURIComponent(c.path).startsWith('/v3/conversations/channel-support-desk-id/activities'));
    expect(desk).to.have.length(1);
    const deskText = cardText(desk[0]!.body.attachments[0].content);
    expect(deskText).to.include('INC-100001: Vendor invoice posting fails');
    expect(deskText).to.include('Type: Support incident');
    expect(deskText).to.include('Category: Finance');
    expect(deskText).to.include('Area: Accounts payable');
    expect(deskText).to.include('Error message: The sales tax transactions do not balance.');
    expect(deskText).to.include('First response due by 11:00 AM EST (2 hours, 24x7)');
  });

  it('counts the response target in business hours for a business-hours plan and severity', async () => {
    const conv = personal();
    const card = await toContract(conv);
    // Subscription, severity C: 8 business hours; Saturday 6:00 AM in Los Angeles -> Monday 5:00 PM
    await press(ALEX, conv, card, 'incident.submit', { contractRef: 'tenant:contoso:d365-subscription', severity: 'C' });
    const t = (await bot.running.store.get<any>(COLLECTIONS.tickets, 'INC-100001'))!.value;
    expect(t.sla).to.include({ dueAt: '2026-11-24T01:00:00.000Z', target: '8 hours, business hours' });
  });

  it('changes the suggestions as the description grows, and Refresh keeps what was typed', async () => {
    const conv = personal();
    let card = await say(ALEX, conv, 'submit incident');
    card = await press(ALEX, conv, card, 'incident.project', { projectId: 'contoso-fo' });
    card = await press(ALEX, conv, card, 'incident.category', { category: 'platform' });
    card = await press(ALEX, conv, card, 'incident.area', { area: 'batch-jobs' });
    const atArea = suggestions(card);
    expect(atArea).to.have.length(10);

    // Refresh with a title only: the suggestions follow it, nothing is checked, the title stays
    card = await press(ALEX, conv, card, 'incident.refresh', { title: 'Batch job stuck in executing' });
    const withTitle = suggestions(card);
    expect(withTitle).to.not.deep.equal(atArea);
    expect(cardText(card)).to.include('[Title=Batch job stuck in executing]');
    expect(cardText(card)).to.not.include('Enter a short title');

    // And the error message moves them again; the details typed are kept as typed
    card = await press(ALEX, conv, card, 'incident.refresh', {
      details: 'Since this morning the job never finishes.',
      errorMessage: 'Transaction (Process ID 62) was deadlocked on lock resources with another process',
    });
    const withError = suggestions(card);
    expect(withError).to.not.deep.equal(withTitle);
    expect(cardText(card)).to.include('[Details and steps to reproduce=Since this morning the job never finishes.]');
    const top = bot.running.search.byId(withError[0]!)!;
    expect(`${top.title} ${top.symptoms}`.toLowerCase()).to.include('deadlock');
  });

  it('closes the draft when a suggestion solved the problem, and counts it once', async () => {
    const conv = personal();
    const card = await toScreenshots(conv);
    const issueId = suggestions(card)[0]!;
    const solve = invoke(connector.url, ALEX, conv, 'incident.solved', { draftId: actionData(card, 'incident.solved').draftId, rev: actionData(card, 'incident.solved').rev, issueId });
    const first = cardOf((await bot.post(solve)).body);
    let text = cardText(first);
    expect(text).to.include('Glad that solved it');
    expect(text).to.include('nothing was sent to Microsoft Support');
    expect(text).to.include('This article has now solved 1 problem reported here.');
    const replay = cardOf((await bot.post(solve)).body);
    expect(cardText(replay)).to.include('solved 1 problem');
    expect((await bot.running.store.get<any>(INCIDENT_COLLECTIONS.solved, issueId))!.value.count).to.equal(1);

    // Another draft solved by the same entry counts again
    const other = personal();
    const card2 = await toScreenshots(other);
    const again = await bot.post(invoke(connector.url, ALEX, other, 'incident.solved', { ...actionData(card2, 'incident.solved'), issueId }));
    text = cardText(cardOf(again.body));
    expect(text).to.include('This article has now solved 2 problems reported here.');
    expect(await bot.running.store.count(COLLECTIONS.tickets)).to.equal(0);
  });

  it('takes screenshots and files sent in personal chat, refusing each bad one with the reason', async () => {
    const conv = personal();
    const card = await toScreenshots(conv);
    const draftId = actionData(card, 'incident.screenshots').draftId as string;

    let reply = await send(ALEX, conv, [
      teamsFile('posting-error.png', files.serve('/a.png', SAMPLE.png)),
      inlineImage(files.serve('/inline.png', Buffer.concat([SAMPLE.png, Buffer.from('inline')]))),
      teamsFile('setup.exe', files.serve('/setup.exe', SAMPLE.exe)),
      teamsFile('huge.log', files.serve('/huge.log', Buffer.alloc(11 * 1024 * 1024, 0x61))),
      teamsFile('fake.png', files.serve('/fake.png', SAMPLE.exe)),
    ]);
    let text = cardText(reply);
    expect(text).to.include('✔ posting-error.png: added');
    expect(text).to.include('✔ pasted image.png: added');
    expect(text).to.include(".exe files can't be attached");
    expect(text).to.include('✖ huge.log: too large: at most 10.0 MB a file.');
    expect(text).to.include("✖ fake.png: its content isn't a PNG image");
    expect(text).to.include('Attached (2 of 5)');

    // The same file again is not a second attachment; then up to five, and the sixth is refused
    reply = await send(ALEX, conv, [
      teamsFile('posting-error.png', files.serve('/a.png', SAMPLE.png)),
      teamsFile('trace.log', files.serve('/trace.log', SAMPLE.log)),
      teamsFile('report.pdf', files.serve('/report.pdf', SAMPLE.pdf)),
      teamsFile('logs.zip', files.serve('/logs.zip', SAMPLE.zip)),
      teamsFile('photo.jpg', files.serve('/photo.jpg', SAMPLE.jpeg)),
    ]);
    text = cardText(reply);
    expect(text).to.include('✖ posting-error.png: already attached.');
    expect(text).to.include('✔ logs.zip: added');
    expect(text).to.include('✖ photo.jpg: too many files: an incident takes at most 5');
    expect(text).to.include('Attached (5 of 5)');

    // Stored on disk under the draft, with a metadata document each
    const dir = path.join(bot.dataDir, 'attachments', draftId);
    expect(readdirSync(dir).filter((f) => !f.startsWith('.'))).to.have.length(5);
    expect(await bot.running.store.count(INCIDENT_COLLECTIONS.attachments)).to.equal(5);

    // Continue from the files card, submit: the ticket and the desk card name the files
    let next = await press(ALEX, conv, reply, 'incident.screenshots');
    expect(cardText(next)).to.include('Primary contact');
    next = await press(ALEX, conv, next, 'incident.contact', { phone: '+1 425 555 0100' });
    expect(cardText(next)).to.include('5 files attached: posting-error.png, pasted image.png, trace.log, report.pdf, logs.zip');
    next = await press(ALEX, conv, next, 'incident.submit', { contractRef: UNIFIED, severity: 'C' });
    expect(cardText(next)).to.include('Attachments: posting-error.png, pasted image.png, trace.log, report.pdf, logs.zip');
    const t = (await bot.running.store.get<any>(COLLECTIONS.tickets, 'INC-100001'))!.value;
    expect(t.attachments.map((a: any) => a.name)).to.deep.equal(['posting-error.png', 'pasted image.png', 'trace.log', 'report.pdf', 'logs.zip']);
    await bot.running.outbox.idle();
    const deskPost = connector.calls.find((c) => c.method === 'POST' && c.path.includes('channel-support-desk-id'));
    expect(cardText(deskPost!.body.attachments[0].content)).to.include('Attachments: posting-error.png, pasted image.png');

    // Files after the draft is submitted go nowhere
    const late = cardText(await send(ALEX, conv, [teamsFile('late.png', files.serve('/late.png', SAMPLE.png))]));
    expect(late).to.include('No incident is waiting for files');
  });

  it('explains in a channel that files go to personal chat, and takes them there for the channel draft', async () => {
    const channel: Conv = { id: '19:contoso-fo@thread.tacv2;messageid=1', conversationType: 'channel' };
    const card = await toScreenshots(channel);
    const text = cardText(card);
    expect(text).to.include('Files can be attached only in a personal chat with me');
    expect(text).to.include('(Continue in personal chat)');
    const link = JSON.stringify(card).match(/https:\/\/teams\.microsoft\.com\/l\/chat\/0\/0\?users=[^"]+/)![0];
    expect(decodeURIComponent(link)).to.equal('https://teams.microsoft.com/l/chat/0/0?users=28:bot');

    const inChannel = cardText(await send(ALEX, channel, [teamsFile('a.png', files.serve('/c.png', SAMPLE.png))]));
    expect(inChannel).to.include('Teams gives me files only in a personal chat');

    const chat = personal();
    const reply = await send(ALEX, chat, [teamsFile('a.png', files.serve('/c.png', SAMPLE.png))]);
    expect(cardText(reply)).to.include('✔ a.png: added');
    expect(cardText(reply)).to.include('Files for “Vendor invoice posting fails”');
    // Carry on in personal chat; the incident still reports back to the channel it started in
    let next = await press(ALEX, chat, reply, 'incident.screenshots');
    next = await press(ALEX, chat, next, 'incident.contact', { phone: '+1 425 555 0100' });
    await press(ALEX, chat, next, 'incident.submit', { contractRef: UNIFIED, severity: 'B' });
    const t = (await bot.running.store.get<any>(COLLECTIONS.tickets, 'INC-100001'))!.value;
    expect(t.origin.conversationId).to.equal(channel.id);
    expect(t.attachments.map((a: any) => a.name)).to.deep.equal(['a.png']);

    // Skipping works in the channel too
    const skip = await press(ALEX, channel, await toScreenshots(channel), 'incident.screenshots');
    expect(cardText(skip)).to.include('Primary contact');
  });

  it('consumes one incident from a limited plan for a double click, a replay and two clicks at once', async () => {
    const conv = personal();
    const card = await toContract(conv);
    const submit = invoke(connector.url, ALEX, conv, 'incident.submit', { ...inputValues(card), contractRef: INDIVIDUAL, severity: 'B', ...actionData(card, 'incident.submit') });
    const [a, b] = await Promise.all([bot.post(submit), bot.post({ ...submit, id: 'another-id' })]);
    const c = await bot.post(submit);
    for (const r of [a, b, c]) expect(cardText(cardOf(r.body))).to.include('Incident submitted: INC-100001');
    expect(await bot.running.store.count(COLLECTIONS.tickets)).to.equal(1);
    const usage = await bot.running.store.get<any>(PLAN_COLLECTIONS.usage, INDIVIDUAL);
    expect(usage!.value.used).to.equal(1);
  });

  it('shows phone support and keeps everything when the incident cannot be saved, and uses the plan once', async () => {
    // Writes of a ticket fail (the plan's incident is taken first, then the ticket cannot be saved)
    let failTickets = true;
    await bot.stop();
    removeDir(bot.dataDir);
    bot = await startBot({
      clock,
      wrapStore: (inner: Store): Store => ({
        get: (c, id) => inner.get(c, id),
        find: (c, i, k) => inner.find(c, i, k),
        count: (c) => inner.count(c),
        close: () => inner.close(),
        write: (ops) =>
          failTickets && ops.some((o) => o.collection === COLLECTIONS.tickets)
            ? Promise.reject(new StoreUnavailableError('injected'))
            : inner.write(ops),
      }),
    });
    const conv = personal();
    const card = await toContract(conv);
    const failed = await press(ALEX, conv, card, 'incident.submit', { contractRef: INDIVIDUAL, severity: 'B' });
    const text = cardText(failed);
    expect(text).to.include("We couldn't save your incident just now");
    expect(text).to.include('United States and Canada: +1 (800) 555-0199');
    expect(text).to.include('[Severity=B]');
    expect(await bot.running.store.count(COLLECTIONS.tickets)).to.equal(0);
    failTickets = false;
    const done = await press(ALEX, conv, failed, 'incident.submit');
    expect(cardText(done)).to.include('Incident submitted: INC-100001');
    expect((await bot.running.store.get<any>(PLAN_COLLECTIONS.usage, INDIVIDUAL))!.value.used).to.equal(1);
  });

  it('refuses a plan with no incidents left, keeping everything, and submits with another', async () => {
    await press(ALEX, personal(), await toContract(personal()), 'incident.submit', { contractRef: INDIVIDUAL, severity: 'B' });
    const conv = personal();
    let card = await toContract(conv);
    expect(choices(card, 'contractRef')).to.include('Individual incident: 0 of 1 incident left');
    card = await press(ALEX, conv, card, 'incident.submit', { contractRef: INDIVIDUAL, severity: 'C' });
    const text = cardText(card);
    expect(text).to.include('Individual incident has no incidents left (1 of 1 used). Choose another support plan for this incident.');
    expect(text).to.include('[Severity=C]');
    expect(await bot.running.store.count(COLLECTIONS.tickets)).to.equal(1);
    card = await press(ALEX, conv, card, 'incident.submit', { contractRef: UNIFIED });
    expect(cardText(card)).to.include('Incident submitted: INC-100002');
  });

  it('adds a Software Assurance plan from the contract card and chooses it', async () => {
    const conv = personal();
    let card = await say(ALEX, conv, 'submit incident');
    card = await press(ALEX, conv, card, 'incident.project', { projectId: 'contoso-ax2012' });
    card = await press(ALEX, conv, card, 'incident.category', { category: 'finance' });
    card = await press(ALEX, conv, card, 'incident.area', { area: 'general-ledger' });
    card = await press(ALEX, conv, card, 'incident.describe', { ...described, environmentId: 'ax2012-prod' });
    card = await press(ALEX, conv, card, 'incident.screenshots');
    card = await press(ALEX, conv, card, 'incident.contact', { phone: '+1 425 555 0100' });
    card = await press(ALEX, conv, card, 'incident.addSa', { severity: 'C', subscriptionNumber: 'bad', contactEmail: 'sa@example.com' });
    expect(cardText(card)).to.include('The Software Assurance plan was not added');
    expect(cardText(card)).to.include('[Severity=C]');
    card = await press(ALEX, conv, card, 'incident.addSa', { subscriptionNumber: 'V7654321', contactEmail: 'sa@example.com' });
    const text = cardText(card);
    expect(text).to.include('Software Assurance plan V7654321 is added and chosen for this incident.');
    expect(text).to.include('[Support plan=sa:V7654321]');
    card = await press(ALEX, conv, card, 'incident.submit');
    expect(cardText(card)).to.include('Incident submitted: INC-100001');
  });

  it('explains what ties a plan to the project when none can be used', async () => {
    const owner: Who = { id: 'fabrikam-owner', name: 'Fabrikam Owner', aadObjectId: '11111111-0000-0000-0000-000000000001' };
    const tenant = '11111111-1111-1111-1111-111111111111';
    const conv = personal();
    const inFabrikam = (a: any) => ({ ...a, conversation: { ...a.conversation, tenantId: tenant }, channelData: { tenant: { id: tenant } } });
    const post = async (a: any) => cardOf((await bot.post(inFabrikam(a))).body);
    let card = await post(message(connector.url, owner, conv, 'submit incident'));
    const step = async (verb: string, inputs: Record<string, string> = {}) =>
      (card = await post(invoke(connector.url, owner, conv, verb, { ...inputValues(card), ...inputs, ...actionData(card, verb) })));
    await step('incident.category', { category: 'platform' });
    await step('incident.area', { area: 'performance' });
    await step('incident.describe', { inEnvironment: 'no', title: 'Forms are slow', details: 'Every form takes ten seconds to open since Monday.' });
    await step('incident.screenshots');
    await step('incident.contact', { email: 'owner@fabrikam.example', phone: '+44 20 7946 0001' });
    let text = cardText(card);
    expect(text).to.include('No support plan can be used for an incident in Fabrikam Finance.');
    expect(text).to.include('Contract ID / access ID: Unified, Premier and Advanced support for partners need a contract ID and access ID');
    expect(text).to.include('(Add a Software Assurance plan)');
    await step('incident.submit', { severity: 'C' });
    text = cardText(card);
    expect(text).to.include('No support plan can be used for this project yet');
    expect(await bot.running.store.count(COLLECTIONS.tickets)).to.equal(0);
  });

  it('leads "My situation isn\'t listed" to an incident prefilled with the project, environment and what was typed', async () => {
    const conv = personal();
    let card = await say(ALEX, conv, 'report outage');
    card = await press(ALEX, conv, card, 'outage.confirm', { confirmed: 'true', scenarioId: 'process-blocked' });
    const confirm = await press(ALEX, conv, card, 'outage.back', { title: 'Some users cannot post', details: 'Only the AP team sees a posting error since 9:00.' });
    const notListed = invoke(connector.url, ALEX, conv, 'outage.notListed', { ...inputValues(confirm), ...actionData(confirm, 'outage.notListed') });
    card = cardOf((await bot.post(notListed)).body);
    let text = cardText(card);
    expect(text).to.include("Your situation isn't one of the production outage scenarios");
    expect(text).to.include('Project: Contoso Finance and Operations');
    expect(choices(card, 'category')).to.include('Finance');
    // A replay of the click shows the same incident draft, not a second one
    const replay = cardOf((await bot.post(notListed)).body);
    expect(actionData(replay, 'incident.category').draftId).to.equal(actionData(card, 'incident.category').draftId);
    card = await press(ALEX, conv, card, 'incident.category', { category: 'finance' });
    card = await press(ALEX, conv, card, 'incident.area', { area: 'accounts-payable' });
    text = cardText(card);
    expect(text).to.include('[Did the issue occur in an environment?=yes]');
    expect(text).to.include('[Environment (if yes)=contoso-prod]');
    expect(text).to.include('[Title=Some users cannot post]');
    expect(text).to.include('[Details and steps to reproduce=Only the AP team sees a posting error since 9:00.]');
    card = await press(ALEX, conv, card, 'incident.describe');
    card = await press(ALEX, conv, card, 'incident.screenshots');
    expect(cardText(card)).to.include('[E-mail=alexw@example.com]'); // the contact of the outage report
  });

  it('resumes a draft where it stopped when "submit incident" is typed again', async () => {
    const conv = personal();
    await toScreenshots(conv);
    const card = await say(ALEX, conv, 'new incident');
    expect(cardText(card)).to.include('Continuing the incident you started at 9:00 AM EST');
    expect(cardText(card)).to.include('Screenshots and files');
  });

  it('submits the dialog form with the same checks and creation, once per idempotency key', async () => {
    const svc = bot.running.incidentService;
    const alex = demoUser('alex');
    const conv = { id: 'dialog', kind: 'personal' as const };
    const form = {
      projectId: 'contoso-fo',
      environmentId: 'contoso-prod',
      category: 'platform',
      area: 'batch-jobs',
      title: 'Batch jobs stay in Waiting',
      details: 'No batch job has started since 02:00; the batch server shows as running.',
      contact: { name: 'Alex Wilber', email: 'alexw@example.com', phone: '+1 425 555 0100' },
      contractRef: UNIFIED,
      severity: 'A',
      confirmCritical: true,
      confirm24x7: 'true',
    };
    const bad = await svc.submitForm(alex, conv, { ...form, area: 'general-ledger', severity: 'A', confirm24x7: false, contact: { ...form.contact, email: 'nope' } }, 'k1');
    expect(bad.ok).to.equal(false);
    expect(Object.keys((bad as any).errors).sort()).to.deep.equal(['area', 'confirm24x7', 'contact.email']);
    const malformed = await svc.submitForm(alex, conv, { ...form, severity: 'Z', title: 42 }, 'k1');
    expect((malformed as any).errors).to.have.keys(['severity', 'title']);

    const ok = await svc.submitForm(alex, conv, form, 'k1');
    expect(ok).to.deep.include({ ok: true, ticketId: 'INC-100001' });
    expect((ok as any).view.card).to.equal('incidentDone');
    const again = await svc.submitForm(alex, conv, form, 'k1');
    expect(again).to.deep.include({ ok: true, ticketId: 'INC-100001' });
    expect(await bot.running.store.count(COLLECTIONS.tickets)).to.equal(1);
    const t = (await bot.running.store.get<any>(COLLECTIONS.tickets, 'INC-100001'))!.value;
    expect(t).to.include({ severity: 'A', environmentId: 'contoso-prod' });
    expect(t.sla.target).to.equal('1 hour, 24x7');

    const options = await svc.formOptions(alex);
    expect(options.ok).to.equal(true);
    const fo = (options as any).options.projects.find((p: any) => p.id === 'contoso-fo');
    expect(fo.contracts.map((c: any) => c.ref)).to.include(UNIFIED);
    expect(fo.environments.map((e: any) => e.name)).to.deep.equal(['CONTOSO-PROD', 'CONTOSO-UAT']);
  });

  it('does not let someone else move a reporter’s draft', async () => {
    const conv: Conv = { id: '19:channel@thread.tacv2', conversationType: 'channel' };
    const card = await say(ALEX, conv, 'submit incident');
    const megan: Who = { id: 'user-id-1', name: 'Megan Bowen', aadObjectId: '00000000-0000-0000-0000-0000000000021' };
    const res = await bot.post(invoke(connector.url, megan, conv, 'incident.project', { projectId: 'contoso-fo', ...actionData(card, 'incident.project') }));
    expect(cardText(cardOf(res.body))).to.include('belongs to Alex Wilber');
    const mine = await press(ALEX, conv, card, 'incident.project', { projectId: 'contoso-fo' });
    expect(cardText(mine)).to.include('issue category');
  });
});

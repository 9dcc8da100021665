import { expect } from 'chai';
import type { Ticket } from '../../src/domain/ticket.js';
import { COLLECTIONS } from '../../src/services/collections.js';
import { ManualClock } from '../../src/time.js';
import {
  actionData,
  ALEX,
  type BotUnderTest,
  cardOf,
  cardText,
  type Connector,
  invoke,
  MEGAN,
  message,
  personal,
  removeDir,
  startBot,
  startConnector,
  type Who,
} from '../helpers/botHarness.js';
import { TENANT } from '../helpers/fixtures.js';

// "my incidents" and "incidents" over real HTTP. Incidents are written straight into the store, so
// these tests do not depend on the incident flow.

const FABRIKAM_TENANT = '11111111-1111-1111-1111-111111111111';
const FABRIKAM_OWNER: Who = { id: 'user-id-fab', name: 'Fabrikam Owner', aadObjectId: '11111111-0000-0000-0000-000000000001' };
const NOW = '2026-11-21T14:00:00Z'; // 9:00 AM in New York, where the harness's users are

interface IncidentSpec {
  seq: number;
  reporter: Who;
  projectId?: string;
  orgId?: string;
  tenantId?: string;
  minutesAgo?: number;
  kind?: Ticket['kind'];
  severity?: Ticket['severity'];
  status?: Ticket['status'];
  /** Minutes from now to the SLA deadline (negative: passed). */
  dueIn?: number;
  acknowledgedMet?: boolean;
  title?: string;
}

function ticket(s: IncidentSpec): Ticket {
  const now = Date.parse(NOW);
  const at = new Date(now - (s.minutesAgo ?? 1000 - s.seq) * 60_000).toISOString(); // a higher number is newer
  const dueAt = new Date(now + (s.dueIn ?? 120) * 60_000).toISOString();
  const kind = s.kind ?? 'incident';
  const id = `${kind === 'outage' ? 'OUT' : 'INC'}-${String(s.seq).padStart(6, '0')}`;
  const reporter = { aadObjectId: s.reporter.aadObjectId, name: s.reporter.name };
  return {
    id,
    rev: 0,
    kind,
    severity: s.severity ?? 'B',
    status: s.status ?? (s.acknowledgedMet === undefined ? 'submitted' : 'acknowledged'),
    queue: 'fo-support',
    ...(s.acknowledgedMet === undefined
      ? {}
      : { acknowledged: { at, by: { aadObjectId: 'desk', name: 'Patti Fernandez' }, minutes: s.acknowledgedMet ? 45 : 300, met: s.acknowledgedMet } }),
    sla: { kind: 'response', target: '2 hours, business hours', dueAt, warnAt: dueAt },
    deliveryProblems: [],
    orgId: s.orgId ?? 'contoso',
    tenantId: s.tenantId ?? TENANT,
    projectId: s.projectId ?? 'contoso-fo',
    projectName: s.projectId === 'fabrikam-fo' ? 'Fabrikam Finance' : 'Contoso Finance and Operations',
    environmentId: 'contoso-uat',
    environmentName: 'UAT',
    title: s.title ?? `Incident number ${s.seq}`,
    details: 'Steps to reproduce.',
    reporter,
    contact: { name: s.reporter.name, email: 'someone@example.com', phone: '+1 425 555 0100' },
    submittedAt: at,
    ackDueAt: dueAt,
    timeZone: 'America/Los_Angeles',
    origin: { conversationId: 'a:personal', conversationKind: 'personal' },
    draftId: `draft-${s.seq}`,
    timeline: [{ at, by: reporter, type: 'submitted', text: `Incident submitted (severity ${s.severity ?? 'B'}).` }],
  };
}

describe('incidents list over HTTP', () => {
  let connector: Connector;
  let bot: BotUnderTest;
  const clock = new ManualClock(new Date(NOW));

  beforeEach(async () => {
    connector = await startConnector();
    clock.set(NOW);
    bot = await startBot({ clock });
  });
  afterEach(async () => {
    await bot.stop();
    removeDir(bot.dataDir);
    await connector.stop();
  });

  const put = (...specs: IncidentSpec[]) =>
    bot.running.store.write(specs.map((s) => ({ op: 'put' as const, collection: COLLECTIONS.tickets, id: ticket(s).id, value: ticket(s) })));
  function as(who: Who, tenantId = TENANT) {
    const conv = personal();
    const stamp = (a: any) => ({ ...a, conversation: { ...a.conversation, tenantId }, channelData: { tenant: { id: tenantId } } });
    return {
      say: async (text: string) => cardOf((await bot.post(stamp(message(connector.url, who, conv, text)))).body),
      press: async (card: any, verb: string, data?: Record<string, unknown>) => {
        const res = await bot.post(stamp(invoke(connector.url, who, conv, verb, data ?? actionData(card, verb))));
        expect(res.status).to.equal(200);
        return cardOf(res.body);
      },
    };
  }
  /** Each incident on the card: its first line (number · severity · status) and the SLA line. */
  const rows = (card: any) =>
    (card.body as any[]).filter((b) => b.type === 'Container').map((c) => ({ line: c.items[0].text, title: c.items[1].text, sla: c.items[2].text, meta: c.items[3].text }));
  const ids = (card: any) => rows(card).map((r) => r.line.split(' · ')[0]);
  const viewButtons = (card: any) =>
    (card.body as any[]).filter((b) => b.type === 'Container').map((c) => c.items[4].actions[0]);

  it("lists the user's own incidents, newest first, with severity, status and SLA state", async () => {
    await put(
      { seq: 1, reporter: MEGAN, minutesAgo: 300, acknowledgedMet: true, title: 'Sales tax is rounded twice' },
      { seq: 2, reporter: MEGAN, minutesAgo: 200, acknowledgedMet: false, severity: 'C' },
      { seq: 3, reporter: MEGAN, minutesAgo: 100, dueIn: -15, severity: 'A' },
      { seq: 4, reporter: MEGAN, minutesAgo: 10, dueIn: 60 },
      { seq: 5, reporter: MEGAN, kind: 'outage', minutesAgo: 5 },
      { seq: 6, reporter: ALEX, minutesAgo: 1 },
    );
    const card = await as(MEGAN).say('my incidents');
    const text = cardText(card);
    expect(text).to.include('Your incidents');
    expect(ids(card)).to.deep.equal(['INC-000004', 'INC-000003', 'INC-000002', 'INC-000001']);
    const r = rows(card);
    expect(r[0]!.line).to.equal('INC-000004 · Severity B · Waiting for acknowledgement');
    expect(r[0]!.sla).to.equal('SLA due by 10:00 AM EST');
    expect(r[1]!.line).to.equal('INC-000003 · Severity A · Waiting for acknowledgement');
    expect(r[1]!.sla).to.equal('SLA overdue (was due by 8:45 AM EST)');
    expect(r[2]!.line).to.equal('INC-000002 · Severity C · Acknowledged, in progress');
    expect(r[2]!.sla).to.equal('SLA missed');
    expect(r[3]!.sla).to.equal('SLA met');
    expect(r[3]!.title).to.equal('Sales tax is rounded twice');
    expect(text).to.include('Page 1 of 1 · 4 incidents');
    expect(card.actions).to.deep.equal([]); // one page: no Next, no Previous
    // the outage stays under "my tickets", with the incidents
    const tickets = cardText(await as(MEGAN).say('my tickets'));
    expect(tickets).to.include('OUT-000005 · Outage');
    expect(tickets).to.include('INC-000004 · Incident');
  });

  it("shows a project owner the project's incidents under \"incidents\", and others their own with a note", async () => {
    await put(
      { seq: 1, reporter: MEGAN, projectId: 'contoso-fo' },
      { seq: 2, reporter: ALEX, projectId: 'contoso-fo' },
      // Alex owns contoso-europe-fo too, but it belongs to another organisation than his current one
      { seq: 3, reporter: MEGAN, projectId: 'contoso-europe-fo', orgId: 'contoso-europe' },
      { seq: 4, reporter: MEGAN, projectId: 'contoso-commerce-pilot' },
    );
    const alex = await as(ALEX).say('incidents');
    expect(ids(alex)).to.deep.equal(['INC-000002', 'INC-000001']);
    expect(cardText(alex)).to.include('Yours and those of Contoso Finance and Operations (Contoso Ltd), newest first.');
    expect(rows(alex)[1]!.meta).to.include('reported by Megan Bowen');
    // "my incidents" is his own only
    expect(ids(await as(ALEX).say('my incidents'))).to.deep.equal(['INC-000002']);

    const megan = await as(MEGAN).say('incidents');
    expect(ids(megan)).to.deep.equal(['INC-000004', 'INC-000003', 'INC-000001']);
    expect(cardText(megan)).to.include(
      "Your own incidents only: a project's incidents are listed for its project owners and organisation admins, and you are neither in Contoso Ltd.",
    );
  });

  it("never shows another tenant's incidents", async () => {
    await put(
      { seq: 1, reporter: ALEX, projectId: 'contoso-fo' },
      { seq: 2, reporter: FABRIKAM_OWNER, projectId: 'fabrikam-fo', orgId: 'fabrikam', tenantId: FABRIKAM_TENANT },
      // the same object id in another tenant is another person
      { seq: 3, reporter: ALEX, projectId: 'fabrikam-fo', orgId: 'fabrikam', tenantId: FABRIKAM_TENANT },
      // a ticket naming Alex's project but stamped with another tenant
      { seq: 4, reporter: MEGAN, projectId: 'contoso-fo', tenantId: FABRIKAM_TENANT },
    );
    expect(ids(await as(ALEX).say('my incidents'))).to.deep.equal(['INC-000001']);
    expect(ids(await as(ALEX).say('incidents'))).to.deep.equal(['INC-000001']);

    const fabrikam = as(FABRIKAM_OWNER, FABRIKAM_TENANT);
    const card = await fabrikam.say('incidents');
    expect(ids(card)).to.deep.equal(['INC-000003', 'INC-000002']);
    expect(cardText(card)).to.include('Fabrikam Finance (Fabrikam Inc)');
    const peek = await fabrikam.press(card, 'ticket.view', { ticketId: 'INC-000001' });
    expect(cardText(peek)).to.include("I can't find INC-000001");
  });

  it('pages through 25 incidents 10 at a time, replacing the card in place', async () => {
    await put(...Array.from({ length: 25 }, (_, i) => ({ seq: i + 1, reporter: ALEX })));
    const alex = as(ALEX);
    let card = await alex.say('my incidents');
    const expected = Array.from({ length: 25 }, (_, i) => `INC-${String(25 - i).padStart(6, '0')}`);
    expect(ids(card)).to.deep.equal(expected.slice(0, 10));
    expect(cardText(card)).to.include('Page 1 of 3 · 25 incidents');
    expect(card.actions.map((a: any) => a.title)).to.deep.equal(['Next']);
    expect(actionData(card, 'incidents.page')).to.deep.equal({ scope: 'mine', page: 2 });

    card = await alex.press(card, 'incidents.page');
    expect(ids(card)).to.deep.equal(expected.slice(10, 20));
    expect(cardText(card)).to.include('Page 2 of 3 · 25 incidents');
    expect(card.actions.map((a: any) => a.title)).to.deep.equal(['Previous', 'Next']);

    const next = card.actions.find((a: any) => a.title === 'Next');
    card = await alex.press(card, 'incidents.page', next.data);
    expect(ids(card)).to.deep.equal(expected.slice(20));
    expect(card.actions.map((a: any) => a.title)).to.deep.equal(['Previous']);

    card = await alex.press(card, 'incidents.page');
    expect(ids(card)).to.deep.equal(expected.slice(10, 20));

    // "incidents" pages the same way and keeps its scope
    const all = await alex.say('incidents');
    expect(actionData(all, 'incidents.page')).to.deep.equal({ scope: 'project', page: 2 });
    // a page past the end shows the last one; bad data changes nothing
    expect(ids(await alex.press(card, 'incidents.page', { scope: 'mine', page: 99 }))).to.deep.equal(expected.slice(20));
    const bad = await alex.press(card, 'incidents.page', { scope: 'everyone', page: 'two' });
    expect(cardText(bad)).to.include("That button didn't work");
  });

  it('shows the timeline from View', async () => {
    await put({ seq: 7, reporter: MEGAN, title: 'Workflow stops at the approval step' });
    const megan = as(MEGAN);
    const card = await megan.say('my incidents');
    const [view] = viewButtons(card);
    expect(view).to.deep.include({ type: 'Action.Execute', title: 'View', verb: 'ticket.view', data: { ticketId: 'INC-000007' } });
    const status = cardText(await megan.press(card, 'ticket.view'));
    expect(status).to.include('INC-000007: Workflow stops at the approval step');
    expect(status).to.include('Timeline');
    expect(status).to.include('Incident submitted (severity B).');
    expect(status).to.include('Type: Support incident');
  });

  it('says so when there are no incidents', async () => {
    const card = await as(MEGAN).say('my incidents');
    expect(cardText(card)).to.include('You have no support incidents.');
    expect(card.actions).to.deep.equal([]);
  });
});

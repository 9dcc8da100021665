import { expect } from 'chai';
import { ManualClock } from '../../src/time.js';
import { DEMO_USER_HEADER } from '../../src/web/webUser.js';
import { APP_ID, closedPortUrl, HOST, jwt, KID, type OpenIdServer, rsa, ssoClaims, startOpenIdServer } from '../auth/ssoFixtures.js';
import { type BotUnderTest, removeDir, startBot } from '../helpers/botHarness.js';
import { TENANT } from '../helpers/fixtures.js';
import { call } from './dialogFixtures.js';
import { SAMPLE } from '../attachments/fileServer.js';
import { FABRIKAM_TENANT, NOW, PEOPLE, putTickets, putTicketWithFiles, type TabTicketSpec } from './tabFixtures.js';

// The Incidents tab's page and data API over real HTTP: the bot as in production (src/index.ts) on
// port 0, in local mode (the demo user) and with an app id (Teams SSO tokens checked against a
// local OpenID metadata document and JWKS).

const NEW_YORK = '?tz=America/New_York';

/** Alex's world: his own tickets in every SLA state, his project's, and others he must not see. */
const WORLD: TabTicketSpec[] = [
  { seq: 1, reporter: PEOPLE.alex, minutesAgo: 600, acknowledgedMet: true, title: 'Sales tax is rounded twice' },
  { seq: 2, reporter: PEOPLE.alex, minutesAgo: 500, acknowledgedMet: false, severity: 'C', title: 'Vendor invoice workflow stuck' },
  { seq: 3, reporter: PEOPLE.alex, minutesAgo: 400, dueIn: -15, severity: 'A', title: 'MRP run fails' },
  {
    seq: 4,
    reporter: PEOPLE.alex,
    minutesAgo: 300,
    status: 'resolved',
    acknowledgedMet: true,
    title: 'Batch job stuck in Waiting',
    events: [
      { after: 12, by: PEOPLE.patti, type: 'acknowledged', text: 'Acknowledged by Patti Fernandez.' },
      { after: 40, by: PEOPLE.patti, type: 'update', text: 'The batch server was restarted.' },
      { after: 55, by: PEOPLE.patti, type: 'resolved', text: 'Resolved: the jobs run again.' },
    ],
  },
  { seq: 5, reporter: PEOPLE.alex, kind: 'outage', minutesAgo: 10, dueIn: 20, title: 'Nobody can sign in' },
  // a resolved outage is history: not listed
  { seq: 6, reporter: PEOPLE.alex, kind: 'outage', minutesAgo: 200, status: 'resolved', acknowledgedMet: true, title: 'Old outage' },
  // Megan's, in the project Alex owns: listed for him
  { seq: 7, reporter: PEOPLE.megan, minutesAgo: 100, title: 'Fixed asset depreciation wrong' },
  // Megan's, in a project Alex is not a member of: not his to see
  { seq: 8, reporter: PEOPLE.megan, projectId: 'contoso-commerce-pilot', minutesAgo: 50, title: 'POS sync fails' },
  // another tenant's, even with Alex's object id or project
  { seq: 9, reporter: PEOPLE.fabrikamOwner, projectId: 'fabrikam-fo', minutesAgo: 40, title: 'Fabrikam ledger' },
  { seq: 10, reporter: PEOPLE.alex, projectId: 'fabrikam-fo', minutesAgo: 30, title: 'Same oid, other tenant' },
  { seq: 11, reporter: PEOPLE.megan, projectId: 'contoso-fo', tenantId: FABRIKAM_TENANT, minutesAgo: 20, title: 'Stamped with another tenant' },
];
const ALEX_SEES = ['OUT-000005', 'INC-000007', 'INC-000004', 'INC-000003', 'INC-000002', 'INC-000001'];

const ids = (body: any) => (body.tickets as any[]).map((t) => t.id);

describe('Incidents tab over HTTP', function () {
  this.timeout(30_000);

  describe('in local mode', () => {
    let bot: BotUnderTest;
    const clock = new ManualClock(new Date(NOW));

    before(async () => {
      bot = await startBot({ clock });
      await putTickets(bot.running.store, ...WORLD);
    });
    after(async () => {
      await bot?.stop();
      if (bot) removeDir(bot.dataDir);
    });

    it('serves the page with a strict Content-Security-Policy and its bundled script', async () => {
      const page = await call(`${bot.url}/tab/incidents`);
      expect(page.status).to.equal(200);
      expect(page.headers.get('content-type')).to.equal('text/html; charset=utf-8');
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).to.include("script-src 'self'").and.include("connect-src 'self'");
      expect(csp).to.match(/frame-ancestors [^;]*https:\/\/teams\.microsoft\.com/);
      expect(page.text).to.include('src="../web/incidentsTab.js"');
      expect(page.text).to.not.match(/(src|href)="https?:/);
      expect(page.text).to.not.match(/\sstyle="/);
      const js = await call(`${bot.url}/web/incidentsTab.js`);
      expect(js.status).to.equal(200);
      expect(js.headers.get('content-type')).to.equal('text/javascript; charset=utf-8');
      expect(js.text).to.include('getAuthToken');
    });

    it("lists the demo user's incidents and open outages, newest first, with their SLA state", async () => {
      const res = await call(`${bot.url}/api/tab/tickets${NEW_YORK}`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      expect(res.body).to.include({ mode: 'local', total: ALEX_SEES.length, links: null });
      expect(res.body.user).to.deep.equal({ name: 'Alex Wilber' });
      expect(res.body.intro).to.equal('Yours and those of Contoso Finance and Operations (Contoso Ltd), newest first.');
      expect(ids(res.body)).to.deep.equal(ALEX_SEES);
      const byId = Object.fromEntries((res.body.tickets as any[]).map((t) => [t.id, t]));
      expect(byId['OUT-000005']).to.deep.include({ kind: 'outage', kindLabel: 'Outage', severity: 'A', statusLabel: 'Waiting for acknowledgement', title: 'Nobody can sign in' });
      expect(byId['OUT-000005'].sla).to.deep.include({ state: 'due', text: 'SLA due by 9:20 AM EST' });
      expect(byId['INC-000003'].sla).to.deep.include({ state: 'overdue', text: 'SLA overdue (was due by 8:45 AM EST)' });
      expect(byId['INC-000002'].sla).to.deep.include({ state: 'missed', text: 'SLA missed' });
      expect(byId['INC-000001'].sla).to.deep.include({ state: 'met', text: 'SLA met' });
      expect(byId['INC-000004']).to.deep.include({ statusLabel: 'Resolved' });
      expect(byId['INC-000007']).to.deep.include({ reportedBy: 'Megan Bowen', project: 'Contoso Finance and Operations' });
      expect(byId['INC-000001']).to.not.have.property('reportedBy');
      expect(byId['INC-000001'].submitted).to.equal('Fri, Nov 20, 2026, 11:00 PM EST');
    });

    it('shows times in the zone the page asks for, else in each ticket’s', async () => {
      const tokyo = await call(`${bot.url}/api/tab/tickets?tz=Asia/Tokyo`);
      expect(tokyo.body.tickets[0].sla.text).to.equal('SLA due by 11:20 PM GMT+9');
      const none = await call(`${bot.url}/api/tab/tickets?tz=Not/AZone`);
      expect(none.body.tickets[0].sla.text).to.equal('SLA due by 6:20 AM PST');
    });

    it('shows one ticket with its timeline', async () => {
      const res = await call(`${bot.url}/api/tab/tickets/inc-000004${NEW_YORK}`);
      expect(res.status).to.equal(200);
      const t = res.body.ticket;
      expect(t).to.deep.include({ id: 'INC-000004', title: 'Batch job stuck in Waiting', statusLabel: 'Resolved', slaTarget: 'First response: 4 hours, business hours' });
      expect(t.facts).to.deep.include({ title: 'Category', value: 'Platform › Batch jobs' });
      expect(t.timeline.map((e: any) => [e.when, e.who, e.text])).to.deep.equal([
        ['Sat, Nov 21, 2026, 4:00 AM EST', 'Alex Wilber', 'Incident submitted (severity B).'],
        ['Sat, Nov 21, 2026, 4:12 AM EST', 'Patti Fernandez', 'Acknowledged by Patti Fernandez.'],
        ['Sat, Nov 21, 2026, 4:40 AM EST', 'Patti Fernandez', 'The batch server was restarted.'],
        ['Sat, Nov 21, 2026, 4:55 AM EST', 'Patti Fernandez', 'Resolved: the jobs run again.'],
      ]);
    });

    it("links the ticket's files, each link working for this user and this ticket only", async () => {
      await putTicketWithFiles(bot, 12, [
        { name: 'posting error.png', contentType: 'image/png', bytes: SAMPLE.png },
        { name: 'report.pdf', contentType: 'application/pdf', bytes: SAMPLE.pdf },
      ], PEOPLE.alex);
      const res = await call(`${bot.url}/api/tab/tickets/INC-000012`);
      expect(res.status).to.equal(200);
      const files = res.body.ticket.files as any[];
      expect(files.map((f) => [f.name, f.about, f.opensInPlace, f.image])).to.deep.equal([
        ['posting error.png', 'PNG image, 72 bytes', true, true],
        ['report.pdf', 'PDF document, 18 bytes', false, false],
      ]);
      expect(files[0].url).to.match(/^\/dialogs\/attachments\/file\?session=[\w-]+&id=draft-12%3Apng$/);
      expect(files[0].downloadUrl).to.equal(`${files[0].url}&download=1`);
      const png = await fetch(`${bot.url}${files[0].url}`);
      expect(png.status).to.equal(200);
      expect(Buffer.from(await png.arrayBuffer()).equals(SAMPLE.png)).to.equal(true);
      // The session is for INC-000012 only
      const session = new URL(files[0].url, bot.url).searchParams.get('session');
      expect((await call(`${bot.url}/dialogs/attachments/file?session=${session}&id=draft-7%3Apng`)).status).to.equal(404);
      // A ticket without files has none
      expect((await call(`${bot.url}/api/tab/tickets/INC-000004`)).body.ticket.files).to.deep.equal([]);
    });

    it('answers 404 for a ticket the user may not see, whether or not it exists', async () => {
      for (const id of ['INC-000008', 'INC-000009', 'INC-000010', 'INC-000011', 'INC-999999', 'nonsense', '..%2F..%2Fetc'] as const) {
        const res = await call(`${bot.url}/api/tab/tickets/${id}`);
        expect(res.status, id).to.equal(404);
        expect(res.body.error).to.equal('not_found');
      }
    });

    it('acts for another directory member named by X-Demo-User, and refuses a stranger', async () => {
      const megan = await call(`${bot.url}/api/tab/tickets`, { headers: { [DEMO_USER_HEADER]: PEOPLE.megan.aadObjectId } });
      expect(megan.status).to.equal(200);
      expect(megan.body.intro).to.equal('Yours, newest first.');
      expect(ids(megan.body)).to.deep.equal(['INC-000008', 'INC-000007']);
      const stranger = await call(`${bot.url}/api/tab/tickets`, { headers: { [DEMO_USER_HEADER]: 'ffffffff-0000-0000-0000-000000000000' } });
      expect(stranger.status).to.equal(403);
    });
  });

  describe('with an app id (Teams SSO)', () => {
    const entra = rsa();
    const stranger = rsa();
    const clock = new ManualClock(new Date(NOW));
    let openId: OpenIdServer;
    let bot: BotUnderTest;

    const env = (metadataUrl: string) => ({
      MicrosoftAppId: APP_ID,
      MicrosoftAppPassword: 'x',
      PUBLIC_BASE_URL: `https://${HOST}`,
      TEAMS_SSO_OPENID_METADATA_URL: metadataUrl,
    });
    before(async () => {
      openId = await startOpenIdServer([{ kid: KID, publicKey: entra.publicKey }]);
      bot = await startBot({ clock, env: env(openId.metadataUrl) });
      await putTickets(bot.running.store, ...WORLD);
    });
    after(async () => {
      await bot?.stop();
      if (bot) removeDir(bot.dataDir);
      await openId?.stop();
    });

    const token = (who: { oid: string; tid: string }, extra: Record<string, unknown> = {}, key = entra.privateKey) =>
      jwt(ssoClaims(who, extra, Date.parse(NOW)), key);
    const ALEX = { oid: PEOPLE.alex.aadObjectId, tid: TENANT };
    const MEGAN = { oid: PEOPLE.megan.aadObjectId, tid: TENANT };
    const FABRIKAM = { oid: PEOPLE.fabrikamOwner.aadObjectId, tid: FABRIKAM_TENANT };
    const get = (path: string, bearer?: string, headers: Record<string, string> = {}) =>
      call(`${bot.url}${path}`, { headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...headers } });

    it('answers 401 without a token, and does not take X-Demo-User', async () => {
      const res = await get('/api/tab/tickets', undefined, { [DEMO_USER_HEADER]: PEOPLE.alex.aadObjectId });
      expect(res.status).to.equal(401);
      expect(res.body.error).to.equal('unauthorized');
      expect((await get('/api/tab/tickets/INC-000001')).status).to.equal(401);
    });

    it('answers 401, not 500, to a bad token', async () => {
      for (const bad of [token(ALEX, {}, stranger.privateKey), token(ALEX, { aud: 'someone-else' }), token(ALEX, { exp: Date.parse(NOW) / 1000 - 3600 }), 'garbage']) {
        const res = await get('/api/tab/tickets', bad);
        expect(res.status).to.equal(401);
        expect(res.body).to.deep.include({ error: 'unauthorized' });
        expect(JSON.stringify(res.body)).to.not.include(bad.slice(0, 20));
      }
    });

    it("lists the token's user's tickets, as in local mode", async () => {
      const res = await get(`/api/tab/tickets${NEW_YORK}`, token(ALEX));
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ mode: 'teams' });
      expect(res.body.user).to.deep.equal({ name: 'Alex Wilber' });
      expect(ids(res.body)).to.deep.equal(ALEX_SEES);
      expect(res.body.tickets[0].sla).to.deep.include({ state: 'due', text: 'SLA due by 9:20 AM EST' });
      // the buttons open the chat with the bot, the command typed in
      expect(res.body.links).to.deep.equal({
        reportOutage: `https://teams.microsoft.com/l/chat/0/0?users=28:${APP_ID}&message=report%20outage`,
        submitIncident: `https://teams.microsoft.com/l/chat/0/0?users=28:${APP_ID}&message=submit%20incident`,
      });
      const detail = await get('/api/tab/tickets/INC-000004', token(ALEX));
      expect(detail.status).to.equal(200);
      expect(detail.body.ticket.timeline).to.have.length(4);
    });

    it('accepts a v1 token for api://<host>/<app id>', async () => {
      const v1 = token(ALEX, { iss: `https://sts.windows.net/${TENANT}/`, aud: `api://${HOST}/${APP_ID}`, ver: '1.0' });
      expect(ids((await get('/api/tab/tickets', v1)).body)).to.deep.equal(ALEX_SEES);
    });

    it("never shows another tenant's tickets", async () => {
      const fabrikam = await get('/api/tab/tickets', token(FABRIKAM));
      expect(fabrikam.status).to.equal(200);
      expect(ids(fabrikam.body)).to.deep.equal(['INC-000010', 'INC-000009']); // its own tenant's only
      // Alex's object id with Fabrikam's tenant is someone else: none of Alex's Contoso tickets
      const lookalike = await get('/api/tab/tickets', token({ oid: PEOPLE.alex.aadObjectId, tid: FABRIKAM_TENANT }));
      expect(ids(lookalike.body)).to.deep.equal(['INC-000010']);
      for (const id of ALEX_SEES) expect((await get(`/api/tab/tickets/${id}`, token(FABRIKAM))).status, id).to.equal(404);
    });

    it('answers 404 for the detail of a ticket the user may not see', async () => {
      expect((await get('/api/tab/tickets/INC-000008', token(ALEX))).status).to.equal(404); // Megan's, not his project
      expect((await get('/api/tab/tickets/INC-000001', token(MEGAN))).status).to.equal(200); // a member of its project
      const meganList = await get('/api/tab/tickets', token(MEGAN));
      expect(ids(meganList.body)).to.deep.equal(['INC-000008', 'INC-000007']); // a prospect: her own only
    });

    it('lets the incident dialog’s API take the same token', async () => {
      expect((await get('/api/incidents/form')).status).to.equal(401);
      const form = await get('/api/incidents/form', token(ALEX));
      expect(form.status).to.equal(200);
      expect(form.body.options.contact.name).to.equal('Alex Wilber');
    });

    it('answers 503 when the signing keys cannot be fetched', async () => {
      const blind = await startBot({ clock, env: env(await closedPortUrl()) });
      try {
        const res = await call(`${blind.url}/api/tab/tickets`, { headers: { authorization: `Bearer ${token(ALEX)}` } });
        expect(res.status).to.equal(503);
        expect(res.body.error).to.equal('auth_unavailable');
      } finally {
        await blind.stop();
        removeDir(blind.dataDir);
      }
    });
  });
});

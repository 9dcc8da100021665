import { expect } from 'chai';
import type { Ticket } from '../../src/domain/ticket.js';
import { COLLECTIONS } from '../../src/services/collections.js';
import { INCIDENT_COLLECTIONS } from '../../src/services/incidentService.js';
import { DEMO_USER_HEADER } from '../../src/web/webUser.js';
import { type BotUnderTest, removeDir, startBot } from '../helpers/botHarness.js';
import { call, postJson, validForm } from './dialogFixtures.js';

// The incident dialog's page, bundle and API over real HTTP, against the bot started as in
// production (src/index.ts) on port 0 with its real store, the demo directory and the demo KB.

describe('incident dialog over HTTP (local mode)', () => {
  let bot: BotUnderTest;

  before(async () => {
    bot = await startBot();
  });
  after(async () => {
    await bot.stop();
    removeDir(bot.dataDir);
  });

  describe('the page and its assets', () => {
    it('serves the page as HTML with a strict Content-Security-Policy', async () => {
      const res = await call(`${bot.url}/dialogs/incident`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
      const csp = res.headers.get('content-security-policy') ?? '';
      for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "base-uri 'none'", "form-action 'none'"])
        expect(csp).to.include(directive);
      expect(csp).to.match(/frame-ancestors [^;]*https:\/\/teams\.microsoft\.com/);
      expect(csp).to.not.include('unsafe-inline');
      expect(csp).to.not.include('unsafe-eval');
      expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
      // Everything the page loads comes from this server; no inline script or style.
      expect(res.text).to.include('src="../web/incidentDialog.js"');
      expect(res.text).to.include('href="../web/style.css"');
      expect(res.text).to.not.match(/(src|href)="https?:/);
      expect(res.text).to.not.match(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(res.text).to.not.match(/\sstyle="/);
      // Accessible: every control has a label.
      for (const id of ['projectId', 'category', 'area', 'environmentId', 'title', 'details', 'errorMessage', 'contractRef'])
        expect(res.text).to.include(`<label for="${id}">`);
    });

    it('serves the bundled script and the style sheet with their content types', async () => {
      const js = await call(`${bot.url}/web/incidentDialog.js`);
      expect(js.status).to.equal(200);
      expect(js.headers.get('content-type')).to.equal('text/javascript; charset=utf-8');
      expect(js.headers.get('content-security-policy')).to.include("default-src 'none'");
      expect(js.text).to.include('dialog.url.submit');
      const css = await call(`${bot.url}/web/style.css`);
      expect(css.status).to.equal(200);
      expect(css.headers.get('content-type')).to.equal('text/css; charset=utf-8');
    });

    it('answers 304 when the browser has the current build', async () => {
      const first = await call(`${bot.url}/web/incidentDialog.js`);
      const etag = first.headers.get('etag') ?? '';
      expect(etag).to.match(/^".+"$/);
      const again = await call(`${bot.url}/web/incidentDialog.js`, { headers: { 'if-none-match': etag } });
      expect(again.status).to.equal(304);
      expect(again.text).to.equal('');
    });

    it('serves nothing else from web/ or outside it', async () => {
      for (const p of ['/web/missing.js', '/web/incidentDialog.ts', '/web/incidentDialog.html', '/web/..%2Fpackage.json', '/web/lib.dom.js'])
        expect((await call(`${bot.url}${p}`)).status, p).to.equal(404);
    });
  });

  describe('GET /api/search', () => {
    it('returns the top 10 known issues for a query, best first, as the page shows them', async () => {
      const res = await call(`${bot.url}/api/search?q=batch%20job%20stuck`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      const results = res.body.results as any[];
      expect(results).to.have.length(10);
      expect(res.body.count).to.equal(10);
      expect(results[0].title).to.match(/batch job stuck/i);
      const scores = results.map((r) => r.score);
      expect(scores).to.deep.equal([...scores].sort((a, b) => b - a));
      for (const r of results) {
        expect(r).to.include.keys('id', 'kbNumber', 'title', 'status', 'statusColor', 'snippet', 'link');
        expect(r.kbNumber).to.match(/^KB\d+$/);
        expect(r.link).to.match(/^https:\/\//);
      }
      const resolved = results.find((r) => r.status === 'Resolved');
      expect(resolved?.statusColor).to.equal('Good');
    });

    it('ranks an incident draft: the suggestions follow the description as it grows', async () => {
      const short = await call(`${bot.url}/api/search?title=batch&category=Platform&area=Batch%20jobs`);
      const longer = await call(
        `${bot.url}/api/search?${new URLSearchParams({ title: 'batch job stuck in waiting', category: 'Platform', area: 'Batch jobs' })}`,
      );
      expect(short.status).to.equal(200);
      expect(longer.status).to.equal(200);
      expect(longer.body.results[0].title).to.not.equal(short.body.results[0].title);
      expect(longer.body.results[0].title).to.match(/stuck/i);
    });

    it('filters by status and honours the limit', async () => {
      const res = await call(`${bot.url}/api/search?q=batch&status=Resolved,Workaround&limit=3`);
      expect(res.status).to.equal(200);
      expect(res.body.results).to.have.length(3);
      for (const r of res.body.results) expect(['Resolved', 'Workaround']).to.include(r.status);
    });

    const bad: [string, string, RegExp][] = [
      ['a limit that is not a number', 'q=batch&limit=ten', /limit/],
      ['a limit over 50', 'q=batch&limit=51', /limit/],
      ['an unknown status', 'q=batch&status=Fixed', /status/],
      ['an unknown parameter', 'q=batch&sort=date', /sort/],
      ['a repeated parameter', 'q=batch&q=workflow', /q: give it once/],
      ['a query and draft fields together', 'q=batch&title=batch', /either q or the draft fields/],
      ['a query over 1000 characters', `q=${'a'.repeat(1001)}`, /at most 1000/],
    ];
    for (const [name, query, message] of bad)
      it(`rejects ${name} with 400`, async () => {
        const res = await call(`${bot.url}/api/search?${query}`);
        expect(res.status).to.equal(400);
        expect(res.body.error).to.equal('bad_request');
        expect(res.body.message).to.match(message);
      });
  });

  describe('the form API (outside Teams, the demo user)', () => {
    it("offers the demo user's projects, categories with their areas, severities and the contact prefill", async () => {
      const res = await call(`${bot.url}/api/incidents/form`);
      expect(res.status).to.equal(200);
      const { options } = res.body;
      expect(options.projects.map((p: any) => p.name)).to.include('Contoso Finance and Operations');
      expect(options.categories.find((c: any) => c.name === 'Platform').areas.map((a: any) => a.name)).to.include('Batch jobs');
      expect(options.severities.map((s: any) => s.id)).to.deep.equal(['A', 'B', 'C']);
      expect(options.contact).to.include({ name: 'Alex Wilber', email: 'alexw@example.com' });
    });

    it('acts for another directory member named by X-Demo-User, and refuses a stranger', async () => {
      const megan = await call(`${bot.url}/api/incidents/form`, { headers: { [DEMO_USER_HEADER]: '00000000-0000-0000-0000-0000000000021' } });
      expect(megan.status).to.not.equal(401);
      if (megan.status === 200) expect(megan.body.options.contact.name).to.equal('Megan Bowen');
      const stranger = await call(`${bot.url}/api/incidents/form`, { headers: { [DEMO_USER_HEADER]: '11111111-1111-1111-1111-111111111111' } });
      expect(stranger.status).to.equal(403);
    });

    it('says the form has expired for an unknown session', async () => {
      const res = await call(`${bot.url}/api/incidents/form?session=AAAAAAAAAAAAAAAAAAAAAAAA`);
      expect(res.status).to.equal(401);
      expect(res.body.message).to.match(/expired/);
    });

    it('creates the incident: 201 with its number, and the ticket is in the store', async () => {
      const { body } = await call(`${bot.url}/api/incidents/form`);
      const form = validForm(body.options);
      const res = await postJson(`${bot.url}/api/incidents`, { form, idempotencyKey: 'web-test-valid-1' });
      expect(res.status).to.equal(201);
      expect(res.body.ticketId).to.match(/^INC-\d+$/);
      const stored = await bot.running.store.get<Ticket>(COLLECTIONS.tickets, res.body.ticketId);
      expect(stored?.value).to.include({ kind: 'incident', severity: 'B', title: form.title, projectId: form.projectId });
      expect(stored?.value.reporter.name).to.equal('Alex Wilber');

      // The same submission again (a double click, a retry) is the same incident.
      const again = await postJson(`${bot.url}/api/incidents`, { form, idempotencyKey: 'web-test-valid-1' });
      expect(again.status).to.equal(201);
      expect(again.body.ticketId).to.equal(res.body.ticketId);
    });

    it('refuses an invalid form with 400 and the errors by field', async () => {
      const { body } = await call(`${bot.url}/api/incidents/form`);
      const form = validForm(body.options, {
        title: '',
        contact: { name: 'Alex Wilber', email: 'not-an-address', phone: '' },
        severity: 'A',
      });
      const before = await bot.running.store.count(COLLECTIONS.tickets);
      const res = await postJson(`${bot.url}/api/incidents`, { form, idempotencyKey: 'web-test-invalid-1' });
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('invalid');
      expect(res.body.errors).to.include.keys('title', 'contact.email');
      expect(res.body.errors.confirmCritical ?? res.body.errors.confirm24x7).to.be.a('string');
      expect(await bot.running.store.count(COLLECTIONS.tickets)).to.equal(before);
    });

    it('refuses a body without an idempotency key with 400', async () => {
      const res = await postJson(`${bot.url}/api/incidents`, { form: {} });
      expect(res.status).to.equal(400);
      expect(res.body.message).to.match(/idempotencyKey/);
    });

    it('counts "This solved my problem" once per opened form', async () => {
      const search = await call(`${bot.url}/api/search?q=batch%20job%20stuck`);
      const { kbNumber, id } = search.body.results[0];
      const first = await postJson(`${bot.url}/api/incidents/solved`, { kbNumber, idempotencyKey: 'web-test-solved-1' });
      expect(first.status).to.equal(200);
      expect(first.body.message).to.include(kbNumber);
      await postJson(`${bot.url}/api/incidents/solved`, { kbNumber, idempotencyKey: 'web-test-solved-1' });
      const counter = await bot.running.store.get<{ count: number }>(INCIDENT_COLLECTIONS.solved, id);
      expect(counter?.value.count).to.equal(1);
      const unknown = await postJson(`${bot.url}/api/incidents/solved`, { kbNumber: 'KB0000001', idempotencyKey: 'web-test-solved-2' });
      expect(unknown.status).to.equal(400);
    });
  });
});

describe('incident dialog over HTTP (with an app id: not local mode)', () => {
  let bot: BotUnderTest;

  before(async () => {
    bot = await startBot({ env: { MicrosoftAppId: 'f0f0f0f0-0000-0000-0000-000000000001', MicrosoftAppPassword: 'not-used-here' } });
  });
  after(async () => {
    await bot.stop();
    removeDir(bot.dataDir);
  });

  it('answers 401 with a clear message to a browser submit', async () => {
    const res = await postJson(`${bot.url}/api/incidents`, { form: {}, idempotencyKey: 'web-test-prod-1' });
    expect(res.status).to.equal(401);
    expect(res.body.message).to.match(/local mode/);
    expect(res.body.message).to.match(/Teams/);
    expect(await bot.running.store.count(COLLECTIONS.tickets)).to.equal(0);
  });

  it('answers 401 to the form and "solved" without a session', async () => {
    expect((await call(`${bot.url}/api/incidents/form`)).status).to.equal(401);
    const solved = await postJson(`${bot.url}/api/incidents/solved`, { kbNumber: 'KB7107898', idempotencyKey: 'web-test-prod-2' });
    expect(solved.status).to.equal(401);
  });

  it('still serves the page and Issue search', async () => {
    expect((await call(`${bot.url}/dialogs/incident`)).status).to.equal(200);
    expect((await call(`${bot.url}/api/search?q=workflow`)).status).to.equal(200);
  });
});

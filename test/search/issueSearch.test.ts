import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import {
  buildIssueSearch,
  IncidentDraftText,
  type IssueHit,
  type IssueSearch,
  type IssueSearchOptions,
  IssueSearchRequest,
} from '../../src/search/issueSearch.js';
import { loadKb } from '../../src/search/loadKb.js';
import { syntheticKb } from '../../src/search/syntheticKb.js';
import { termsOf } from '../../src/search/terms.js';

const DEMO = fileURLToPath(new URL('../../kb/demo.jsonl', import.meta.url));
const ids = (hits: IssueHit[]) => hits.map((h) => h.issue.id);
const textOf = (h: IssueHit) => {
  const e = h.issue;
  return termsOf([e.title, e.symptoms, e.resolution, e.area, e.category, e.kbNumber].join(' '));
};

describe('issueSearch', () => {
  let search: IssueSearch;
  before(async () => {
    search = buildIssueSearch(await loadKb(DEMO));
  });

  describe('results', () => {
    it('returns the top 10 with entry, score and snippet, best first', () => {
      const hits = search.search('posting');
      expect(hits).to.have.length(10);
      const scores = hits.map((h) => h.score);
      expect(scores).to.deep.equal([...scores].sort((a, b) => b - a));
      for (const h of hits) {
        expect(h.issue.kbNumber).to.match(/^KB7\d{6}$/);
        expect(h.snippet).to.be.a('string').and.not.equal('');
      }
    });

    it('takes another limit from the options or at build time, at most 50', async () => {
      expect(search.search('posting', { limit: 3 })).to.have.length(3);
      expect(search.search('posting', { limit: 500 })).to.have.length(50);
      const five = buildIssueSearch(await loadKb(DEMO), { limit: 5 });
      expect(five.search('posting')).to.have.length(5);
    });

    it('marks the matched words in a snippet of about 160 characters', () => {
      const [hit] = search.search('deadlock victim');
      expect(hit?.snippet).to.include('**deadlock** **victim**');
      expect(hit?.snippet.replace(/\*\*/g, '').length).to.be.at.most(162);
    });

    it('takes the snippet from the resolution when only the resolution matches', () => {
      const [hit] = search.search('ClickOnceEnabled');
      expect(hit?.issue.id).to.equal('wf-editor-clickonce-edge');
      expect(hit?.snippet).to.include('**ClickOnceEnabled**');
      expect(hit?.issue.resolution).to.include('ClickOnceEnabled');
    });

    it('lists the newest entries for an empty query, the user’s area first', () => {
      const newest = search.search('');
      const dates = newest.map((h) => h.issue.updated);
      expect(dates).to.deep.equal([...dates].sort().reverse());
      const inArea = search.search('  ', { area: 'Dual-write', limit: 12 });
      expect(inArea.slice(0, 9).every((h) => h.issue.area === 'Dual-write')).to.equal(true);
      expect(inArea).to.have.length(12);
      expect(
        search.search('', { status: "Won't fix" }).every((h) => h.issue.status === "Won't fix"),
      ).to.equal(true);
    });

    it('finds nothing for words no entry holds', () => {
      expect(search.search('zzyzx quux')).to.deep.equal([]);
    });
  });

  describe('KB numbers', () => {
    it('finds an entry by KB number in every written form', () => {
      const kb = search.byId('dmf-package-key')?.kbNumber as string;
      for (const q of [kb, kb.toLowerCase(), `KB ${kb.slice(2)}`, kb.slice(2), `(${kb}).`])
        expect(ids(search.search(q))[0], q).to.equal('dmf-package-key');
      expect(search.byKb(Number(kb.slice(2)))?.id).to.equal('dmf-package-key');
    });

    it('treats a number that is no KB number as a word', () => {
      expect(search.search('7999999')).to.deep.equal([]);
      expect(ids(search.search('1205 deadlock'))[0]).to.match(/^perf-deadlock-1205-/);
    });

    it('keeps the status filter for a KB number', () => {
      const kb = search.byId('dmf-package-key')?.kbNumber as string;
      expect(search.search(kb, { status: 'Open' })).to.deep.equal([]);
    });
  });

  describe('AND / OR', () => {
    it('keeps only entries holding both sides of an AND', () => {
      const hits = search.search('batch AND workflow');
      expect(hits.length).to.be.greaterThan(0);
      for (const h of hits) expect(textOf(h)).to.include.members(['batch', 'workflow']);
    });

    it('returns nothing when an AND side matches nothing', () => {
      expect(search.search('batch AND zzyzx')).to.deep.equal([]);
    });

    it('ranks entries holding every word first in the default (OR) combination', () => {
      const hits = search.search('batch stuck executing');
      for (const h of hits.slice(0, 3))
        expect(textOf(h)).to.include.members(['batch', 'stuck', 'execut']);
      expect(hits).to.have.length(10); // entries holding some of the words fill the list
    });
  });

  describe('scoring every match (a small knowledge base)', () => {
    // Below the pruning volume every entry holding a word is a candidate: the candidate scoring
    // must then give exactly what MiniSearch's own (exhaustive) search gives.
    const rows: [string, IssueSearchOptions?][] = [
      ['posting'],
      ['vendor invoice posting fails'],
      ['wokflow editer'],
      ['invoi'],
      ['batch AND workflow OR posting invoice'],
      ['The transactions on voucher GNJL000245 do not balance as per 3/31/2025'],
      ['inventory close', { status: ['Resolved', 'Open'] }],
      ['report timeout', { category: 'Platform', area: 'Printing and reports', limit: 50 }],
    ];
    for (const [q, options] of rows) {
      it(`ranks as exhaustive scoring does: ${q}`, () => {
        const hits = search.search(q, options);
        expect(hits.length).to.be.greaterThan(0);
        expect(hits).to.deep.equal(search.search(q, { ...options, exhaustive: true }));
      });
    }

    it('ranks a draft’s suggestions as exhaustive scoring does', () => {
      const draft = {
        category: 'Finance',
        area: 'General ledger',
        title: 'Cannot post general journal',
        details: 'Since this morning posting the monthly accrual journal fails for all users.',
        errorMessage: 'The transactions on voucher GNJL000245 do not balance as per 3/31/2025.',
      };
      expect(search.suggest(draft)).to.deep.equal(search.suggest(draft, { exhaustive: true }));
    });
  });

  describe('suggest()', () => {
    const base = { category: 'Platform', area: 'Workflow' };
    const title = 'Requisition approval does not reach the approver';
    const details =
      'Since Monday purchase requisitions submitted by the buyers stop in the workflow history with an error. Steps: create a requisition, submit it.';
    const errorMessage =
      'Stopped (error): Work item could not be created. Insufficient rights for user BOB';

    it('lists the newest entries of the chosen area before anything is typed', () => {
      const hits = search.suggest(base);
      expect(hits).to.have.length(10);
      expect(hits.every((h) => h.issue.area === 'Workflow')).to.equal(true);
    });

    it('changes as the draft grows, the error message deciding', () => {
      const titleOnly = search.suggest({ ...base, title });
      const withDetails = search.suggest({ ...base, title, details });
      const withError = search.suggest({ ...base, title, details, errorMessage });
      expect(ids(titleOnly)).not.to.deep.equal(ids(withDetails));
      expect(ids(withDetails)).not.to.deep.equal(ids(withError));
      // Every entry with this error message leads once it is known.
      expect(ids(withError).slice(0, 3)).to.have.members([
        'wf-insufficient-rights-purchase-requisition',
        'wf-insufficient-rights-journal',
        'wf-insufficient-rights-vendor-invoice',
      ]);
      expect(ids(withError)[0]).to.equal('wf-insufficient-rights-purchase-requisition');
      expect(ids(titleOnly)).to.include('po-requisition-release');
      expect(ids(withError)).not.to.include('po-requisition-release');
    });

    it('weighs an error message’s distinctive words above the title', () => {
      const draft = {
        category: 'Supply chain management',
        area: 'Warehouse mobile app',
        title: 'Cannot sign in to the warehouse app',
      };
      expect(ids(search.suggest(draft))[0]).not.to.equal('whs-mobile-signin-aadsts700016');
      const withError = search.suggest({
        ...draft,
        errorMessage:
          "AADSTS700016: Application with identifier '8f2c0c55-1111-2222-3333-444455556666' was not found in the directory 'fabrikam.onmicrosoft.com'",
      });
      expect(ids(withError).slice(0, 2)).to.deep.equal([
        'whs-mobile-signin-aadsts700016',
        'entra-app-not-found-tenant',
      ]);
    });

    it('puts an entry whose KB number the draft mentions first', () => {
      const kb = search.byId('odata-throttling-429')?.kbNumber as string;
      expect(
        ids(search.suggest({ title: 'Integration slow', details: `Looks like ${kb}.` }))[0],
      ).to.equal('odata-throttling-429');
    });

    it('honours a status filter', () => {
      const hits = search.suggest({ ...base, title, details }, { status: ['Resolved'] });
      expect(hits.length).to.be.greaterThan(0);
      expect(hits.every((h) => h.issue.status === 'Resolved')).to.equal(true);
    });
  });

  describe('request schemas (for the search endpoint and the incident flow)', () => {
    it('validates a search request', () => {
      expect(IssueSearchRequest.parse({ q: 'batch', status: ['Open'], limit: '5' })).to.deep.equal({
        q: 'batch',
        status: ['Open'],
        limit: 5,
      });
      expect(IssueSearchRequest.safeParse({ q: 'x', status: ['Fixed'] }).success).to.equal(false);
      expect(IssueSearchRequest.safeParse({ q: 'x'.repeat(1001) }).success).to.equal(false);
    });

    it('validates a draft', () => {
      expect(IncidentDraftText.parse({ title: 'x' })).to.deep.equal({ title: 'x' });
      expect(IncidentDraftText.safeParse({ details: 'x'.repeat(8001) }).success).to.equal(false);
    });
  });

  describe('in a large knowledge base (pruned scoring)', () => {
    let large: IssueSearch;
    before(() => {
      large = buildIssueSearch(syntheticKb(8000, { seed: 3 }));
    });

    // Queries whose words occur often enough at this size for the scoring to be pruned.
    const queries = [
      'batch job stuck executing',
      'vendor invoice posting fails',
      'inventory close fails',
      'workflow stops with error',
      'The transactions on voucher do not balance in the reporting currency',
    ];
    for (const q of queries) {
      it(`ranks the same first result as exhaustive scoring: ${q}`, () => {
        const pruned = large.search(q);
        const full = large.search(q, { exhaustive: true });
        expect(pruned[0]?.score).to.equal(full[0]?.score);
        const fullIds = new Set(ids(full));
        expect(ids(pruned).filter((id) => fullIds.has(id)).length).to.be.at.least(8);
      });
    }

    it('keeps AND, status filters and the area boost under pruning', () => {
      for (const h of large.search('batch AND workflow'))
        expect(textOf(h)).to.include.members(['batch', 'workflow']);
      const open = large.search('posting invoice', { status: 'Open' });
      expect(open).to.have.length(10);
      expect(open.every((h) => h.issue.status === 'Open')).to.equal(true);
      const inTax = large.search('vendor invoice posting', { category: 'Finance', area: 'Tax' });
      expect(inTax[0]?.issue.area).to.equal('Tax');
    });
  });
});

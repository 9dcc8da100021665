import { expect } from 'chai';
import { recognize } from '../../src/intents.js';
import { parseSearchText } from '../../src/search/searchViews.js';

describe('searchText', () => {
  const rows: { text: string; query: string; status?: string[]; unknown?: string[] }[] = [
    { text: 'batch AND workflow status:open', query: 'batch AND workflow', status: ['Open'] },
    { text: 'status:Resolved posting', query: 'posting', status: ['Resolved'] },
    { text: 'posting status:open,workaround', query: 'posting', status: ['Open', 'Workaround'] },
    { text: 'posting status:open|postponed', query: 'posting', status: ['Open', 'Postponed'] },
    { text: 'posting status:"by design",workaround', query: 'posting', status: ['By design', 'Workaround'] },
    { text: 'posting status:by-design status:not_reproducible', query: 'posting', status: ['By design', 'Not reproducible'] },
    { text: "tax status:won't-fix", query: 'tax', status: ["Won't fix"] },
    { text: 'tax status:wontfix', query: 'tax', status: ["Won't fix"] },
    { text: 'tax status:“Won’t fix”', query: 'tax', status: ["Won't fix"] },
    { text: 'tax status: open', query: 'tax', status: ['Open'] },
    { text: 'tax status:fixed', query: 'tax', unknown: ['fixed'] },
    { text: 'tax status:', query: 'tax', unknown: [''] },
    { text: 'mystatus:open stays a word', query: 'mystatus:open stays a word' },
  ];
  for (const r of rows)
    it(`reads ${JSON.stringify(r.text)}`, () => {
      expect(parseSearchText(r.text)).to.deep.equal({ query: r.query, status: r.status ?? [], unknownStatus: r.unknown ?? [] });
    });
});

describe('search intents', () => {
  const rows: [string, ReturnType<typeof recognize>][] = [
    ['search batch AND workflow status:open', { kind: 'search', query: 'batch AND workflow status:open' }],
    ['Search for vendor invoice', { kind: 'search', query: 'vendor invoice' }],
    ['find posting OR settlement', { kind: 'search', query: 'posting OR settlement' }],
    ['known issues dual-write', { kind: 'search', query: 'dual-write' }],
    ['search known issues batch', { kind: 'search', query: 'batch' }],
    ['search: prod is down', { kind: 'search', query: 'prod is down' }],
    ['kb 4512345', { kind: 'search', query: 'kb 4512345' }],
    ['KB4512345', { kind: 'search', query: 'KB4512345' }],
    ['search', { kind: 'search', query: '' }],
    ['known issues', { kind: 'search', query: '' }],
    ['searching for answers', { kind: 'unknown', text: 'searching for answers' }],
    ['my incidents', { kind: 'myIncidents' }],
    ['show my incidents', { kind: 'myIncidents' }],
    ['incidents', { kind: 'incidents' }],
    ['project incidents', { kind: 'incidents' }],
    ['my tickets', { kind: 'myTickets' }],
    ['my outages', { kind: 'myTickets' }],
  ];
  for (const [text, intent] of rows)
    it(`recognises ${JSON.stringify(text)}`, () => {
      expect(recognize(text)).to.deep.equal(intent);
    });
});

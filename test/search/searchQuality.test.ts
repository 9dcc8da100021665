import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import {
  buildIssueSearch,
  type IssueSearch,
  type IssueSearchOptions,
} from '../../src/search/issueSearch.js';
import { loadKb } from '../../src/search/loadKb.js';

// Search quality over the demo knowledge base (kb/demo.jsonl): for each query, the entries that
// must be in the top 10, and where it matters the one that must come first. Ids are the demo's;
// KB numbers are written literally, as a user would type them.

interface Row {
  name: string;
  q: string;
  options?: IssueSearchOptions;
  top10: string[];
  first?: string;
  /** Entries that must not be in the results at all. */
  absent?: string[];
}

const rows: Row[] = [
  // plain keywords
  {
    name: 'keywords',
    q: 'batch job stuck executing',
    top10: [
      'batch-stuck-executing-aos-restart',
      'batch-stuck-executing-deployment',
      'batch-stuck-executing-refresh',
    ],
  },
  {
    name: 'keywords, one area',
    q: 'workflow editor does not open',
    top10: ['wf-editor-clickonce-edge', 'wf-editor-clickonce-chrome'],
  },
  {
    name: 'keywords naming a variant',
    q: 'dual-write initial sync customers',
    top10: ['dw-initial-sync-products'],
    first: 'dw-initial-sync-customers',
  },
  {
    name: 'keywords across modules',
    q: 'Store Commerce device activation',
    first: 'pos-device-activation',
    top10: ['pos-store-commerce-install'],
  },
  {
    name: 'plural and -ing forms meet',
    q: 'depreciation proposals',
    top10: [
      'fa-depreciation-proposal-skips-last-run',
      'fa-depreciation-proposal-skips-acquired-midperiod',
      'fa-depreciation-performance',
    ],
  },
  {
    name: 'a phrase',
    q: 'year-end close',
    top10: [
      'gl-year-end-close-duplicate',
      'gl-year-end-close-timeout',
      'gl-year-end-close-retained-earnings',
    ],
  },
  {
    name: 'mobile app labels',
    q: 'license plate label printing mobile',
    first: 'whs-mobile-label-print',
    top10: [],
  },
  {
    name: 'database movement',
    q: 'database refresh sandbox',
    top10: [
      'lcs-refresh-admin-user',
      'lcs-refresh-integrations',
      'lcs-refresh-email',
      'lcs-refresh-state',
    ],
  },
  {
    name: 'electronic reporting',
    q: 'electronic reporting global repository',
    top10: ['er-global-repository-sepa', 'er-global-repository-saf-t', 'er-global-repository-vat'],
  },
  // exact error messages, pasted
  {
    name: 'an exact error message with the user’s own values',
    q: 'The transactions on voucher GNJL000245 do not balance as per 3/31/2025. (accounting currency: 0.00 - reporting currency: 0.01)',
    first: 'gl-voucher-unbalanced-reporting-general',
    top10: [
      'gl-voucher-unbalanced-reporting-vendor',
      'gl-voucher-unbalanced-reporting-payment',
      'gl-voucher-unbalanced-reporting-allocation',
    ],
  },
  {
    name: 'a workflow error naming the user',
    q: 'Work item could not be created. Insufficient rights for user ALICIA',
    first: 'wf-insufficient-rights-purchase-requisition',
    top10: ['wf-insufficient-rights-vendor-invoice', 'wf-insufficient-rights-journal'],
  },
  {
    name: 'a SQL error message',
    q: 'Cannot create a record in Ledger entry (GeneralJournalAccountEntry). The record already exists.',
    first: 'gl-year-end-close-duplicate',
    top10: ['inv-close-record-exists'],
  },
  {
    name: 'an error code alone',
    q: 'AADSTS700016',
    top10: ['whs-mobile-signin-aadsts700016', 'entra-app-not-found-tenant'],
  },
  { name: 'an HTTP status', q: '429 Too Many Requests', first: 'odata-throttling-429', top10: [] },
  // KB numbers
  { name: 'a KB number', q: 'KB7409504', first: 'dmf-package-key', top10: [] },
  { name: 'a KB number with a space', q: 'KB 7204719', first: 'odata-throttling-429', top10: [] },
  { name: 'a KB number without "KB"', q: '7823362', first: 'pos-device-activation', top10: [] },
  {
    name: 'a KB number and words: the KB first, the words rank the rest',
    q: 'kb7409504 dual-write initial sync',
    first: 'dmf-package-key',
    top10: ['dw-initial-sync-customers', 'dw-initial-sync-products'],
  },
  // AND / OR
  {
    name: 'AND requires both words',
    q: 'batch AND workflow',
    top10: ['wf-message-processing-refresh', 'wf-message-processing-update'],
    absent: ['batch-stuck-executing-aos-restart', 'wf-editor-clickonce-edge'],
  },
  {
    name: 'OR offers either',
    q: 'clickonce OR synapse',
    top10: ['wf-editor-clickonce-edge', 'wf-editor-clickonce-chrome', 'dmf-synapse-link-tables'],
  },
  {
    name: 'AND binds tighter than OR',
    q: 'synapse OR batch AND workflow',
    top10: ['dmf-synapse-link-tables', 'wf-message-processing-refresh'],
    absent: ['batch-stuck-executing-aos-restart'],
  },
  // status filter
  {
    name: 'one status',
    q: 'batch job',
    options: { status: 'Workaround' },
    first: 'batch-stuck-executing-refresh',
    top10: ['batch-history-cleanup'],
    absent: ['batch-stuck-executing-aos-restart'],
  },
  {
    name: 'several statuses',
    q: 'dual-write',
    options: { status: ['Open', 'Postponed'] },
    top10: ['dw-plugin-timeout', 'dw-party-postponed'],
    absent: ['dw-exchange-rates'],
  },
  // the user's category and area raise entries, without filtering
  {
    name: 'no area: accounts receivable first',
    q: 'timeout',
    first: 'ar-aging-snapshot-timeout',
    top10: ['dmf-import-timeout'],
  },
  {
    name: 'area Data management: its entry first',
    q: 'timeout',
    options: { category: 'Platform', area: 'Data management' },
    first: 'dmf-import-timeout',
    top10: ['ar-aging-snapshot-timeout'],
  },
  {
    name: 'no area: accounts payable first',
    q: 'vendor invoice',
    first: 'ap-invoice-automation-attachments',
    top10: ['tax-use-tax-cancel'],
  },
  {
    name: 'area Tax: the use tax entry first',
    q: 'vendor invoice',
    options: { category: 'Finance', area: 'Tax' },
    first: 'tax-use-tax-cancel',
    top10: ['ap-invoice-automation-attachments', 'ap-price-match-tolerance'],
  },
  // typos and words being typed
  {
    name: 'two typos',
    q: 'wokflow editer',
    top10: ['wf-editor-clickonce-edge', 'wf-editor-clickonce-chrome'],
  },
  {
    name: 'a typo in a rare word',
    q: 'dedlock victim',
    top10: ['perf-deadlock-1205-release-to-warehouse', 'perf-deadlock-1205-invoice-posting'],
  },
  {
    name: 'typos in two words',
    q: 'recuring integraton enqueue',
    first: 'recurring-enqueue-unauthorized',
    top10: ['recurring-dequeue-repeat'],
  },
  {
    name: 'the last word half typed',
    q: 'invoice captu',
    first: 'ap-invoice-capture-legal-entity',
    top10: [],
  },
];

describe('search quality over the demo knowledge base', () => {
  let search: IssueSearch;
  before(async () => {
    search = buildIssueSearch(
      await loadKb(fileURLToPath(new URL('../../kb/demo.jsonl', import.meta.url))),
    );
  });

  it('has at least 20 rows', () => {
    expect(rows.length).to.be.at.least(20);
  });

  for (const row of rows) {
    it(`${row.name}: ${row.q}${row.options ? ` ${JSON.stringify(row.options)}` : ''}`, () => {
      const ids = search.search(row.q, row.options).map((h) => h.issue.id);
      const shown = `top 10: ${ids.join(', ')}`;
      for (const id of row.top10) expect(ids, shown).to.include(id);
      if (row.first) expect(ids[0], shown).to.equal(row.first);
      for (const id of row.absent ?? []) expect(ids, shown).not.to.include(id);
      for (const id of [...row.top10, ...(row.first ? [row.first] : [])])
        expect(search.byId(id), `unknown id ${id}`).not.to.equal(undefined);
    });
  }
});

// Shared test data for the Issue search tests.

/** One valid knowledge-base entry, as a file would hold it. */
export const validEntry = {
  id: 'gl-voucher-balance',
  kbNumber: 'KB7123456',
  title: 'Posting fails: voucher does not balance',
  symptoms: 'Posting stops with "The transactions on voucher GNJL000245 do not balance".',
  resolution: 'Install the quality update.',
  status: 'Resolved',
  area: 'General ledger',
  category: 'Finance',
  versions: ['10.0.38', '10.0.39'],
  link: 'https://fix.lcs.dynamics.com/Issue/Details?kb=7123456',
  updated: '2025-03-31',
};

import { expect } from 'chai';
import {
  ISSUE_STATUSES,
  KnownIssue,
  kbDigits,
  parseStatus,
  STATUS_COLORS,
  statusColor,
} from '../../src/search/knownIssue.js';
import { validEntry } from './fixtures.js';

const messages = (value: unknown) => {
  const r = KnownIssue.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('knownIssue', () => {
  it('accepts a complete entry', () => {
    expect(messages(validEntry)).to.deep.equal([]);
  });

  for (const [written, stored] of [
    ['KB7123456', 'KB7123456'],
    ['kb 7123456', 'KB7123456'],
    ['7123456', 'KB7123456'],
    [7123456, 'KB7123456'],
  ] as const) {
    it(`stores the KB number ${JSON.stringify(written)} as ${stored}`, () => {
      expect(KnownIssue.parse({ ...validEntry, kbNumber: written }).kbNumber).to.equal(stored);
    });
  }

  const bad = [
    { name: 'an unknown status', patch: { status: 'Fixed' }, error: /^status: / },
    {
      name: 'a KB number that is not one',
      patch: { kbNumber: 'Q12' },
      error: /^kbNumber: expected a KB number/,
    },
    {
      name: 'a link that is not http(s)',
      patch: { link: 'ftp://example.com/kb' },
      error: /^link: expected an http/,
    },
    {
      name: 'a version that is not one',
      patch: { versions: ['ten'] },
      error: /^versions\.0: expected a version/,
    },
    { name: 'an impossible date', patch: { updated: '2025-02-30' }, error: /^updated: / },
    { name: 'an empty title', patch: { title: ' ' }, error: /^title: / },
    {
      name: 'an unknown key (a typo)',
      patch: { symptom: 'x' },
      error: /Unrecognized key: "symptom"/,
    },
  ];
  for (const row of bad) {
    it(`refuses ${row.name}`, () => {
      const found = messages({ ...validEntry, ...row.patch });
      expect(
        found.some((m) => row.error.test(m)),
        found.join(' | '),
      ).to.equal(true);
    });
  }

  it('gives every status an Adaptive Card colour, as LCS groups them', () => {
    expect(Object.keys(STATUS_COLORS)).to.have.members([...ISSUE_STATUSES]);
    expect(statusColor('Resolved')).to.equal('Good');
    expect(statusColor('Open')).to.equal('Accent');
    expect(statusColor('Workaround')).to.equal('Warning');
    expect(statusColor('Postponed')).to.equal('Warning');
    expect(statusColor("Won't fix")).to.equal('Attention');
    expect(statusColor('By design')).to.equal('Default');
    expect(statusColor('Not reproducible')).to.equal('Default');
  });

  it('reads statuses as people type them', () => {
    expect(parseStatus('resolved')).to.equal('Resolved');
    expect(parseStatus('  by   DESIGN ')).to.equal('By design');
    expect(parseStatus('wont fix')).to.equal("Won't fix");
    expect(parseStatus('won’t fix')).to.equal("Won't fix");
    expect(parseStatus('fixed')).to.equal(undefined);
  });

  it('reads the digits of a KB number', () => {
    expect(kbDigits('KB#4512345')).to.equal('4512345');
    expect(kbDigits(4512345)).to.equal('4512345');
    expect(kbDigits('KBX')).to.equal(undefined);
  });
});

import { z } from 'zod';

// One entry of the known-issue knowledge base, as LCS Issue search shows it: a KB number, what the
// customer sees (symptoms), what to do (resolution), a status and the versions concerned. The file
// is JSONL, one entry a line (see loadKb.ts); unknown keys are refused so a typo is not lost.

/** The statuses LCS Issue search shows, spelled as it shows them. */
export const ISSUE_STATUSES = [
  'Resolved',
  'Open',
  'Workaround',
  'Postponed',
  'By design',
  'Not reproducible',
  "Won't fix",
] as const;
export const IssueStatus = z.enum(ISSUE_STATUSES);
export type IssueStatus = z.infer<typeof IssueStatus>;

/** Adaptive Card text colours (TextBlock `color`, FactSet values) that a status may take. */
export type StatusColor = 'Good' | 'Attention' | 'Warning' | 'Accent' | 'Default';

// LCS draws a fixed issue green, one Microsoft still works on blue, one with only a workaround or
// deferred amber, and a closed-without-fix one red; the "not a bug" outcomes stay neutral.
// Adaptive Cards have no free colours, so each maps to the nearest semantic colour.
export const STATUS_COLORS: Readonly<Record<IssueStatus, StatusColor>> = {
  Resolved: 'Good', // a fix is released: install the update
  Open: 'Accent', // known and under investigation: no fix yet
  Workaround: 'Warning', // no fix, but a documented way around it
  Postponed: 'Warning', // fix planned for a later release
  'By design': 'Default', // the product works as intended
  'Not reproducible': 'Default', // Microsoft could not reproduce it
  "Won't fix": 'Attention', // closed without a fix
};

export function statusColor(status: IssueStatus): StatusColor {
  return STATUS_COLORS[status];
}

/** Reads a status the way people type it: any case, with or without the apostrophe. */
export function parseStatus(text: string): IssueStatus | undefined {
  const key = text.trim().toLowerCase().replace(/[’']/g, '').replace(/\s+/g, ' ');
  return ISSUE_STATUSES.find((s) => s.toLowerCase().replace(/'/g, '') === key);
}

const KB_PATTERN = /^(?:KB)?\s*#?\s*(\d{4,8})$/i;

/** The digits of a KB number written "KB4512345", "KB 4512345", "4512345" or 4512345. */
export function kbDigits(value: string | number): string | undefined {
  return KB_PATTERN.exec(String(value).trim())?.[1];
}

/** KB numbers are kept as "KB" + digits whatever the file wrote, so display and lookup agree. */
export const KbNumber = z.union([z.int().positive(), z.string()]).transform((value, ctx) => {
  const digits = kbDigits(value);
  if (digits === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected a KB number such as "KB4512345" or 4512345',
      input: value,
    });
    return z.NEVER;
  }
  return `KB${digits}`;
});

/** A Finance and Operations version such as "10.0.38" (or "8.1.3" for older releases). */
export const FoVersion = z
  .string()
  .regex(/^\d{1,2}(\.\d{1,3}){1,3}$/, 'expected a version such as "10.0.38"');

const Text = (max: number) => z.string().trim().min(1).max(max);

export const KnownIssue = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/, 'use letters, digits, . _ -'),
  kbNumber: KbNumber,
  title: Text(300),
  symptoms: Text(4000),
  resolution: Text(4000),
  status: IssueStatus,
  area: Text(80),
  category: Text(80),
  versions: z.array(FoVersion).max(50),
  link: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
  updated: z.iso.date().or(z.iso.datetime({ offset: true })),
});
export type KnownIssue = z.infer<typeof KnownIssue>;
/** What a file may hold before normalisation (a KB number may still be a bare number). */
export type KnownIssueInput = z.input<typeof KnownIssue>;

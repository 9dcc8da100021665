import { readFile } from 'node:fs/promises';
import { findNodeAtLocation, getNodeValue, parseTree, type ParseError, printParseErrorCode } from 'jsonc-parser';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { BusinessHours, DEFAULT_SLA_TABLE, SlaTable, SupportPlanKind } from './domain/sla.js';
import { checkPlans, ContractRegistry, OrganizationPlans } from './plans/planSchema.js';
import { isTimeZone } from './time.js';

// The directory: who is who, which projects exist and what the desk is. One JSON file, validated at
// start; every error names the path (organizations[0].projects[1].environments[0].type) and line.

const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'use letters, digits, . _ -');
const Guid = z
  .string()
  .regex(/^[0-9a-fA-F-]{8,40}$/, 'expected an Azure AD object id (GUID)')
  .transform((s) => s.toLowerCase());
const Email = z.email();

/** LCS project roles. The first four may report a production outage. */
export const LcsRole = z.enum([
  'project-owner',
  'organization-admin',
  'project-team-member',
  'environment-manager',
  'prospect',
  'operations-user',
]);
export type LcsRole = z.infer<typeof LcsRole>;
export const OUTAGE_ROLES: readonly LcsRole[] = [
  'project-owner',
  'organization-admin',
  'project-team-member',
  'environment-manager',
];
export const ROLE_LABELS: Record<LcsRole, string> = {
  'project-owner': 'Project owner',
  'organization-admin': 'Organization admin',
  'project-team-member': 'Project team member',
  'environment-manager': 'Environment manager',
  prospect: 'Project team member (prospect)',
  'operations-user': 'Operations user',
};

export const Product = z.enum([
  'finance',
  'supply-chain-management',
  'commerce',
  'human-resources',
  'project-operations',
  'ax-2012',
]);
export type Product = z.infer<typeof Product>;
export const PRODUCT_LABELS: Record<Product, string> = {
  finance: 'Dynamics 365 Finance',
  'supply-chain-management': 'Dynamics 365 Supply Chain Management',
  commerce: 'Dynamics 365 Commerce',
  'human-resources': 'Dynamics 365 Human Resources',
  'project-operations': 'Dynamics 365 Project Operations',
  'ax-2012': 'Dynamics AX 2012',
};

export const Environment = z.strictObject({
  id: Id,
  name: z.string().min(1).max(100),
  type: z.enum(['production', 'sandbox']),
  managedBy: z.enum(['microsoft', 'customer']),
});
export type Environment = z.infer<typeof Environment>;

export const Member = z.strictObject({
  aadObjectId: Guid,
  name: z.string().min(1),
  email: Email,
  role: LcsRole,
});
export type Member = z.infer<typeof Member>;

/** A Teams conversation the bot posts into (a channel of a team). */
export const ChannelRef = z.strictObject({
  teamId: z.string().min(1),
  channelId: z.string().min(1),
  name: z.string().min(1),
  // The Bot Connector endpoint of that tenant; the bot learns it from the first activity if omitted.
  serviceUrl: z.url().optional(),
});
export type ChannelRef = z.infer<typeof ChannelRef>;

export const Project = z.strictObject({
  id: Id,
  name: z.string().min(1).max(120),
  type: z.enum(['implementation', 'migration', 'prospect', 'other']),
  deployment: z.enum(['cloud', 'on-premises']),
  products: z.array(Product).min(1),
  environments: z.array(Environment),
  members: z.array(Member),
  // A customer channel that also receives the project's acknowledgements and status updates.
  linkedChannel: ChannelRef.optional(),
  // The plan whose response targets apply to the project's incidents (issue: support plans refine this).
  supportPlan: SupportPlanKind.default('subscription'),
});
export type Project = z.infer<typeof Project>;

export const Organization = z.strictObject({
  id: Id,
  name: z.string().min(1),
  tenantId: Guid,
  timeZone: z.string().refine((tz) => isTimeZone(tz), 'unknown IANA time zone').default('UTC'),
  businessHours: BusinessHours,
  projects: z.array(Project),
  // Support plans as LCS groups them (src/plans/planSchema.ts); prefault: each gets its own arrays.
  plans: OrganizationPlans.prefault({}),
});
export type Organization = z.infer<typeof Organization>;

export const OutageScenario = z.strictObject({
  id: Id,
  title: z.string().min(1).max(120),
  description: z.string().max(500).default(''),
});
export type OutageScenario = z.infer<typeof OutageScenario>;

/** An issue area (LCS: "Select an issue area"); names match the knowledge base's `area` values. */
export const IssueArea = z.strictObject({ id: Id, name: z.string().min(1).max(80) });
export type IssueArea = z.infer<typeof IssueArea>;

/** An issue category and the areas it offers (areas depend on the category). */
export const IssueCategory = z.strictObject({
  id: Id,
  name: z.string().min(1).max(80),
  areas: z.array(IssueArea).min(1),
});
export type IssueCategory = z.infer<typeof IssueCategory>;

export const PhoneSupport = z.strictObject({
  region: z.string().min(1),
  number: z.string().regex(/^\+?[0-9 ()-]{6,25}$/, 'expected a phone number'),
  hours: z.string().default('24x7'),
});
export type PhoneSupport = z.infer<typeof PhoneSupport>;

export const DeskMember = z.strictObject({
  aadObjectId: Guid,
  name: z.string().min(1),
  email: Email,
});

export const Queue = z.strictObject({ id: Id, name: z.string().min(1) });
export type Queue = z.infer<typeof Queue>;

export const Desk = z.strictObject({
  name: z.string().min(1),
  channel: ChannelRef,
  members: z.array(DeskMember).min(1),
  // Mentioned in the desk channel when a ticket misses its SLA.
  escalationContacts: z.array(DeskMember).default([]),
  // Where the desk can transfer a ticket; the first one takes new outages.
  queues: z
    .array(Queue)
    .min(1)
    .default([
      { id: 'production-outage', name: 'Production outage' },
      { id: 'fo-support', name: 'Finance and Operations support' },
    ]),
});
export type Desk = z.infer<typeof Desk>;

export const Directory = z
  .strictObject({
    organizations: z.array(Organization).min(1),
    outageScenarios: z.array(OutageScenario).min(1),
    // The incident flow's category and area pickers.
    categories: z.array(IssueCategory).min(1),
    phoneSupport: z.array(PhoneSupport).min(1),
    desk: Desk,
    sla: z
      .strictObject({
        // How long before a deadline the desk is warned.
        warningLeadMinutes: z.number().int().min(1).max(24 * 60).default(10),
        table: SlaTable.default(DEFAULT_SLA_TABLE),
      })
      .default({ warningLeadMinutes: 10, table: DEFAULT_SLA_TABLE }),
    // The contract ID / access ID pairs a user may add ("Add contract"); secrets are hashes only.
    contractRegistry: ContractRegistry.prefault([]),
  })
  .superRefine((d, ctx) => {
    const seen = new Map<string, string>();
    d.organizations.forEach((o, oi) => {
      uniqueId(ctx, seen, `organization ${o.id}`, ['organizations', oi, 'id']);
      o.projects.forEach((p, pi) => {
        uniqueId(ctx, seen, `project ${p.id}`, ['organizations', oi, 'projects', pi, 'id']);
        const envs = new Set<string>();
        p.environments.forEach((e, ei) => {
          if (envs.has(e.id))
            ctx.addIssue({
              code: 'custom',
              message: `duplicate environment id "${e.id}" in project ${p.id}`,
              path: ['organizations', oi, 'projects', pi, 'environments', ei, 'id'],
            });
          envs.add(e.id);
        });
        const members = new Set<string>();
        p.members.forEach((m, mi) => {
          if (members.has(m.aadObjectId))
            ctx.addIssue({
              code: 'custom',
              message: `member ${m.aadObjectId} is listed twice in project ${p.id}`,
              path: ['organizations', oi, 'projects', pi, 'members', mi, 'aadObjectId'],
            });
          members.add(m.aadObjectId);
        });
      });
    });
    const scenarios = new Set<string>();
    d.outageScenarios.forEach((s, si) => {
      if (scenarios.has(s.id))
        ctx.addIssue({ code: 'custom', message: `duplicate scenario id "${s.id}"`, path: ['outageScenarios', si, 'id'] });
      scenarios.add(s.id);
    });
    const categories = new Set<string>();
    d.categories.forEach((c, ci) => {
      if (categories.has(c.id))
        ctx.addIssue({ code: 'custom', message: `duplicate category id "${c.id}"`, path: ['categories', ci, 'id'] });
      categories.add(c.id);
      const areas = new Set<string>();
      c.areas.forEach((a, ai) => {
        if (areas.has(a.id))
          ctx.addIssue({
            code: 'custom',
            message: `duplicate area id "${a.id}" in category ${c.id}`,
            path: ['categories', ci, 'areas', ai, 'id'],
          });
        areas.add(a.id);
      });
    });
    checkPlans(d, ctx);
  });
export type Directory = z.infer<typeof Directory>;

function uniqueId(ctx: z.RefinementCtx, seen: Map<string, string>, what: string, path: (string | number)[]) {
  const id = what.split(' ')[1]!;
  if (seen.has(id)) ctx.addIssue({ code: 'custom', message: `duplicate id "${id}" (also ${seen.get(id)})`, path });
  else seen.set(id, what);
}


/** `a.b[2].c` from a zod issue path. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

/** Parses and validates directory text; errors name the file, the line and the path. */
export function parseDirectory(text: string, fileName = 'directory.json'): Directory {
  const parseErrors: ParseError[] = [];
  const tree = parseTree(text, parseErrors, { allowTrailingComma: false, disallowComments: false });
  if (parseErrors.length > 0 || !tree) {
    const e = parseErrors[0];
    const line = e ? lineOf(text, e.offset) : 1;
    throw new ConfigError(
      `${fileName}:${line}: not valid JSON (${e ? printParseErrorCode(e.error) : 'empty file'})`,
    );
  }
  const raw: unknown = getNodeValue(tree); // comments allowed: it is a hand-edited file
  const r = Directory.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.slice(0, 20).map((issue) => {
    // Point at the deepest node that exists: for a missing key that is its parent object.
    let node = undefined;
    for (let n = issue.path.length; n >= 0 && !node; n--)
      node = findNodeAtLocation(tree, issue.path.slice(0, n) as (string | number)[]);
    const line = node ? lineOf(text, node.offset) : 1;
    return `${fileName}:${line}: ${formatPath(issue.path) || '(root)'}: ${issue.message}`;
  });
  const more = r.error.issues.length > 20 ? `\n... and ${r.error.issues.length - 20} more` : '';
  throw new ConfigError(`Invalid directory:\n${lines.join('\n')}${more}`);
}

/** Reads and validates the directory file named in the configuration. */
export async function loadDirectory(file: string): Promise<Directory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read the directory file ${file}: ${(err as Error).message}`);
  }
  return parseDirectory(text, file);
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

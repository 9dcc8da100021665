import type { Activity, TurnContext } from 'botbuilder';
import type { Logger } from '../src/logger.js';
import type { MemberProfile } from './connectorSender.js';

/** Asks Teams for a member's profile, rejecting after `waitMs` without an answer. */
export type MemberLookup = (context: TurnContext, userId: string, waitMs: number) => Promise<MemberProfile>;

export interface ProfileLookupsOptions {
  lookup: MemberLookup;
  /** How long a lookup may take before the turn goes on without the profile. */
  waitMs: number;
  log: Logger;
  /** How long an answer is reused in the same conversation (default 10 minutes). */
  keepMs?: number;
  /** Answers kept at most; the oldest go first (default 1,000). */
  max?: number;
  now?: () => number;
}

/**
 * The Teams profile (it prefills the contact's e-mail, which the user could type) of a user in a
 * conversation, asked for once and reused by the later steps of the same report.
 *
 * "report outage" starts the lookup and answers at once (`start`); the step that shows the contact
 * card takes the answer (`get`), which has arrived by then: two cards and the user's typing later.
 * The first card no longer waits for a round trip to Teams, and a Teams that does not answer costs
 * that step at most `waitMs`, after which the e-mail is left to type. A failed lookup is not kept,
 * so the next step asks again. The answers are this process's own: another instance behind a load
 * balancer asks Teams itself.
 */
export class ProfileLookups {
  private readonly entries = new Map<string, { at: number; profile: Promise<MemberProfile | undefined> }>();
  private readonly keepMs: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(private readonly options: ProfileLookupsOptions) {
    this.keepMs = options.keepMs ?? 10 * 60_000;
    this.max = Math.max(1, options.max ?? 1_000);
    this.now = options.now ?? Date.now;
  }

  /** Starts the lookup for the turn's user, unless one is under way or answered recently. */
  start(context: TurnContext): void {
    void this.entry(context);
  }

  /** The turn's user's profile: the answer of a lookup started earlier, or of one started now. */
  get(context: TurnContext): Promise<MemberProfile | undefined> {
    return this.entry(context) ?? Promise.resolve(undefined);
  }

  private entry(context: TurnContext): Promise<MemberProfile | undefined> | undefined {
    const key = keyOf(context);
    if (!key) return undefined;
    const now = this.now();
    const found = this.entries.get(key);
    if (found && now - found.at < this.keepMs) return found.profile;
    if (found) this.entries.delete(key);
    const profile: Promise<MemberProfile | undefined> = this.options
      .lookup(context, context.activity.from.id, this.options.waitMs)
      .catch((err: unknown) => {
        if (this.entries.get(key)?.profile === profile) this.entries.delete(key); // ask again next time
        this.options.log.warn({ err: (err as Error).message }, 'could not read the Teams profile; contact not prefilled');
        return undefined;
      });
    this.entries.set(key, { at: now, profile });
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    return profile;
  }
}

/** Where a member's profile is asked for, as TeamsInfo.getMember asks: of the team in a team's channel, else of the conversation. */
export function memberScope(activity: Partial<Activity>): string | undefined {
  const team = (activity.channelData as { team?: { id?: unknown } } | undefined)?.team;
  return typeof team?.id === 'string' ? team.id : activity.conversation?.id;
}

/** Who asks, and where. */
function keyOf(context: TurnContext): string | undefined {
  const a = context.activity;
  const where = memberScope(a);
  if (!a.from?.id || !where) return undefined;
  return JSON.stringify([a.conversation?.tenantId ?? '', a.from.id, where]);
}

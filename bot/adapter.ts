import {
  type Activity,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type ConfigurationBotFrameworkAuthenticationOptions,
  type TurnContext,
} from 'botbuilder';
import { z } from 'zod';
import type { Config } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import type { ActivityResult, ActivityHandlerFn } from '../src/server.js';
import { AppError } from '../src/errors.js';
import { helpView } from '../src/flows/views.js';
import { renderCard } from './cards.js';

/** botbuilder's ConnectorClient, named through the API that makes it (botbuilder does not export the type). */
export type ConnectorClient = Awaited<
  ReturnType<ReturnType<ConfigurationBotFrameworkAuthentication['createConnectorFactory']>['create']>
>;

// The minimum an activity must have before botbuilder sees it. botbuilder's own parse throws
// outside its try block, so a malformed body would otherwise become a 500 (or a crash). Anything
// else is passed on as it came: the schema strips what it doesn't name and the request's own object
// is used once it passes (a loose schema copied every field of every activity, 2 % of a turn).
const IncomingActivity = z.object({
  type: z.string().min(1),
  id: z.string().optional(),
  channelId: z.string().min(1),
  serviceUrl: z.url(),
  conversation: z.object({ id: z.string().min(1) }),
  from: z.object({ id: z.string().min(1) }),
  // Every activity names the bot it is for; botbuilder reads it (mentions, replies) without a check.
  recipient: z.object({ id: z.string() }),
  timestamp: z.string().optional(),
  localTimestamp: z.string().optional(),
});

type ClaimsIdentity = Parameters<ConfigurationBotFrameworkAuthentication['createUserTokenClient']>[0];
type UserTokenClient = Awaited<ReturnType<ConfigurationBotFrameworkAuthentication['createUserTokenClient']>>;
type AuthenticateRequestResult = Awaited<ReturnType<ConfigurationBotFrameworkAuthentication['authenticateRequest']>>;

// botbuilder makes a new ConnectorClient and UserTokenClient for every incoming turn, each with its
// own HTTP pipeline: about 6 % of the CPU of a turn in the profiles. Their state is only the
// credentials, which depend on the bot's app id and the audience, and the service URL, so one of
// each per (identity, audience, service URL) serves every turn. A few service URLs exist per cloud;
// the bound only guards against a flood of made-up ones.
const MAX_CACHED_CLIENTS = 64;

/** Keeps one promise per key; a rejected one is dropped so that the next call tries again. */
function cached<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let hit = cache.get(key);
  if (!hit) {
    if (cache.size >= MAX_CACHED_CLIENTS) cache.clear();
    hit = make();
    cache.set(key, hit);
    hit.catch(() => cache.delete(key));
  }
  return hit;
}

/** The claims the credentials depend on: who the caller says the bot is (see getAppIdFromClaims). */
function identityKey(identity: ClaimsIdentity): string {
  return ['ver', 'appid', 'azp', 'aud'].map((type) => identity.getClaimValue(type) ?? '').join('|');
}

/** The configured authentication, with one user-token client per identity instead of one per turn. */
export class CachingBotFrameworkAuthentication extends ConfigurationBotFrameworkAuthentication {
  private readonly userTokenClients = new Map<string, Promise<UserTokenClient>>();

  override createUserTokenClient(identity: ClaimsIdentity): Promise<UserTokenClient> {
    return cached(this.userTokenClients, identityKey(identity), () => super.createUserTokenClient(identity));
  }
}

/** CloudAdapter whose failures map to proper HTTP answers: 400 bad body, 401 bad token. */
export class SupportAdapter extends CloudAdapter {
  /** Connector clients of incoming turns (see MAX_CACHED_CLIENTS); proactive sends keep their own. */
  private readonly turnClients = new Map<string, Promise<ConnectorClient>>();

  constructor(
    readonly auth: ConfigurationBotFrameworkAuthentication,
    private readonly log: Logger,
  ) {
    super(auth);
    this.onTurnError = async (context: TurnContext, error: Error) => {
      this.log.error({ err: error, activityType: context.activity.type }, 'turn failed');
      if (context.activity.type === 'message') {
        const message =
          error instanceof AppError
            ? error.userMessage
            : 'Something went wrong on our side. Nothing you typed is lost: try again in a moment.';
        await context.sendActivity({ attachments: [renderCard(helpView(message))] });
      }
    };
  }

  /**
   * A connector client that sends as the bot outside any turn, made exactly as
   * continueConversationAsync makes the one of each proactive turn (claims for botAppId, this
   * adapter's auth, the default audience), but for the caller to keep. With an app id its
   * credentials put the bot's token on every request, fetched and refreshed as it expires; in
   * local mode (no app id) they put none. Not named createConnectorClient: TeamsInfo calls a method
   * of that name, when the adapter has one, instead of using the turn's client.
   */
  connectorClientFor(botAppId: string, serviceUrl: string): Promise<ConnectorClient> {
    return this.auth.createConnectorFactory(this.createClaimsIdentity(botAppId)).create(serviceUrl);
  }

  /** The request's result with a connector factory that reuses the clients of earlier turns. */
  private withCachedClients(result: AuthenticateRequestResult): AuthenticateRequestResult {
    const factory = result.connectorFactory;
    if (!factory) return result;
    const identity = identityKey(result.claimsIdentity);
    return {
      ...result,
      connectorFactory: {
        create: (serviceUrl: string, audience?: string) =>
          cached(this.turnClients, `${identity}\n${audience ?? ''}\n${serviceUrl}`, () => factory.create(serviceUrl, audience)),
      },
    };
  }

  /** Authenticates, then runs one turn. Used by the HTTP route; returns the invoke response. */
  async handle(authHeader: string, body: unknown, logic: (c: TurnContext) => Promise<void>): Promise<ActivityResult> {
    const parsed = IncomingActivity.safeParse(body);
    if (!parsed.success)
      return { status: 400, body: { error: 'bad_activity', message: z.prettifyError(parsed.error) } };
    const activity = body as Activity & Record<string, unknown>; // checked above; the JSON parsed for this request
    for (const key of ['timestamp', 'localTimestamp'] as const) {
      const raw = parsed.data[key];
      if (raw) {
        const at = new Date(raw);
        if (Number.isNaN(at.getTime())) return { status: 400, body: { error: 'bad_activity', message: `${key} is not a date` } };
        activity[key === 'timestamp' ? 'rawTimestamp' : 'rawLocalTimestamp'] = raw;
        (activity as Record<string, unknown>)[key] = at;
      }
    }
    let authResult;
    try {
      authResult = await this.auth.authenticateRequest(activity, authHeader);
    } catch (err) {
      // The signing keys could not be fetched: our problem, and the channel should retry (503).
      const { statusCode, name } = err as { statusCode?: unknown; name?: string };
      const unreachable = name === 'FetchError' || err instanceof TypeError; // node-fetch / fetch
      if ((typeof statusCode === 'number' && statusCode >= 500) || unreachable) {
        this.log.error({ reason: (err as Error).message }, 'cannot validate tokens: signing keys unavailable');
        return { status: 503, body: { error: 'auth_unavailable' } };
      }
      // botbuilder reports a bad signature as a plain Error (500); to the caller it is a 401.
      this.log.warn({ reason: (err as Error).message }, 'rejected an unauthenticated request');
      return { status: 401, body: { error: 'unauthorized' } };
    }
    const invokeResponse = await this.processActivity(this.withCachedClients(authResult), activity, logic);
    return { status: invokeResponse?.status ?? 200, body: invokeResponse?.body };
  }
}

export function createAdapter(config: Config, logger: Logger, extra: Partial<ConfigurationBotFrameworkAuthenticationOptions> = {}): SupportAdapter {
  const auth = new CachingBotFrameworkAuthentication({
    MicrosoftAppId: config.MicrosoftAppId,
    MicrosoftAppPassword: config.MicrosoftAppPassword,
    MicrosoftAppType: config.MicrosoftAppType,
    MicrosoftAppTenantId: config.MicrosoftAppTenantId,
    ...extra,
  } as ConfigurationBotFrameworkAuthenticationOptions);
  return new SupportAdapter(auth, logger.child({ module: 'adapter' }));
}

/** The route handler the server calls for /api/messages. */
export function activityHandler(adapter: SupportAdapter, bot: { run(c: TurnContext): Promise<void> }): ActivityHandlerFn {
  return (authHeader, body) => adapter.handle(authHeader, body, (context) => bot.run(context));
}

import { createHttpHeaders, createPipelineRequest, type PipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import type { Activity } from 'botbuilder';
import { classifyHttpError } from '../src/outbox/notifier.js';
import type { ConnectorClient } from './adapter.js';

/**
 * The three Bot Connector calls a proactive send makes: a post (in a channel: a new thread), a
 * reply in a thread, an update of an earlier message. Each resolves to the id the service gave
 * the message; each rejects with what the service answered (a DeliveryError for an HTTP status).
 */
export interface ConnectorSender {
  post(conversationId: string, activity: Partial<Activity>, signal?: AbortSignal): Promise<{ id?: string }>;
  reply(conversationId: string, replyToId: string, activity: Partial<Activity>, signal?: AbortSignal): Promise<{ id?: string }>;
  update(conversationId: string, activityId: string, activity: Partial<Activity>, signal?: AbortSignal): Promise<{ id?: string }>;
}

/** The part of @azure/core-client's ServiceClient used here: run a request through its pipeline. */
interface PipelineClient {
  sendRequest(request: PipelineRequest): Promise<PipelineResponse>;
}

/**
 * Sends through a botbuilder connector client's own HTTP pipeline, with the request built here
 * instead of by botbuilder's operation layer. The pipeline is what gives a send its proxy settings
 * (HTTPS_PROXY, NO_PROXY), TLS, user agent and the bot's token (botbuilder's credentials policy);
 * all of that is kept. What is left out is the operation layer around it: mapping the activity
 * through the Activity model's serializer, the URL template and the response's deserializer, which
 * cost more than the HTTP request itself (per send, with a local connector answering, in one
 * process: about 290 µs through `conversations.sendToConversation`, 180 µs through the pipeline,
 * 90 µs over plain node:http). The activity is already plain JSON (what TurnContext would send), so
 * JSON.stringify sends what the serializer would.
 *
 * Paths and encoding are the Connector API's, as botframework-connector builds them
 * (`v3/conversations/{conversationId}/activities[/{activityId}]`, each part URI-encoded), and plain
 * http is allowed only for an http service URL, as botbuilder allows it (the local connector).
 *
 * Undefined when the client has no pipeline where botbuilder 4.23 keeps it (the caller falls back
 * to the client's operations: slower, the same requests).
 */
export function pipelineSender(client: ConnectorClient, serviceUrl: string): ConnectorSender | undefined {
  const connector = pipelineConnector(client, serviceUrl);
  if (!connector) return undefined;
  const activities = (conversationId: string, activityId?: string) =>
    `v3/conversations/${encodeURIComponent(conversationId)}/activities${activityId === undefined ? '' : `/${encodeURIComponent(activityId)}`}`;
  const call = async (method: 'POST' | 'PUT', path: string, activity: Partial<Activity>, signal?: AbortSignal) =>
    idOf(await connector(method, path, JSON.stringify(activity), signal));
  return {
    post: (conversationId, activity, signal) => call('POST', activities(conversationId), activity, signal),
    reply: (conversationId, replyToId, activity, signal) => call('POST', activities(conversationId, replyToId), activity, signal),
    update: (conversationId, activityId, activity, signal) => call('PUT', activities(conversationId, activityId), activity, signal),
  };
}

/** The fields of a conversation member (TeamsChannelAccount) the bot reads. */
export interface MemberProfile {
  name?: string;
  email?: string;
  userPrincipalName?: string;
}

/**
 * One member of a conversation (`GET v3/conversations/{conversationId}/members/{userId}`), as
 * TeamsInfo.getMember asks for it, through the client's pipeline: the outage and incident flows
 * prefill the contact from it once per report, and botbuilder's operation layer (its URL template
 * and the ChannelAccount mapper) cost more than the request. Undefined when the client has no
 * pipeline (the caller uses TeamsInfo). Rejects with a DeliveryError for an HTTP error status, and
 * when `signal` aborts (the request with it).
 */
export function pipelineMember(
  client: ConnectorClient,
  serviceUrl: string,
): ((conversationId: string, userId: string, signal?: AbortSignal) => Promise<MemberProfile>) | undefined {
  const connector = pipelineConnector(client, serviceUrl);
  if (!connector) return undefined;
  return async (conversationId, userId, signal) => {
    const body = await connector('GET', `v3/conversations/${encodeURIComponent(conversationId)}/members/${encodeURIComponent(userId)}`, undefined, signal);
    const member = body ? (JSON.parse(body) as unknown) : undefined;
    if (member === null || typeof member !== 'object') throw new Error('the member lookup answered with no member');
    const { name, email, userPrincipalName } = member as Record<string, unknown>;
    return {
      ...(typeof name === 'string' ? { name } : {}),
      ...(typeof email === 'string' ? { email } : {}),
      ...(typeof userPrincipalName === 'string' ? { userPrincipalName } : {}),
    };
  };
}

/** A request to the service URL through the client's pipeline: the 2xx answer's text, or a DeliveryError. */
type PipelineCall = (method: 'GET' | 'POST' | 'PUT', path: string, body?: string, signal?: AbortSignal) => Promise<string | undefined>;

function pipelineConnector(client: ConnectorClient, serviceUrl: string): PipelineCall | undefined {
  const service = (client as unknown as { client?: Partial<PipelineClient> }).client;
  if (typeof service?.sendRequest !== 'function') return undefined;
  const pipeline = service as PipelineClient;
  const base = serviceUrl.endsWith('/') ? serviceUrl : `${serviceUrl}/`;
  const allowInsecureConnection = base.toLowerCase().startsWith('http:');
  return async (method, path, body, abortSignal) => {
    const request = createPipelineRequest({
      url: base + path,
      method,
      abortSignal,
      allowInsecureConnection,
      headers: createHttpHeaders(
        body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json; charset=utf-8', accept: 'application/json' },
      ),
      ...(body === undefined ? {} : { body }),
    });
    const response = await pipeline.sendRequest(request);
    if (response.status < 200 || response.status >= 300)
      throw classifyHttpError(response.status, response.headers, new Date(), detailOf(response.bodyAsText));
    return response.bodyAsText ?? undefined;
  };
}

/** The same calls through the client's operations (botbuilder's operation layer; no abort). */
export function operationsSender(client: ConnectorClient): ConnectorSender {
  const { conversations } = client;
  return {
    post: (conversationId, activity) => conversations.sendToConversation(conversationId, activity),
    reply: (conversationId, replyToId, activity) => conversations.replyToActivity(conversationId, replyToId, activity),
    update: (conversationId, activityId, activity) => conversations.updateActivity(conversationId, activityId, activity),
  };
}

/** The ResourceResponse's id, if the body is one (an update may answer with an empty body). */
function idOf(body: string | null | undefined): { id?: string } {
  if (!body) return {};
  try {
    const id = (JSON.parse(body) as { id?: unknown } | null)?.id;
    return typeof id === 'string' && id ? { id } : {};
  } catch {
    return {}; // delivered all the same: the status said so
  }
}

/** What an error answer says: the Connector's `{ error: { code, message } }`, or its text. */
function detailOf(body: string | null | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const error = (JSON.parse(body) as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const parts = [error?.code, error?.message].filter((p): p is string => typeof p === 'string' && p !== '');
    if (parts.length) return parts.join(': ');
  } catch {
    // not JSON: the text itself
  }
  return body.slice(0, 200);
}

import { CardFactory, type MessagingExtensionAttachment, type MessagingExtensionResponse } from 'botbuilder';
import { z } from 'zod';
import type { IssueHit, IssueSearch } from '../src/search/issueSearch.js';
import { ISSUE_STATUSES } from '../src/search/knownIssue.js';
import { knownIssueView, parseSearchText } from '../src/search/searchViews.js';
import { renderCardJson } from './cards.js';

// The search-based message extension (composeExtension/query): Issue search from the compose box,
// each result an Adaptive Card the user can insert into the conversation (the same card as one
// entry of the chat results), with a thumbnail preview for the list. A request it cannot read gets
// a message, never an error: Teams shows a failed invoke as a broken flyout.

/** The command id in the manifest's composeExtensions (parameter `query`). */
export const SEARCH_COMMAND_ID = 'searchKnownIssues';
// The search core returns at most 50 results; Teams pages with skip/count (count 25 by default).
const MAX_RESULTS = 50;
const MAX_QUERY_CHARS = 1000;

const Parameter = z.object({ name: z.string(), value: z.unknown() }).loose();
const QueryInvoke = z
  .object({
    commandId: z.string().max(100),
    parameters: z.array(Parameter).max(20).default([]),
    queryOptions: z
      .object({
        skip: z.coerce.number().int().min(0).max(100_000).default(0),
        count: z.coerce.number().int().min(1).max(MAX_RESULTS).default(25),
      })
      .loose()
      .default({ skip: 0, count: 25 }),
  })
  .loose();

function message(text: string): MessagingExtensionResponse {
  return { composeExtension: { type: 'message', text } };
}

function attachment(hit: IssueHit): MessagingExtensionAttachment {
  const card = CardFactory.adaptiveCard(renderCardJson(knownIssueView(hit)));
  const preview = CardFactory.thumbnailCard(hit.issue.title, [], [], { text: `${hit.issue.kbNumber} · ${hit.issue.status}` });
  return { ...card, preview };
}

/**
 * Answers a composeExtension/query invoke. An empty query (and Teams' initial run) lists the most
 * recently updated known issues; the text takes the chat's syntax (AND / OR, status:, KB numbers).
 */
export function searchKnownIssues(search: IssueSearch, value: unknown): MessagingExtensionResponse {
  const parsed = QueryInvoke.safeParse(value);
  if (!parsed.success) return message("That search request couldn't be read. Type a few words to search known issues.");
  const { commandId, parameters, queryOptions } = parsed.data;
  if (commandId !== SEARCH_COMMAND_ID) return message(`This app has no search command “${commandId.slice(0, 40)}”.`);

  const param = parameters.find((p) => p.name === 'query');
  const raw = typeof param?.value === 'string' ? param.value : '';
  const text = parseSearchText(raw.slice(0, MAX_QUERY_CHARS));
  if (text.unknownStatus.length)
    return message(`Not a status: ${text.unknownStatus.join(', ') || '(empty)'}. Use one of ${ISSUE_STATUSES.join(', ')}.`);

  const { skip, count } = queryOptions;
  const hits = skip >= MAX_RESULTS ? [] : search.search(text.query, { status: text.status, limit: Math.min(MAX_RESULTS, skip + count) });
  return {
    composeExtension: { type: 'result', attachmentLayout: 'list', attachments: hits.slice(skip, skip + count).map(attachment) },
  };
}

/**
 * A message that only carries a card the user inserted from the message extension (Teams and the
 * Playground send it with no words, or an empty `inline-compose-card` span): it is meant for the
 * people in the conversation, so the bot does not answer it as a command.
 */
export function isInsertedCard(activity: { attachments?: { contentType?: string }[] | undefined }, text: string | undefined): boolean {
  const hasCard = activity.attachments?.some((a) => a.contentType === 'application/vnd.microsoft.card.adaptive') ?? false;
  const words = (text ?? '').replace(/<[^>]*>/g, ' ').replace(/&nbsp;|&#160;/g, ' ').trim();
  return hasCard && words === '';
}

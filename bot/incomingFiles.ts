import type { Activity, TurnContext } from 'botbuilder';
import { z } from 'zod';
import { downloadLimited } from '../src/attachments/download.js';
import type { Logger } from '../src/logger.js';
import type { FileFetcher, IncomingFile } from '../src/services/incidentService.js';

// Files in a Teams message, and how to download them. In personal chat Teams sends a file as
// `application/vnd.microsoft.teams.file.download.info` with a pre-authenticated `downloadUrl`
// (no token), and a pasted image as `image/*` with a `contentUrl` on the Bot Connector, which
// wants the bot's own token. The message text itself comes as a `text/html` attachment: not a file.

const FILE_DOWNLOAD_INFO = 'application/vnd.microsoft.teams.file.download.info';

const DownloadInfo = z.object({ downloadUrl: z.url(), fileType: z.string().optional() }).loose();

/** The files of a message activity (none for a plain text message or a card). */
export function incomingFiles(activity: Partial<Activity>): IncomingFile[] {
  const files: IncomingFile[] = [];
  for (const a of activity.attachments ?? []) {
    const type = (a.contentType ?? '').toLowerCase();
    if (type === FILE_DOWNLOAD_INFO) {
      const info = DownloadInfo.safeParse(a.content);
      if (info.success) files.push({ name: a.name ?? `file.${info.data.fileType ?? ''}`, contentType: type, url: info.data.downloadUrl, kind: 'file' });
    } else if (a.contentUrl && type !== 'text/html' && !type.startsWith('application/vnd.microsoft.card')) {
      files.push({ name: a.name ?? '', contentType: type, url: a.contentUrl, kind: 'inline' });
    }
  }
  return files;
}

// The bot's token goes only to the Bot Connector that sent the activity (never to a URL a message
// could point anywhere else).
function connectorHosted(url: string, serviceUrl: string | undefined): boolean {
  try {
    const host = new URL(url).host;
    return (serviceUrl !== undefined && host === new URL(serviceUrl).host) || /(^|\.)botframework\.com$|^smba\.trafficmanager\.net$/.test(host);
  } catch {
    return false;
  }
}

/** Downloads the turn's files: inline images with the bot's token (when it has one), files as they are. */
export function fileFetcher(context: TurnContext, log: Logger): FileFetcher {
  return async (file, maxBytes) => {
    const headers: Record<string, string> = {};
    if (file.kind === 'inline' && connectorHosted(file.url, context.activity.serviceUrl)) {
      const token = await botToken(context, log);
      if (token) headers.authorization = `Bearer ${token}`;
    }
    return downloadLimited(file.url, { maxBytes, headers });
  };
}

async function botToken(context: TurnContext, log: Logger): Promise<string | undefined> {
  // Local mode (no app id) has no credentials: the Playground serves its files without a token.
  const connector = context.turnState.get(context.adapter.ConnectorClientKey) as
    | { credentials?: { getToken?: (refresh?: boolean) => Promise<string> } }
    | undefined;
  const getToken = connector?.credentials?.getToken;
  if (typeof getToken !== 'function') return undefined;
  try {
    return (await getToken.call(connector!.credentials)) || undefined;
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'no bot token for an attachment download');
    return undefined;
  }
}

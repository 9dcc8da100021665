import type restify from 'restify';
import { ATTACHMENT_TYPES, formatSize } from '../attachments/attachmentPolicy.js';
import type { Ticket, TicketAttachment } from '../domain/ticket.js';
import type { ConversationContext, UserContext } from '../domain/user.js';
import type { Logger } from '../logger.js';
import { COLLECTIONS } from '../services/collections.js';
import { type AttachmentDoc, INCIDENT_COLLECTIONS } from '../services/incidentService.js';
import type { Store } from '../store/store.js';
import type { DialogSessions } from './dialogSessions.js';
import { guarded } from './httpErrors.js';
import { CONTENT_SECURITY_POLICY } from './webRoutes.js';

// A ticket's attachments, for the people who may see the ticket: the desk, its reporter and its
// project's members (DeskService.canSee). Cards have no file links that carry who is asking, so the
// desk and status cards' "Attachments" button opens a Teams dialog (task/fetch, authenticated by the
// Bot Framework) on a page of this server, and the dialog session in its URL is the page's
// credential: unguessable, an hour long, for that user and that one ticket. The Incidents tab (SSO)
// gets links under such a session with each ticket's page (links()). Every request checks again
// that the session's user may still see the ticket.
//
//   GET /dialogs/attachments?session=<id>                  the list, images shown
//   GET /dialogs/attachments/file?session=<id>&id=<att>[&download=1]   one file's bytes
//
// A file goes out with the type it was accepted as (attachmentPolicy.ts checked its first bytes),
// `nosniff`, and a sandbox policy; only images and text open in place, the rest download.

export const FILES_DIALOG_PATH = '/dialogs/attachments';
const FILE_PATH = `${FILES_DIALOG_PATH}/file`;
const TICKET_ID = /^(OUT|INC)-\d{1,9}$/;

export interface TicketFilesDeps {
  store: Store;
  files: { read(relative: string): Promise<Buffer> };
  sessions: Pick<DialogSessions, 'create' | 'get'>;
  /** Whether this user may see this ticket (DeskService.canSee). */
  canSee(user: UserContext, ticket: Ticket): boolean;
  logger: Logger;
}

export type OpenedFiles = { ok: true; session: string; ticket: Ticket } | { ok: false; message: string };

/** One file as a page shows it: its links carry a session for the viewer and the ticket. */
export interface FileLink {
  name: string;
  /** "PNG image, 190 KB". */
  about: string;
  /** Shown in place (images, text); else only downloaded. */
  opensInPlace: boolean;
  image: boolean;
  url: string;
  downloadUrl: string;
}

/** The links of a ticket's files under a session (relative to the server's root). */
export function fileLinks(sessionId: string, attachments: readonly TicketAttachment[]): FileLink[] {
  return attachments.map((a) => {
    const url = `${FILE_PATH}?session=${encodeURIComponent(sessionId)}&id=${encodeURIComponent(a.id)}`;
    return {
      name: a.name,
      about: `${typeLabel(a.contentType)}, ${formatSize(a.size)}`,
      opensInPlace: opensInPlace(a.contentType),
      image: a.contentType.startsWith('image/'),
      url,
      downloadUrl: `${url}&download=1`,
    };
  });
}

export class TicketFiles {
  private readonly log: Logger;

  constructor(private readonly deps: TicketFilesDeps) {
    this.log = deps.logger.child({ module: 'web.ticketFiles' });
  }

  /** A session that shows this ticket's files to this user, or why there is none. */
  async open(user: UserContext, conversation: ConversationContext, ticketId: string): Promise<OpenedFiles> {
    const id = ticketId.trim().toUpperCase();
    const ticket = TICKET_ID.test(id) ? await this.visible(user, id) : undefined;
    if (!ticket) return { ok: false, message: `I can't find ${id.slice(0, 20)} among the tickets you can see.` };
    if (!ticket.attachments?.length) return { ok: false, message: `${ticket.id} has no attachments.` };
    return { ok: true, session: await this.session(user, conversation, ticket), ticket };
  }

  /**
   * The files of a ticket the caller has read and found this user may see (the Incidents tab), as
   * links under a new session; none, and no session, when it has none.
   */
  async links(user: UserContext, conversation: ConversationContext, ticket: Ticket): Promise<FileLink[]> {
    if (!ticket.attachments?.length) return [];
    return fileLinks(await this.session(user, conversation, ticket), ticket.attachments);
  }

  private session(user: UserContext, conversation: ConversationContext, ticket: Ticket): Promise<string> {
    return this.deps.sessions.create(user, conversation, { ticketId: ticket.id });
  }

  routes(): (server: restify.Server) => void {
    return (server) => {
      server.get(FILES_DIALOG_PATH, guarded(this.log, async (req, res) => {
        const found = await this.granted(req);
        const theme = query(req).get('theme') ?? '';
        const shown = isTheme(theme) ? theme : 'default';
        if (!found) return sendPage(res, 404, notFoundPage(shown));
        sendPage(res, 200, listPage(found.ticket, found.sessionId, shown));
      }));

      server.get(FILE_PATH, guarded(this.log, async (req, res) => {
        const found = await this.granted(req);
        const attId = query(req).get('id') ?? '';
        const meta = found?.ticket.attachments?.find((a) => a.id === attId);
        if (!found || !meta) return sendPage(res, 404, notFoundPage());
        const doc = await this.deps.store.get<AttachmentDoc>(INCIDENT_COLLECTIONS.attachments, meta.id);
        let bytes: Buffer;
        try {
          if (!doc) throw new Error('no metadata');
          bytes = await this.deps.files.read(doc.value.path);
        } catch (err) {
          this.log.error({ err, ticketId: found.ticket.id, attachmentId: meta.id }, 'an attachment file is missing');
          return sendPage(res, 404, page('default', 'File not available', "<p>This file cannot be read on the server just now; the server's log has the details.</p>"));
        }
        const download = query(req).get('download') === '1' || !opensInPlace(meta.contentType);
        res.writeHead(200, {
          'Content-Type': contentTypeOf(meta.contentType),
          'Content-Length': String(bytes.length),
          'Content-Disposition': `${download ? 'attachment' : 'inline'}; ${fileNameParams(meta.name)}`,
          'X-Content-Type-Options': 'nosniff',
          'Content-Security-Policy': "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
          'Referrer-Policy': 'no-referrer',
          'Cache-Control': 'private, no-store',
        });
        res.end(bytes);
      }));
    };
  }

  /** The request's live session for a ticket, and that ticket if its user may still see it. */
  private async granted(req: restify.Request): Promise<{ sessionId: string; ticket: Ticket } | undefined> {
    const sessionId = query(req).get('session') ?? '';
    const session = await this.deps.sessions.get(sessionId);
    if (!session?.ticketId) return undefined;
    const ticket = await this.visible(session.user, session.ticketId);
    return ticket ? { sessionId, ticket } : undefined;
  }

  private async visible(user: UserContext, ticketId: string): Promise<Ticket | undefined> {
    const stored = await this.deps.store.get<Ticket>(COLLECTIONS.tickets, ticketId);
    return stored && this.deps.canSee(user, stored.value) ? stored.value : undefined;
  }
}

const query = (req: restify.Request) => new URL(req.url ?? '/', 'http://localhost').searchParams;

const opensInPlace = (contentType: string) => contentType.startsWith('image/') || contentType === 'text/plain';

/** The type the file was accepted as; anything else (an older store, a hand edit) as bare bytes. */
function contentTypeOf(stored: string): string {
  if (!ATTACHMENT_TYPES.some((t) => t.contentType === stored)) return 'application/octet-stream';
  return stored === 'text/plain' ? 'text/plain; charset=utf-8' : stored;
}

/** `filename` for old clients (ASCII, no quotes), `filename*` (RFC 6266 / 8187) with the real name. */
export function fileNameParams(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_') || 'attachment';
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function typeLabel(contentType: string): string {
  return ATTACHMENT_TYPES.find((t) => t.contentType === contentType)?.label ?? 'file';
}

function fileRow(f: FileLink): string {
  const name = escapeHtml(f.name);
  // Relative, as the other pages' links are (the page is /dialogs/attachments): a server behind a
  // path prefix still works.
  const [url, downloadUrl] = [escapeHtml(`..${f.url}`), escapeHtml(`..${f.downloadUrl}`)];
  const preview = f.image
    ? `<a href="${url}" target="_blank" rel="noopener"><img class="file-preview" src="${url}" alt="${name}" /></a>`
    : '';
  const open = f.opensInPlace ? `<a href="${url}" target="_blank" rel="noopener">Open</a> · ` : '';
  return (
    `<li class="file"><p class="file-name">${name}</p>` +
    `<p class="quiet">${escapeHtml(f.about)} · ${open}<a href="${downloadUrl}" download="${name}">Download</a></p>${preview}</li>`
  );
}

/** Teams' themes, as style.css keys them (data-theme). */
const THEMES = ['default', 'dark', 'contrast'] as const;
export type Theme = (typeof THEMES)[number];
export const isTheme = (value: string): value is Theme => (THEMES as readonly string[]).includes(value);

function listPage(t: Ticket, sessionId: string, theme: Theme): string {
  const files = t.attachments ?? [];
  return page(
    theme,
    `${t.id} attachments`,
    `<p class="quiet">${escapeHtml(`${t.id}: ${t.title}`)} · ${files.length === 1 ? '1 file' : `${files.length} files`} sent by ${escapeHtml(t.reporter.name)}</p>` +
      `<ul class="files">${fileLinks(sessionId, files).map(fileRow).join('')}</ul>`,
  );
}

function notFoundPage(theme: Theme = 'default'): string {
  return page(
    theme,
    'Attachments not available',
    "<p>This link has expired or is not valid, or the ticket is no longer one you can see. Open the attachments again from the ticket's card, or from its page in the Incidents tab.</p>",
  );
}

/** A whole page; `body` is HTML already escaped. The CSP of the other pages: no script at all here. */
function page(theme: Theme, title: string, body: string): string {
  return (
    `<!doctype html><html lang="en" data-theme="${theme}"><head><meta charset="utf-8" />` +
    '<meta name="viewport" content="width=device-width, initial-scale=1" />' +
    `<title>${escapeHtml(title)}</title><link rel="icon" href="data:," /><link rel="stylesheet" href="../web/style.css" />` +
    `</head><body><main class="page"><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`
  );
}

function sendPage(res: restify.Response, status: number, html: string): void {
  const body = Buffer.from(html, 'utf8');
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': String(body.length),
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

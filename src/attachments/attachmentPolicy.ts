// What may be attached to an incident, and how a file is recognised. Support engineers open these
// files, so the list is short and each file must be what its name says: the first bytes are
// checked against the type (a renamed .exe is refused), and text files must hold no NUL bytes.
//
// Allowed: screenshots (PNG, JPEG, GIF, BMP), PDF, plain text and logs (.txt, .log), and ZIP (how
// trace and log bundles are collected). Each at most 10 MB (Teams shows larger files as links
// anyway), at most 5 per incident.

export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
export const MAX_ATTACHMENTS = 5;

export interface AttachmentType {
  /** The label users read: "PNG image". */
  label: string;
  extensions: readonly string[];
  /** The stored content type. */
  contentType: string;
  /** Whether the first bytes of a file are of this type. */
  sniff(head: Uint8Array): boolean;
}

const startsWith = (head: Uint8Array, ...bytes: number[]) => bytes.every((b, i) => head[i] === b);

export const ATTACHMENT_TYPES: readonly AttachmentType[] = [
  { label: 'PNG image', extensions: ['png'], contentType: 'image/png', sniff: (h) => startsWith(h, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a) },
  { label: 'JPEG image', extensions: ['jpg', 'jpeg'], contentType: 'image/jpeg', sniff: (h) => startsWith(h, 0xff, 0xd8, 0xff) },
  { label: 'GIF image', extensions: ['gif'], contentType: 'image/gif', sniff: (h) => startsWith(h, 0x47, 0x49, 0x46, 0x38) },
  { label: 'BMP image', extensions: ['bmp'], contentType: 'image/bmp', sniff: (h) => startsWith(h, 0x42, 0x4d) },
  { label: 'PDF document', extensions: ['pdf'], contentType: 'application/pdf', sniff: (h) => startsWith(h, 0x25, 0x50, 0x44, 0x46, 0x2d) },
  { label: 'text file', extensions: ['txt', 'log'], contentType: 'text/plain', sniff: (h) => !h.includes(0) },
  // PK\3\4 (a ZIP with files) or PK\5\6 (an empty one).
  { label: 'ZIP archive', extensions: ['zip'], contentType: 'application/zip', sniff: (h) => startsWith(h, 0x50, 0x4b, 0x03, 0x04) || startsWith(h, 0x50, 0x4b, 0x05, 0x06) },
];

/** "PNG, JPEG, GIF, BMP, PDF, TXT, LOG or ZIP": for the cards. */
export const ALLOWED_TYPES_TEXT = (() => {
  const all = ATTACHMENT_TYPES.flatMap((t) => t.extensions.filter((e) => e !== 'jpeg')).map((e) => e.toUpperCase());
  return `${all.slice(0, -1).join(', ')} or ${all.at(-1)}`;
})();

/** How many bytes sniff() needs (text files: the first 8 KB are checked for NUL bytes). */
export const SNIFF_BYTES = 8192;

/** Inline images pasted into a Teams message have no file name: their content type names them. */
const INLINE_EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/gif': 'gif',
  'image/bmp': 'bmp',
};

/** The extension of a file name, or of an inline image's content type. */
export function extensionOf(name: string, contentType = ''): string {
  const m = /\.([A-Za-z0-9]{1,8})$/.exec(name.trim());
  if (m) return m[1]!.toLowerCase();
  return INLINE_EXTENSIONS[contentType.toLowerCase().split(';')[0]!.trim()] ?? '';
}

/** The allowed type a file's name (or content type) declares, if any. */
export function declaredType(name: string, contentType = ''): AttachmentType | undefined {
  const ext = extensionOf(name, contentType);
  return ATTACHMENT_TYPES.find((t) => t.extensions.includes(ext));
}

/** A file name fit to show and store as metadata: no path, no control characters, at most 120 characters. */
export function displayName(name: string, fallback: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  if (!clean) return fallback;
  if (clean.length <= 120) return clean;
  const ext = extensionOf(clean);
  return `${clean.slice(0, 110)}…${ext ? `.${ext}` : ''}`;
}

/** "1.2 MB", "340 KB", "12 bytes". */
export function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} byte${bytes === 1 ? '' : 's'}`;
}

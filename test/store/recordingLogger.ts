// A StoreLogger that keeps what the store logged, for the store's own tests.

import type { StoreLogger } from '../../src/store/storeLogger.js';

export interface LogLine {
  level: string;
  obj: object;
  msg?: string;
}

export function recordingLogger(): StoreLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

import { createRequire } from 'node:module';
import { pino } from 'pino';

/** The logger port: pino's shape, so services can take `logger.child({ module })`. */
export type Logger = pino.Logger;

const redact = {
  // Never log credentials or tokens, wherever they appear in a logged object.
  paths: ['*.authorization', '*.headers.authorization', '*.MicrosoftAppPassword', '*.password', '*.accessId', '*.secret'],
  censor: '[redacted]',
};

/** JSON lines for machines; readable lines when a person watches a terminal (and pino-pretty is installed). */
export function createLogger(level: string, pretty = process.stdout.isTTY === true): Logger {
  if (pretty && hasPrettyPrinter())
    return pino({ level, redact, transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss', ignore: 'pid,hostname' } } });
  return pino({ level, redact });
}

function hasPrettyPrinter(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false; // a production install without dev dependencies: plain JSON it is
  }
}

/** A logger that drops everything: for tests. */
export const silentLogger: Logger = pino({ level: 'silent' });

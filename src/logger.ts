import { pino } from 'pino';

/** The logger port: pino's shape, so services can take `logger.child({ module })`. */
export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({
    level,
    // Never log credentials or tokens, wherever they appear in a logged object.
    redact: {
      paths: ['*.authorization', '*.headers.authorization', '*.MicrosoftAppPassword', '*.password', '*.accessId'],
      censor: '[redacted]',
    },
  });
}

/** A logger that drops everything: for tests. */
export const silentLogger: Logger = pino({ level: 'silent' });

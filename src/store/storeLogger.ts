// The store logs through an injected pino-like logger so that it never writes to the console.

/** The subset of pino's logger the store uses (a pino Logger satisfies it). */
export interface StoreLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** For callers that pass no logger: the store still reports failures through thrown errors. */
export const silentLogger: StoreLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

// Typed errors thrown inside; only the boundaries (HTTP routes, onTurnError, the invoke dispatcher)
// turn them into a reply. `userMessage` is fit to show a person; `message` is for the log.

export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly userMessage: string,
    readonly httpStatus = 400,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${userMessage}`, options);
    this.name = 'AppError';
  }
}

/** Configuration or directory file is invalid; the message names the bad setting or path. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

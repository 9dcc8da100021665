import type restify from 'restify';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';

type Handler = (req: restify.Request, res: restify.Response) => Promise<void>;

/**
 * The web API's error boundary: an AppError becomes its status and user message, anything else a
 * 500 that says nothing was lost (the page keeps what was typed); the details go to the log only.
 */
export function guarded(log: Logger, handler: Handler): Handler {
  return async (req, res) => {
    try {
      await handler(req, res);
    } catch (err) {
      if (res.headersSent) {
        log.error({ err, path: req.path() }, 'web request failed after answering');
        return;
      }
      if (err instanceof AppError) {
        log.warn({ code: err.code, path: req.path() }, 'web request refused');
        res.send(err.httpStatus, { error: err.code, message: err.userMessage });
        return;
      }
      log.error({ err, path: req.path() }, 'web request failed');
      res.send(500, {
        error: 'internal_error',
        message: 'Something went wrong on our side. Nothing you typed is lost: try again in a moment.',
      });
    }
  };
}

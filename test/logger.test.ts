import { expect } from 'chai';
import { Writable } from 'node:stream';
import { CENSOR, censorSecrets, createLogger } from '../src/logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, logger: createLogger('info', false, stream) };
}

describe('logger', () => {
  it('never writes a credential or token that a logged object carries one level down', async () => {
    const { lines, logger } = capture();
    const request = { method: 'POST', headers: { authorization: 'Bearer eyJ.secret.token', 'content-type': 'application/json' } };
    const config = { MicrosoftAppId: 'app', MicrosoftAppPassword: 'hunter2' };
    const input = { accessId: 'A-123', password: 'p', secret: 's', authorization: 'Basic x', name: 'kept' };
    logger.child({ module: 'test' }).info({ request, config, input, ticketId: 'OUT-1' }, 'something');
    await new Promise((r) => setImmediate(r));
    const line = lines[0]!;
    const text = JSON.stringify(line);
    for (const leaked of ['eyJ.secret.token', 'hunter2', 'A-123', '"p"', '"s"', 'Basic x']) expect(text).not.to.include(leaked);
    expect(line.request).to.deep.equal({ method: 'POST', headers: { authorization: CENSOR, 'content-type': 'application/json' } });
    expect(line.config).to.deep.equal({ MicrosoftAppId: 'app', MicrosoftAppPassword: CENSOR });
    expect(line.input).to.deep.equal({ accessId: CENSOR, password: CENSOR, secret: CENSOR, authorization: CENSOR, name: 'kept' });
    expect(line.ticketId).to.equal('OUT-1');
    expect(line.module).to.equal('test');
    // The caller's objects are left as they were.
    expect(request.headers.authorization).to.equal('Bearer eyJ.secret.token');
    expect(config.MicrosoftAppPassword).to.equal('hunter2');
  });

  it('keeps an error an error (message, stack, type) when it carries a secret', async () => {
    const { lines, logger } = capture();
    const err = Object.assign(new TypeError('connector refused'), { authorization: 'Bearer t' });
    logger.error({ err }, 'failed');
    await new Promise((r) => setImmediate(r));
    const logged = lines[0]!.err as Record<string, unknown>;
    expect(logged.message).to.equal('connector refused');
    expect(logged.type).to.equal('TypeError');
    expect(String(logged.stack)).to.include('connector refused');
    expect(logged.authorization).to.equal(CENSOR);
    expect(err.authorization).to.equal('Bearer t');
  });

  it('hands back the very object when there is nothing to censor', () => {
    const obj = { ticketId: 'OUT-1', verb: 'desk.acknowledge', nested: { a: 1 }, list: [{ password: 'in a list: not a property of the list' }] };
    expect(censorSecrets(obj)).to.equal(obj);
  });
});

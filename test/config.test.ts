import { expect } from 'chai';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

describe('config', () => {
  it('defaults to local mode on port 3978 with the demo directory', () => {
    const c = loadConfig({});
    expect(c.localMode).to.equal(true);
    expect(c.PORT).to.equal(3978);
    expect(c.DIRECTORY_FILE).to.match(/directory\.demo\.json$/);
  });
  const bad: [string, NodeJS.ProcessEnv, RegExp][] = [
    ['a port that is not a number', { PORT: 'eighty' }, /PORT/],
    ['a port out of range', { PORT: '70000' }, /PORT/],
    ['an unknown log level', { LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    ['an app id without a password', { MicrosoftAppId: 'abc' }, /MicrosoftAppPassword is required/],
    ['single tenant without a tenant id', { MicrosoftAppId: 'abc', MicrosoftAppPassword: 'x', MicrosoftAppType: 'SingleTenant' }, /MicrosoftAppTenantId/],
    ['an unknown app type', { MicrosoftAppType: 'Whatever' }, /MicrosoftAppType/],
    ['a negative heap growth', { HEAP_GROWING_PERCENT: '-5' }, /HEAP_GROWING_PERCENT/],
  ];
  for (const [name, env, re] of bad)
    it(`rejects ${name}, naming the variable`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, re);
    });
  it('leaves local mode when an app id is set', () => {
    expect(loadConfig({ MicrosoftAppId: 'abc', MicrosoftAppPassword: 's3cret' }).localMode).to.equal(false);
  });
  it('never puts the password in an error message', () => {
    try {
      loadConfig({ MicrosoftAppId: 'abc', MicrosoftAppPassword: 'hunter2', PORT: 'x' });
      expect.fail('should throw');
    } catch (err) {
      expect((err as Error).message).not.to.include('hunter2');
    }
  });
});

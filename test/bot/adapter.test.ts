import { expect } from 'chai';
import type { TurnContext } from 'botbuilder';
import { createAdapter } from '../../bot/adapter.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';

describe('SupportAdapter clients per turn', () => {
  const activity = (serviceUrl: string, id: string) => ({
    type: 'message',
    id,
    text: 'help',
    channelId: 'msteams',
    serviceUrl,
    conversation: { id: 'conv-1' },
    from: { id: 'user-1' },
    recipient: { id: 'bot' },
  });

  /** The connector and user-token clients botbuilder gave each turn. */
  async function clientsOfTurns(serviceUrls: string[]): Promise<{ connector: unknown; userToken: unknown }[]> {
    const adapter = createAdapter(loadConfig({}), silentLogger);
    const seen: { connector: unknown; userToken: unknown }[] = [];
    for (const [n, url] of serviceUrls.entries()) {
      const result = await adapter.handle('', activity(url, `a-${n}`), async (context: TurnContext) => {
        seen.push({
          connector: context.turnState.get(adapter.ConnectorClientKey),
          userToken: context.turnState.get(adapter.UserTokenClientKey),
        });
      });
      expect(result.status).to.equal(200);
    }
    return seen;
  }

  it('reuses one connector client and one user-token client for turns from the same service URL', async () => {
    const [a, b] = await clientsOfTurns(['http://127.0.0.1:9/teams/', 'http://127.0.0.1:9/teams/']);
    expect(a?.connector).to.be.an('object');
    expect(b?.connector).to.equal(a?.connector);
    expect(a?.userToken).to.be.an('object');
    expect(b?.userToken).to.equal(a?.userToken);
  });

  it('gives a turn from another service URL a client of its own, addressed to that URL', async () => {
    const [a, b] = await clientsOfTurns(['http://127.0.0.1:9/emea/', 'http://127.0.0.1:9/amer/']);
    expect(b?.connector).to.not.equal(a?.connector);
    const baseUri = (c: unknown) => (c as { baseUri?: string; client?: { baseUri?: string } }).baseUri;
    expect([baseUri(a?.connector), baseUri(b?.connector)]).to.deep.equal(['http://127.0.0.1:9/emea/', 'http://127.0.0.1:9/amer/']);
  });
});

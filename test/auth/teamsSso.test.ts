import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import {
  bearerToken,
  CLOCK_SKEW_SECONDS,
  checkClaims,
  SsoRejectedError,
  SsoUnavailableError,
  TeamsSso,
  type TeamsSsoOptions,
} from '../../src/auth/teamsSso.js';
import { silentLogger } from '../../src/logger.js';
import { ManualClock } from '../../src/time.js';
import { APP_ID, closedPortUrl, HOST, jwt, KID, type OpenIdServer, rsa, ssoClaims, startOpenIdServer } from './ssoFixtures.js';

// Teams SSO token validation against a local OpenID metadata document and JWKS (no internet).

const OID = '00000000-0000-0000-0000-0000000000020';
const TID = '00000000-0000-0000-0000-0000000000001';
const ALEX = { oid: OID, tid: TID };
const NOW = new Date('2026-11-21T14:00:00Z');

describe('teamsSso', () => {
  const entra = rsa();
  const stranger = rsa();
  let openId: OpenIdServer;
  let clock: ManualClock;

  before(async () => {
    openId = await startOpenIdServer([{ kid: KID, publicKey: entra.publicKey }]);
  });
  after(() => openId?.stop());
  beforeEach(() => {
    openId.requests.length = 0;
    openId.failing = false;
    clock = new ManualClock(NOW);
  });

  const sso = (extra: Partial<TeamsSsoOptions> = {}) =>
    new TeamsSso({ appId: APP_ID, host: HOST, metadataUrl: openId.metadataUrl, clock, logger: silentLogger, ...extra });
  const claims = (extra: Record<string, unknown> = {}) => ssoClaims(ALEX, extra, clock.now().getTime());
  const bearer = (token: string) => `Bearer ${token}`;
  const signed = (extra: Record<string, unknown> = {}) => bearer(jwt(claims(extra), entra.privateKey));

  async function rejected(verifier: TeamsSso, header: string | undefined): Promise<SsoRejectedError> {
    try {
      await verifier.verify(header);
    } catch (err) {
      expect(err).to.be.instanceOf(SsoRejectedError);
      expect((err as SsoRejectedError).httpStatus).to.equal(401);
      return err as SsoRejectedError;
    }
    throw new Error('the token was accepted');
  }

  it('accepts a v2 token for the app id and names the user by oid and tid', async () => {
    const user = await sso().verify(signed());
    expect(user).to.deep.equal({ aadObjectId: OID, tenantId: TID, name: 'Alex Wilber', email: 'alexw@example.com' });
  });

  it('accepts a v1 token (sts.windows.net) for api://<host>/<app id>', async () => {
    const v1 = claims({ iss: `https://sts.windows.net/${TID}/`, aud: `api://${HOST}/${APP_ID}`, ver: '1.0', upn: 'alexw@example.com', preferred_username: undefined });
    const user = await sso().verify(bearer(jwt(v1, entra.privateKey, { kid: undefined, x5t: KID })));
    expect(user).to.include({ aadObjectId: OID, tenantId: TID, email: 'alexw@example.com' });
  });

  it('lower-cases the ids, as the rest of the product stores them', async () => {
    const user = await sso().verify(bearer(jwt(ssoClaims({ oid: 'ABCDEF00-0000-0000-0000-000000000001', tid: 'ABCDEF00-0000-0000-0000-000000000002' }, {}, NOW.getTime()), entra.privateKey)));
    expect(user).to.include({ aadObjectId: 'abcdef00-0000-0000-0000-000000000001', tenantId: 'abcdef00-0000-0000-0000-000000000002' });
  });

  it('fetches the metadata and keys once, then verifies from the cache', async () => {
    const verifier = sso();
    for (let i = 0; i < 5; i++) await verifier.verify(signed());
    expect(openId.requests).to.deep.equal(['/common/v2.0/.well-known/openid-configuration', '/common/discovery/v2.0/keys']);
  });

  it('rejects a token signed by another key under the same key id', async () => {
    expect((await rejected(sso(), bearer(jwt(claims(), stranger.privateKey)))).reason).to.equal('bad signature');
  });

  it('rejects a token whose payload was altered after signing', async () => {
    const [head, , sig] = jwt(claims(), entra.privateKey).split('.');
    const forged = Buffer.from(JSON.stringify(claims({ oid: '00000000-0000-0000-0000-0000000000021' }))).toString('base64url');
    expect((await rejected(sso(), bearer(`${head}.${forged}.${sig}`))).reason).to.equal('bad signature');
  });

  it('rejects a key id the JWKS does not have, asking for the keys again at most every few minutes', async () => {
    const verifier = sso();
    await verifier.verify(signed());
    const unknownKid = bearer(jwt(claims(), stranger.privateKey, { kid: 'not-a-key' }));
    expect((await rejected(verifier, unknownKid)).reason).to.equal('unknown key not-a-key');
    await rejected(verifier, unknownKid);
    expect(openId.requests).to.have.length(2); // no refetch within five minutes
    clock.advance(6 * 60_000);
    await rejected(verifier, unknownKid);
    expect(openId.requests).to.have.length(4); // a rollover is picked up after that
  });

  it('rejects a token for another app', async () => {
    expect((await rejected(sso(), signed({ aud: randomUUID() }))).reason).to.match(/^audience/);
    expect((await rejected(sso(), signed({ aud: `api://evil.example/${APP_ID}` }))).reason).to.match(/^audience/);
  });

  it('rejects an issuer that is not Entra ID, or not the token’s own tenant', async () => {
    expect((await rejected(sso(), signed({ iss: 'https://evil.example/v2.0' }))).reason).to.match(/^issuer/);
    const otherTenant = `https://login.microsoftonline.com/${'11111111-1111-1111-1111-111111111111'}/v2.0`;
    expect((await rejected(sso(), signed({ iss: otherTenant }))).reason).to.match(/^issuer/);
  });

  it(`rejects a token expired more than ${CLOCK_SKEW_SECONDS / 60} minutes ago, and accepts one within the clock skew`, async () => {
    const s = NOW.getTime() / 1000;
    expect((await rejected(sso(), signed({ iat: s - 7200, nbf: s - 7200, exp: s - CLOCK_SKEW_SECONDS - 5 }))).reason).to.equal('expired');
    expect(await sso().verify(signed({ iat: s - 3600, nbf: s - 3600, exp: s - 60 }))).to.include({ aadObjectId: OID });
  });

  it('rejects a token that is not valid yet', async () => {
    const s = NOW.getTime() / 1000;
    expect((await rejected(sso(), signed({ nbf: s + 3600, exp: s + 7200 }))).reason).to.equal('not valid yet');
  });

  for (const missing of ['oid', 'tid', 'exp', 'aud'])
    it(`rejects a token without ${missing}`, async () => {
      expect((await rejected(sso(), signed({ [missing]: undefined }))).reason).to.include(missing);
    });

  it('rejects ids that are not Entra ids', async () => {
    await rejected(sso(), signed({ oid: '../../etc/passwd' }));
  });

  it('rejects unsigned and HMAC tokens, garbage and other schemes', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    expect((await rejected(sso(), bearer(`${b64({ alg: 'none', kid: KID })}.${b64(claims())}.`))).reason).to.match(/algorithm none/);
    expect((await rejected(sso(), bearer(`${b64({ alg: 'HS256', kid: KID })}.${b64(claims())}.c2ln`))).reason).to.match(/algorithm HS256/);
    expect((await rejected(sso(), bearer('not.a.token!'))).reason).to.equal('not a compact JWT');
    expect((await rejected(sso(), bearer('e30.bm90IGpzb24.c2ln'))).reason).to.match(/payload is not a JSON object/);
    expect((await rejected(sso(), undefined)).reason).to.equal('no Bearer token');
    expect((await rejected(sso(), `Basic ${Buffer.from('a:b').toString('base64')}`)).reason).to.equal('no Bearer token');
    expect(openId.requests).to.deep.equal([]); // none of these cost a key fetch
  });

  it('accepts only the app’s tenant when it is single-tenant', async () => {
    const single = sso({ tenantId: TID });
    expect(await single.verify(signed())).to.include({ tenantId: TID });
    const fabrikam = { oid: '11111111-0000-0000-0000-000000000001', tid: '11111111-1111-1111-1111-111111111111' };
    expect((await rejected(single, bearer(jwt(ssoClaims(fabrikam, {}, NOW.getTime()), entra.privateKey)))).reason).to.match(/^tenant/);
  });

  it('answers 503 when the metadata cannot be fetched, and does not hammer it', async () => {
    const down = sso({ metadataUrl: await closedPortUrl() });
    try {
      await down.verify(signed());
      expect.fail('verified without keys');
    } catch (err) {
      expect(err).to.be.instanceOf(SsoUnavailableError);
      expect((err as SsoUnavailableError).httpStatus).to.equal(503);
    }
    const failing = sso();
    openId.failing = true;
    for (let i = 0; i < 3; i++) {
      const outcome = await failing.verify(signed()).then(() => 'verified', (err: unknown) => err);
      expect(outcome).to.be.instanceOf(SsoUnavailableError);
    }
    expect(openId.requests).to.have.length(1); // backed off after the first failure
    openId.failing = false;
    clock.advance(11_000);
    expect(await failing.verify(signed())).to.include({ aadObjectId: OID });
  });

  it('keeps verifying with the keys it holds when a refresh fails', async () => {
    const verifier = sso();
    await verifier.verify(signed());
    openId.failing = true;
    clock.advance(25 * 3600_000); // the keys are due for a refresh, which fails
    expect(await verifier.verify(signed())).to.include({ aadObjectId: OID });
  });

  it('checkClaims is pure: the rules, a time, the claims', () => {
    const rules = { audiences: [APP_ID], now: NOW };
    expect(checkClaims(ssoClaims(ALEX, {}, NOW.getTime()), rules).oid).to.equal(OID);
    expect(() => checkClaims(ssoClaims(ALEX, { aud: [APP_ID, 'other'] }, NOW.getTime()), rules)).to.not.throw();
    expect(() => checkClaims(ssoClaims(ALEX, {}, NOW.getTime() - 2 * 3600_000), rules)).to.throw(SsoRejectedError);
  });

  it('reads a Bearer header, and nothing else', () => {
    expect(bearerToken('Bearer abc.def.ghi')).to.equal('abc.def.ghi');
    expect(bearerToken('bearer abc')).to.equal('abc');
    expect(bearerToken('Bearer')).to.equal(undefined);
    expect(bearerToken('Bearer a b')).to.equal(undefined);
    expect(bearerToken(undefined)).to.equal(undefined);
  });
});

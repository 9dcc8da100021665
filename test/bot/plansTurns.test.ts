import { expect } from 'chai';
import { DEMO_CONTRACTS } from '../../src/plans/demoPlans.js';
import { ManualClock } from '../../src/time.js';
import { recordingLogger } from '../plans/planFixtures.js';
import {
  actionData,
  ALEX,
  type BotUnderTest,
  cardOf,
  cardText,
  type Connector,
  type Conv,
  inputValues,
  invoke,
  ISAIAH,
  MEGAN,
  message,
  personal,
  removeDir,
  startBot,
  startConnector,
  type Who,
} from '../helpers/botHarness.js';

// "support plans" turn by turn, over real HTTP against the real embedded store and the demo
// directory (config/directory.demo.json), as the Playground journey will drive it.

const [ACCESS, PASSWORD] = DEMO_CONTRACTS;
const WRONG = 'not-the-access-id-42';

describe('support plans over HTTP', () => {
  let connector: Connector;
  let bot: BotUnderTest;
  let clock: ManualClock;
  let conv: Conv;

  before(async () => {
    connector = await startConnector();
  });
  after(async () => connector.stop());
  beforeEach(async () => {
    clock = new ManualClock(new Date('2026-11-21T14:00:00Z'));
    bot = await startBot({ clock });
    conv = personal();
  });
  afterEach(async () => {
    await bot.stop();
    removeDir(bot.dataDir);
  });

  async function say(who: Who, text: string, target = bot) {
    const res = await target.post(message(connector.url, who, conv, text));
    expect(res.status).to.equal(200);
    return cardOf(res.body);
  }
  async function pressRaw(who: Who, card: any, verb: string, inputs: Record<string, string> = {}) {
    const res = await bot.post(
      invoke(connector.url, who, conv, verb, { ...inputValues(card), ...inputs, ...actionData(card, verb) }),
    );
    expect(res.status).to.equal(200);
    expect(res.body.statusCode).to.equal(200);
    return res.body;
  }
  const press = async (who: Who, card: any, verb: string, inputs: Record<string, string> = {}) =>
    cardOf(await pressRaw(who, card, verb, inputs));

  /** The entitlement block whose title line is `title`, up to the next title. */
  function block(text: string, title: string): string {
    const lines = text.split('\n');
    const at = lines.indexOf(`**${title}**`);
    if (at < 0) throw new Error(`no ${title} on the card:\n${text}`);
    const end = lines.findIndex((l, i) => i > at && (l.startsWith('**') || l.startsWith('(')));
    return lines.slice(at, end < 0 ? undefined : end).join('\n');
  }

  async function addContract(card: any, contractId: string, secret: string) {
    const form = await press(ALEX, card, 'plans.addContractForm');
    return press(ALEX, form, 'plans.addContract', { contractId, secret });
  }

  it('shows Alex the demo plans grouped as LCS groups them, each with why and the incidents', async () => {
    const card = await say(ALEX, 'support plans');
    const text = cardText(card);
    expect(text).to.include('Contoso Ltd: Contoso Finance and Operations (cloud)');
    const groups = [
      'Contract ID / access ID',
      'PartnerSource Business Center account',
      'Login-specific',
      'Tenant subscription',
      'Software Assurance',
    ];
    const at = groups.map((g) => text.split('\n').indexOf(g));
    expect(at.every((i) => i > 0)).to.equal(true);
    expect(at).to.deep.equal([...at].sort((a, b) => a - b));

    expect(block(text, 'Unified Advanced')).to.equal(
      [
        '**Unified Advanced**',
        'Linked to your login with contract UNI-4400123 on 2 Oct 2026.',
        'Incidents: Unlimited',
        'Usable for an incident',
      ].join('\n'),
    );
    expect(block(text, 'Premier (Premier Support for Enterprise)')).to.include(
      'Not usable: It covers on-premises projects only',
    );
    expect(block(text, 'MPN gold incidents')).to.include('Belongs to your login alexw@example.com.');
    expect(block(text, 'MPN gold incidents')).to.include('Incidents: 5 of 5 left');
    expect(block(text, 'Individual incident')).to.include(
      'Bought on support.microsoft.com with your Microsoft account alex.wilber@outlook.com',
    );
    expect(block(text, 'Advantage (on-premises incidents)')).to.include(
      'Not usable: PartnerSource Business Center incidents can be used only in on-premises projects',
    );
    expect(block(text, 'ProDirect')).to.include("Your tenant's ProDirect subscription.");
    // missing groups say what ties such a plan to the project
    expect(text).to.include('PartnerSource Business Center accounts apply only to on-premises projects');
    expect(text).to.include('Software Assurance covers on-premises products.');
    // Alex is in two organisations of the tenant and has not chosen yet
    expect(text).to.include('You belong to 2 organisations: this is Contoso Ltd.');
    expect(text).to.include('[Organisation=contoso]');
    expect(text).to.include('[Project=contoso-fo]');
    for (const button of ['(Show)', '(Add contract)', '(Add a Software Assurance plan)'])
      expect(text).to.include(button);
    expect(text).not.to.include('(Remove)'); // nothing Alex added himself yet
  });

  it('understands the natural ways of asking', async () => {
    for (const ask of ['plans', 'Entitlements', 'manage support plans', 'show my support plans'])
      expect(cardText(await say(ALEX, ask)), ask).to.include('Contract ID / access ID');
  });

  it('shows another project of the organisation from the picker, with its limited incidents', async () => {
    const card = await say(ALEX, 'support plans');
    const text = cardText(await press(ALEX, card, 'plans.show', { projectId: 'contoso-ax2012' }));
    expect(text).to.include('Contoso Ltd: Contoso AX 2012 R3 (on-premises)');
    expect(block(text, 'Premier (Premier Support for Enterprise)')).to.include('Incidents: 10 of 10 left');
    expect(block(text, 'Advantage (on-premises incidents)')).to.include('Usable for an incident');
    expect(block(text, 'Software Assurance')).to.include('Incidents: 4 of 4 left');
  });

  it('adds the documented demo contract, lists it, and keeps it across a restart', async () => {
    let card = await say(ALEX, 'support plans');
    const form = await press(ALEX, card, 'plans.addContractForm');
    const formText = cardText(form);
    expect(formText).to.include('[Contract ID=]');
    expect(formText).to.include('[Access ID or password=]');
    expect(form.body.find((b: any) => b.id === 'secret')).to.include({ type: 'Input.Text', style: 'Password' });

    card = await press(ALEX, form, 'plans.addContract', { contractId: 'demo-1234567', secret: ACCESS.secret });
    let text = cardText(card);
    expect(text).to.include(
      'Contract DEMO-1234567 (Advanced support for partners) is now linked to your login in Contoso Ltd.',
    );
    expect(block(text, 'Advanced support for partners')).to.equal(
      [
        '**Advanced support for partners**',
        'Linked to your login with contract DEMO-1234567 on 21 Nov 2026.',
        'Incidents: Unlimited',
        'Usable for an incident',
      ].join('\n'),
    );
    expect(actionData(card, 'plans.removeContract')).to.deep.equal({
      orgId: 'contoso',
      projectId: 'contoso-fo',
      contractId: 'DEMO-1234567',
    });

    const dataDir = bot.dataDir;
    await bot.stop();
    bot = await startBot({ clock, dataDir });
    text = cardText(await say(ALEX, 'support plans'));
    expect(block(text, 'Advanced support for partners')).to.include('contract DEMO-1234567 on 21 Nov 2026');
    expect(text).to.include('(Remove)');
  });

  it('adds the password variant for the on-premises project, with its incident count', async () => {
    const card = await say(ALEX, 'support plans');
    const onPrem = await press(ALEX, card, 'plans.show', { projectId: 'contoso-ax2012' });
    const text = cardText(await addContract(onPrem, PASSWORD.contractId, PASSWORD.secret));
    expect(text).to.include('Contract DEMO-7654321 (Unified Core) is now linked');
    expect(text).to.include('Contoso Ltd: Contoso AX 2012 R3 (on-premises)');
    expect(block(text, 'Unified Core')).to.include('Incidents: 2 of 2 left');
  });

  it('answers a wrong pair with one generic message and never sends the secret back', async () => {
    const card = await say(ALEX, 'support plans');
    const form = await press(ALEX, card, 'plans.addContractForm');
    for (const [contractId, secret] of [
      [ACCESS.contractId, WRONG], // wrong access ID
      ['DEMO-0000000', ACCESS.secret], // wrong contract ID
    ] as const) {
      const body = await pressRaw(ALEX, form, 'plans.addContract', { contractId, secret });
      const again = cardOf(body);
      const text = cardText(again);
      expect(text).to.include(
        "That contract ID and access ID (or password) don't match a contract we know. Check both and try again",
      );
      expect(text).not.to.match(/access ID is wrong|contract ID is wrong|unknown contract/i);
      expect(JSON.stringify(body)).not.to.include(secret);
      expect(inputValues(again)).to.deep.equal({ contractId, secret: '' });
      // the message sits beside the form, right under the secret
      const i = again.body.findIndex((b: any) => b.id === 'secret');
      expect(again.body[i + 1].text).to.include("don't match a contract we know");
    }
  });

  it('logs neither the access ID nor the password, right or wrong', async () => {
    await bot.stop();
    removeDir(bot.dataDir);
    const log = recordingLogger();
    bot = await startBot({ clock, logger: log.logger });
    const form = await say(ALEX, 'add contract');
    await press(ALEX, form, 'plans.addContract', { contractId: ACCESS.contractId, secret: WRONG });
    await press(ALEX, form, 'plans.addContract', { contractId: PASSWORD.contractId, secret: PASSWORD.secret });
    expect(log.text()).to.include('contract link refused').and.include('contract linked');
    for (const secret of [WRONG, PASSWORD.secret]) expect(log.text()).not.to.include(secret);
  });

  it('gives back only a contract ID shaped like one, and never the secret field', async () => {
    const form = await say(ALEX, 'add contract');
    for (const [contractId, secret, kept] of [
      ['my access id: 42!', WRONG, ''], // not a contract ID: perhaps a secret in the wrong field
      ['same-value-123', 'same-value-123', ''], // the same text in both fields
      ['demo-1234567', 'demo 1234567 and more', 'demo-1234567'],
    ] as const) {
      const body = await pressRaw(ALEX, form, 'plans.addContract', { contractId, secret });
      if (!kept) expect(JSON.stringify(body)).not.to.include(contractId);
      expect(JSON.stringify(body)).not.to.include(secret);
      expect(inputValues(cardOf(body))).to.deep.equal({ contractId: kept, secret: '' });
    }
  });

  it('throttles repeated failures, saying how long to wait, then lets the user in again', async () => {
    const card = await say(ALEX, 'support plans');
    const form = await press(ALEX, card, 'plans.addContractForm');
    const texts: string[] = [];
    for (let i = 0; i < 5; i++)
      texts.push(cardText(await press(ALEX, form, 'plans.addContract', { contractId: ACCESS.contractId, secret: WRONG })));
    expect(texts[0]).to.include('You can try 4 more times before having to wait.');
    expect(texts[4]).to.include('Too many unsuccessful attempts: wait 15 minutes before trying again.');
    // even the right pair is refused while throttled, with the wait
    clock.advance(5 * 60_000);
    const throttled = cardText(
      await press(ALEX, form, 'plans.addContract', { contractId: ACCESS.contractId, secret: ACCESS.secret }),
    );
    expect(throttled).to.include('Too many unsuccessful attempts to add a contract. Try again in 10 minutes.');
    expect(throttled).to.include(`[Contract ID=${ACCESS.contractId}]`);
    clock.advance(10 * 60_000);
    const ok = cardText(
      await press(ALEX, form, 'plans.addContract', { contractId: ACCESS.contractId, secret: ACCESS.secret }),
    );
    expect(ok).to.include('Contract DEMO-1234567 (Advanced support for partners) is now linked');
  });

  it('removes a contract the user added, after a confirmation', async () => {
    let card = await addContract(await say(ALEX, 'support plans'), ACCESS.contractId, ACCESS.secret);
    const confirm = await press(ALEX, card, 'plans.removeContract');
    expect(cardText(confirm)).to.include(
      'Remove contract DEMO-1234567 (Advanced support for partners) from your login in Contoso Ltd?',
    );
    const kept = cardText(await press(ALEX, confirm, 'plans.show'));
    expect(kept).to.include('**Advanced support for partners**');
    card = await press(ALEX, confirm, 'plans.removeConfirm');
    const text = cardText(card);
    expect(text).to.include('Contract DEMO-1234567 is no longer linked to your login in Contoso Ltd.');
    expect(text).not.to.include('**Advanced support for partners**');
    expect(text).to.include('**Unified Advanced**');
  });

  it('does not remove a contract linked by the administrator', async () => {
    const res = await bot.post(
      invoke(connector.url, ALEX, conv, 'plans.removeConfirm', { orgId: 'contoso', projectId: 'contoso-fo', contractId: 'UNI-4400123' }),
    );
    const text = cardText(cardOf(res.body));
    expect(text).to.include('Contract UNI-4400123 was linked by your administrator; ask them to remove it.');
    expect(text).to.include('**Unified Advanced**');
  });

  it('shows a bad Software Assurance value beside its field, keeps both, then adds and lists it', async () => {
    const card = await say(ALEX, 'support plans');
    const form = await press(ALEX, card, 'plans.addSaForm');
    const bad = await press(ALEX, form, 'plans.addSa', { subscriptionNumber: 'v-7654 321', contactEmail: 'licensing at contoso' });
    const text = cardText(bad);
    expect(text).to.include('[Subscription number=v-7654 321]');
    expect(text).to.include('[Contact e-mail=licensing at contoso]');
    const i = bad.body.findIndex((b: any) => b.id === 'contactEmail');
    expect(bad.body[i + 1].text).to.equal(
      'Enter the contact e-mail address of the Software Assurance agreement, such as name@contoso.com.',
    );
    expect(bad.body[bad.body.findIndex((b: any) => b.id === 'subscriptionNumber') + 1].id).to.equal('contactEmail');

    const badNumber = await press(ALEX, bad, 'plans.addSa', { subscriptionNumber: '12', contactEmail: 'licensing@contoso.com' });
    const j = badNumber.body.findIndex((b: any) => b.id === 'subscriptionNumber');
    expect(badNumber.body[j + 1].text).to.include('Enter the subscription number of your Software Assurance agreement');

    const done = cardText(await press(ALEX, bad, 'plans.addSa', { contactEmail: 'licensing@contoso.com' }));
    expect(done).to.include(
      'Software Assurance plan V7654321 (contact licensing@contoso.com) is added to your support plans in Contoso Ltd.',
    );
    expect(done).to.include('You added Software Assurance subscription V7654321 on 21 Nov 2026 (contact licensing@contoso.com)');
  });

  it('lets a user in several organisations switch, remembers it, and lists that organisation’s plans', async () => {
    const org = await say(ALEX, 'switch organisation');
    let text = cardText(org);
    expect(text).to.include('You are working in **Contoso Ltd**.');
    expect(text).to.include('You also belong to Contoso Europe.');
    expect(text).to.include('(Switch organisation)');
    const switched = await press(ALEX, org, 'plans.switchOrg', { orgId: 'contoso-europe' });
    text = cardText(switched);
    expect(text).to.include('Your current organisation is now Contoso Europe.');
    expect(text).to.include('Contoso Europe: Contoso Europe Finance (cloud)');
    expect(block(text, 'Premier (Premier Support for Enterprise)')).to.include('contract PREM-2201001');
    expect(text).not.to.include('**Unified Advanced**');

    text = cardText(await say(ALEX, 'support plans'));
    expect(text).to.include('Contoso Europe: Contoso Europe Finance (cloud)');
    expect(text).not.to.include('You belong to 2 organisations');
    expect(cardText(await say(ALEX, 'current organisation'))).to.include('You are working in **Contoso Europe**.');
    // the outage report works in the current organisation too, and says how to leave it
    const outage = cardText(await say(ALEX, 'report outage'));
    expect(outage).to.include('Contoso Europe, your current organisation');
    expect(outage).to.include('switch organisation');
    expect(outage).not.to.include('CONTOSO-PROD');

    // a contract of the registry for Contoso Ltd only is refused here like any wrong pair
    const refused = cardText(await addContract(await say(ALEX, 'support plans'), ACCESS.contractId, ACCESS.secret));
    expect(refused).to.include("don't match a contract we know");
    expect(refused).to.include('in Contoso Europe');

    // and the organisation picker of the plans card switches back
    const back = await press(ALEX, await say(ALEX, 'plans'), 'plans.show', { orgId: 'contoso' });
    expect(cardText(back)).to.include('Your current organisation is now Contoso Ltd.');
    expect(cardText(back)).to.include('Contoso Ltd: Contoso Finance and Operations (cloud)');
  });

  it('tells a user of one organisation, and a user of none, where they stand', async () => {
    const megan = cardText(await say(MEGAN, 'current organisation'));
    expect(megan).to.include('You are working in **Contoso Ltd**.');
    expect(megan).to.include('You belong to no other organisation of your tenant.');
    expect(megan).not.to.include('(Switch organisation)');
    const plans = cardText(await say(MEGAN, 'support plans'));
    expect(plans).not.to.include('[Organisation=');
    expect(plans).to.include('[Project=contoso-fo]'); // two projects: the picker is there
    expect(cardText(await say(ISAIAH, 'support plans'))).to.include(
      "You aren't a member of any Finance and Operations project of your organization",
    );
  });

  it('answers an unknown plans verb or bad data with a clear card', async () => {
    for (const [verb, data] of [
      ['plans.nope', {}],
      ['plans.removeConfirm', { orgId: 'contoso' }],
      ['plans.addContract', { orgId: 'contoso', contractId: 'X', secret: 'y'.repeat(5000) }],
    ] as const) {
      const res = await bot.post(invoke(connector.url, ALEX, conv, verb, data));
      expect(res.status).to.equal(200);
      const text = cardText(cardOf(res.body));
      expect(text).to.include("That button didn't work");
      expect(text).to.include('support plans');
    }
  });

  it('lists support plans in help', async () => {
    const text = cardText(await say(ALEX, 'help'));
    expect(text).to.include('**support plans**');
    expect(text).to.include('**switch organisation**');
  });
});

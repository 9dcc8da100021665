import { expect } from 'chai';
import { recognize } from '../src/intents.js';

describe('recognize', () => {
  const rows: [string | undefined, string][] = [
    ['report outage', 'outage'],
    ['Report an outage!', 'outage'],
    ['please report a production outage', 'outage'],
    ['<at>F&O Support</at> report outage', 'outage'],
    ['production outage', 'outage'],
    ['outage', 'outage'],
    ['our prod environment is down', 'outage'],
    ['help', 'help'],
    ['Hi', 'help'],
    ['', 'help'],
    [undefined, 'help'],
    ['what is the weather', 'unknown'],
    ['no outage today', 'unknown'],
    ['status OUT-100001', 'status'],
    ['Status out-100001', 'status'],
    ['my tickets', 'myTickets'],
    ['show my outages', 'myTickets'],
    ['status of nothing', 'unknown'],
    ['support plans', 'plans'],
    ['Manage support plans', 'plans'],
    ['plans', 'plans'],
    ['show my entitlements', 'plans'],
    ['what plans do I have?', 'plans'],
    ['add contract', 'addContract'],
    ['Add a contract', 'addContract'],
    ['add a Software Assurance plan', 'addSoftwareAssurance'],
    ['current organisation', 'organization'],
    ['switch organization', 'organization'],
    ['change org', 'organization'],
    ['plans for pizza', 'unknown'],
  ];
  for (const [text, kind] of rows) it(`reads “${text}” as ${kind}`, () => expect(recognize(text).kind).to.equal(kind));
});

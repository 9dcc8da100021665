import { expect } from 'chai';
import { downloadLimited } from '../../src/attachments/download.js';
import { type FileServer, SAMPLE, startFileServer } from './fileServer.js';

describe('downloadLimited', () => {
  let files: FileServer;
  before(async () => (files = await startFileServer()));
  after(async () => files.stop());

  it('downloads a file within the limit, with the headers asked for', async () => {
    const url = files.serve('/ok.png', SAMPLE.png);
    const r = await downloadLimited(url, { maxBytes: 1024, headers: { authorization: 'Bearer t' } });
    expect(r.ok && r.bytes.equals(SAMPLE.png)).to.equal(true);
    expect(files.requests.at(-1)).to.deep.equal({ path: '/ok.png', authorization: 'Bearer t' });
  });

  it('refuses a file whose Content-Length is over the limit', async () => {
    const url = files.serve('/big.bin', Buffer.alloc(2048));
    expect(await downloadLimited(url, { maxBytes: 1024 })).to.deep.equal({ ok: false, reason: 'tooLarge' });
  });

  it('stops reading a streamed file as soon as it passes the limit', async () => {
    const url = files.serve('/stream.bin', Buffer.alloc(3 * 1024 * 1024), { chunked: true });
    expect(await downloadLimited(url, { maxBytes: 1024 * 1024 })).to.deep.equal({ ok: false, reason: 'tooLarge' });
  });

  it('says why a download failed', async () => {
    const gone = await downloadLimited(`${files.url}/missing`, { maxBytes: 10 });
    expect(gone).to.deep.equal({ ok: false, reason: 'failed', detail: 'HTTP 404' });
    const odd = await downloadLimited('file:///etc/passwd', { maxBytes: 10 });
    expect(odd).to.deep.include({ ok: false, reason: 'failed' });
  });
});

import { expect } from 'chai';
import { declaredType, displayName, extensionOf, formatSize } from '../../src/attachments/attachmentPolicy.js';
import { SAMPLE } from './fileServer.js';

describe('attachmentPolicy', () => {
  const rows: [string, string, string | undefined][] = [
    ['screenshot.PNG', '', 'PNG image'],
    ['photo.jpeg', '', 'JPEG image'],
    ['', 'image/png', 'PNG image'], // a pasted image has no name
    ['trace.log', '', 'text file'],
    ['logs.zip', '', 'ZIP archive'],
    ['report.pdf', 'application/vnd.microsoft.teams.file.download.info', 'PDF document'],
    ['setup.exe', '', undefined],
    ['macro.docm', '', undefined],
    ['no-extension', 'application/octet-stream', undefined],
  ];
  for (const [name, contentType, label] of rows)
    it(`takes “${name || contentType}” as ${label ?? 'not allowed'}`, () => {
      expect(declaredType(name, contentType)?.label).to.equal(label);
    });

  it('checks the content against the declared type', () => {
    expect(declaredType('a.png')!.sniff(SAMPLE.png)).to.equal(true);
    expect(declaredType('a.png')!.sniff(SAMPLE.jpeg)).to.equal(false);
    expect(declaredType('a.pdf')!.sniff(SAMPLE.pdf)).to.equal(true);
    expect(declaredType('a.zip')!.sniff(SAMPLE.zip)).to.equal(true);
    expect(declaredType('a.log')!.sniff(SAMPLE.log)).to.equal(true);
    expect(declaredType('a.txt')!.sniff(SAMPLE.exe)).to.equal(false); // binary renamed .txt
    expect(declaredType('a.jpg')!.sniff(SAMPLE.exe)).to.equal(false);
  });

  it('keeps only the base name, without control characters, at most 120 characters', () => {
    expect(displayName('C:\\Users\\alex\\error.png', 'x')).to.equal('error.png');
    expect(displayName('../../etc/passwd', 'x')).to.equal('passwd');
    expect(displayName('bad\u0000name\n.png', 'x')).to.equal('badname.png');
    expect(displayName('   ', 'pasted image.png')).to.equal('pasted image.png');
    const long = displayName(`${'a'.repeat(300)}.png`, 'x');
    expect(long.length).to.be.at.most(120);
    expect(extensionOf(long)).to.equal('png');
  });

  it('formats sizes for people', () => {
    expect(formatSize(12)).to.equal('12 bytes');
    expect(formatSize(183_422)).to.equal('179 KB');
    expect(formatSize(11 * 1024 * 1024)).to.equal('11.0 MB');
  });
});

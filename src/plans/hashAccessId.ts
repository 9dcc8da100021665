// Prints the hash of an access ID or password for the directory's contractRegistry:
//
//   npx tsx src/plans/hashAccessId.ts                      (asks, without echoing what you type)
//   printf '%s' "$ACCESS_ID" | npx tsx src/plans/hashAccessId.ts
//
// The secret is read from the terminal or standard input, never from the command line, where it
// would stay in the shell history and show in the process list.

import { fileURLToPath } from 'node:url';
import { hashSecret, normalizeSecret } from './secretHash.js';

async function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function readPiped(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

export async function main(): Promise<number> {
  const secret = normalizeSecret(
    process.stdin.isTTY ? await readHidden('Access ID or password: ') : await readPiped(),
  );
  if (!secret) {
    process.stderr.write('Nothing to hash: type the access ID or password, or pipe it in.\n');
    return 2;
  }
  process.stdout.write(`${await hashSecret(secret)}\n`);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

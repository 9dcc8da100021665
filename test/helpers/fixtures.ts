import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/config.js';
import { type Directory, parseDirectory } from '../../src/directory.js';
import type { UserContext } from '../../src/domain/user.js';

export const DEMO_DIRECTORY_FILE = path.join(projectRoot, 'config', 'directory.demo.json');

/** The demo directory, parsed fresh (tests may not share mutable state). */
export function demoDirectory(): Directory {
  return parseDirectory(readFileSync(DEMO_DIRECTORY_FILE, 'utf8'), DEMO_DIRECTORY_FILE);
}

export const TENANT = '00000000-0000-0000-0000-0000000000001';

const users = {
  alex: { aadObjectId: '00000000-0000-0000-0000-0000000000020', name: 'Alex Wilber', email: 'alexw@example.com' },
  megan: { aadObjectId: '00000000-0000-0000-0000-0000000000021', name: 'Megan Bowen', email: 'meganb@example.com' },
  adele: { aadObjectId: '00000000-0000-0000-0000-0000000000022', name: 'Adele Vance', email: 'adelev@example.com' },
  isaiah: { aadObjectId: '00000000-0000-0000-0000-0000000000023', name: 'Isaiah Langer', email: 'isaiahl@example.com' },
  patti: { aadObjectId: '00000000-0000-0000-0000-0000000000024', name: 'Patti Fernandez', email: 'pattif@example.com' },
} as const;

export function demoUser(who: keyof typeof users, extra: Partial<UserContext> = {}): UserContext {
  return { ...users[who], tenantId: TENANT, timeZone: 'America/New_York', ...extra };
}

// The bot under test runs from the build (dist/, `npm run build`). A store's index snapshot records
// a fingerprint of the index spec made from the extractors' source text as this process has it, and
// one of that text as esbuild's minifier prints it (src/store/indexSnapshot.ts): a store written
// with the spec as tsx runs it opens without a rebuild in the built bot, but only after a call to
// esbuild (10 to 20 ms) that a start-up measurement would include. So the benchmark writes the
// bot's stores with the built spec, and the bot opens them as stores it wrote itself.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../src/config.js';
import type { IndexSpec } from '../src/store/store.js';

let loaded: Promise<IndexSpec> | undefined;

/** APP_INDEXES from dist/src/services/appIndexes.js (run `npm run build` first). */
export function builtAppIndexes(): Promise<IndexSpec> {
  loaded ??= import(pathToFileURL(path.join(projectRoot, 'dist', 'src', 'services', 'appIndexes.js')).href).then(
    (m: { APP_INDEXES: IndexSpec }) => m.APP_INDEXES,
  );
  return loaded;
}

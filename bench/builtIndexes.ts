// The bot under test runs from the build (dist/, `npm run build`). A store's index snapshot holds a
// fingerprint of the index spec that includes each extractor's source text, and tsc and tsx emit
// that text differently: a store written with the spec as tsx runs it would have its index rebuilt
// when the built bot opens it. So the benchmark writes and reads the bot's stores with the built
// spec, and the bot opens them as stores it wrote itself.

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

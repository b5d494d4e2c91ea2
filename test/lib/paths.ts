// Where tests find things: the repository root, the built CLI, the samples and the shared corpus.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tests run from dist/test/...). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI = join(ROOT, 'bin', 'authcap.js');
export const SAMPLES = join(ROOT, 'samples');
/** ../shared/corpus beside the checkout (present in CI and for developers, absent in a user's clone). */
export const CORPUS = process.env.AUTHCAP_CORPUS ?? resolve(ROOT, '..', 'shared', 'corpus');

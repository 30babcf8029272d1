/** Locates the project's shared test data (`../shared/data` beside the repository). */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Absolute path of `/…/shared/data`, relative to this repository. */
export const SHARED_DATA = path.resolve(__dirname, '../../../../../shared/data');

/** Path of a shared data file; throws a clear error when `../shared` is missing. */
export function sharedFile(relative: string): string {
  const p = path.join(SHARED_DATA, relative);
  if (!fs.existsSync(p)) {
    throw new Error(
      `Shared test data not found: ${p}. These tests read the real logs in place from ../shared/data ` +
        '(a checkout of the shared data beside this repository); it is never copied into the repo.',
    );
  }
  return p;
}

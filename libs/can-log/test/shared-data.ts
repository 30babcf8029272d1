/** Locates the shared sample logs (read in place, never copied) for the tests. */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** `../shared/data` next to the repository. */
export const SHARED_DATA = path.resolve(__dirname, '../../../../shared/data');

/** Absolute path of a shared sample; fails loudly when the shared folder is missing. */
export function sharedPath(relative: string): string {
  if (!existsSync(SHARED_DATA)) {
    throw new Error(
      `Shared test data not found at ${SHARED_DATA}. The can-log tests read the sample logs in place from ` +
        `../shared/data beside the repository; check out the shared folder there.`,
    );
  }
  return path.join(SHARED_DATA, relative);
}

/** Parses a JSON file from the shared folder. */
export function sharedJson<T>(relative: string): T {
  return JSON.parse(readFileSync(sharedPath(relative), 'utf8')) as T;
}

/** Hex string of bytes. */
export function hex(data: Uint8Array): string {
  return Buffer.from(data).toString('hex');
}

import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** Resolves a command like a shell would (absolute path, or the first executable on PATH). */
export function findExecutable(command: string, envPath = process.env.PATH ?? ''): string | undefined {
  const candidates = command.includes('/')
    ? [command]
    : envPath
        .split(path.delimiter)
        .filter(Boolean)
        .map((d) => path.join(d, command));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

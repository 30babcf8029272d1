import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '@charge/service-kit';
import { toSigningKey, type SigningKey } from './domain/tokens';

/**
 * Loads the ES256 signing key from a PEM file. With `generate` (local runs and tests) a
 * missing file is created with a fresh P-256 key, readable by the owner only; `wx` makes
 * concurrent first starts agree on one key.
 */
export function loadSigningKey(file: string, generate: boolean, logger: Logger): SigningKey {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !generate) {
      throw new Error(`cannot read AUTH_SIGNING_KEY_FILE ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    pem = generateKeyFile(file, logger);
  }
  const mode = statSync(file).mode & 0o077;
  if (mode !== 0) logger.warn({ file }, 'signing key file is readable by group or others; chmod 600 it');
  const privateKey = createPrivateKey(pem);
  return toSigningKey(privateKey, createPublicKey(privateKey));
}

function generateKeyFile(file: string, logger: Logger): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
    logger.warn({ file }, 'generated a new development signing key (AUTH_DEV_GENERATE_KEY)');
    return pem;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8');
    throw error;
  }
}

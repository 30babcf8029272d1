import { hash, verify } from '@node-rs/argon2';

/**
 * argon2id with the library's default cost parameters (argon2id is its default algorithm;
 * `Algorithm` is an ambient const enum that isolatedModules cannot import).
 */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/**
 * Verifies against a fixed hash so that a login for an unknown email costs as much as one
 * for a known email (no account enumeration by timing).
 */
export class DummyPasswordCheck {
  private dummy?: Promise<string>;

  async run(password: string): Promise<void> {
    this.dummy ??= hashPassword('not-a-real-password-0000');
    await verifyPassword(await this.dummy, password);
  }
}

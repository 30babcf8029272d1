import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { isDomainError } from '@charge/errors';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, verifyWithKey } from '@charge/service-kit';
import { loadConfig } from '../src/config';
import {
  usernameFromEmail,
  validateAvatarUrl,
  validateEmail,
  validatePassword,
  withSuffix,
} from '../src/domain/credentials';
import {
  AccessTokenIssuer,
  hashRefreshToken,
  newRefreshToken,
  parseRefreshToken,
  toSigningKey,
} from '../src/domain/tokens';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (isDomainError(error)) return error.field ?? error.kind;
    throw error;
  }
  return undefined;
}

describe('credentials', () => {
  it('normalizes and validates emails', () => {
    expect(validateEmail('  Foo.Bar@Example.ORG ')).toBe('foo.bar@example.org');
    expect(fieldOf(() => validateEmail('foo@bar'))).toBe('email');
    expect(fieldOf(() => validateEmail(`${'a'.repeat(95)}@b.com`))).toBe('email');
  });

  it('requires at least 10 characters (code points) for passwords', () => {
    expect(fieldOf(() => validatePassword('123456789'))).toBe('password');
    expect(validatePassword('1234567890')).toBe('1234567890');
    expect(fieldOf(() => validatePassword('🔑'.repeat(9), 'new_password'))).toBe('new_password');
  });

  it('derives usernames within bounds', () => {
    expect(usernameFromEmail('a+b@x.io')).toBe('a_b');
    expect(usernameFromEmail('x@y.io')).toBe('x__');
    expect(withSuffix('z'.repeat(50), 'abc123')).toHaveLength(50);
  });

  it('accepts only http(s) avatar URLs', () => {
    expect(validateAvatarUrl('')).toBeNull();
    expect(validateAvatarUrl('https://a.example/x.png')).toBe('https://a.example/x.png');
    expect(fieldOf(() => validateAvatarUrl('ftp://a.example/x'))).toBe('avatar_url');
  });
});

describe('tokens', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = toSigningKey(privateKey, publicKey);

  it('signs ES256 tokens that service-kit verifies, with the JWK thumbprint as kid', () => {
    const token = new AccessTokenIssuer(key, 900).issue({ userId: 7, role: 'admin', sessionId: 12 });
    expect(verifyWithKey(token, publicKey)).toEqual({ userId: 7, role: 'admin', sessionId: '12', token });
    const { header, payload } = jwt.decode(token, { complete: true })!;
    expect(header).toEqual({ alg: 'ES256', typ: 'JWT', kid: key.kid });
    expect(payload).toMatchObject({ iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, sub: '7' });
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses keys that are not P-256', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(() => toSigningKey(rsa.privateKey, rsa.publicKey)).toThrow(/P-256/);
  });

  it('makes 256-bit refresh tokens and stores only their SHA-256', () => {
    const token = newRefreshToken();
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(parseRefreshToken(token)).toBe(token);
    expect(hashRefreshToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(fieldOf(() => parseRefreshToken(''))).toBe('refresh_token');
    expect(fieldOf(() => parseRefreshToken('short'))).toBe('unauthenticated');
  });
});

describe('config', () => {
  const base = { AUTH_SIGNING_KEY_FILE: '/k.pem' };
  it('applies defaults', () => {
    expect(loadConfig(base)).toMatchObject({
      GRPC_PORT: 50051,
      ACCESS_TOKEN_TTL_S: 900,
      REFRESH_TOKEN_TTL_S: 604800,
      AUTH_DEV_GENERATE_KEY: false,
    });
  });
  it('lists every problem', () => {
    expect(() => loadConfig({ ADMIN_EMAIL: 'nope', ADMIN_PASSWORD: 'short' })).toThrow(
      /AUTH_SIGNING_KEY_FILE[\s\S]*ADMIN_EMAIL[\s\S]*ADMIN_PASSWORD/,
    );
    expect(() => loadConfig({ ...base, ADMIN_EMAIL: 'a@b.io' })).toThrow(/set together/);
  });
});

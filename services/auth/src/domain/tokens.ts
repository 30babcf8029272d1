import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { DomainError } from '@charge/errors';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, type PublicJwk, type Role } from '@charge/service-kit';

/** The public half of the signing key as served by GetJwks. */
export interface ServedJwk extends PublicJwk {
  alg: 'ES256';
  use: 'sig';
}

/** The ES256 key that signs access tokens, with its JWK and key id. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: ServedJwk;
}

/** Wraps a P-256 private key; the key id is its RFC 7638 JWK thumbprint. */
export function toSigningKey(privateKey: KeyObject, publicKey: KeyObject): SigningKey {
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('the signing key must be an EC P-256 private key (ES256)');
  }
  const { crv, x, y } = publicKey.export({ format: 'jwk' });
  if (!crv || !x || !y) throw new Error('cannot export the public signing key as a JWK');
  // RFC 7638: the required members in lexicographic order, no whitespace.
  const thumbprint = createHash('sha256')
    .update(JSON.stringify({ crv, kty: 'EC', x, y }))
    .digest('base64url');
  return {
    kid: thumbprint,
    privateKey,
    publicKey,
    jwk: { kty: 'EC', crv, x, y, kid: thumbprint, alg: 'ES256', use: 'sig' },
  };
}

export interface AccessTokenSubject {
  userId: number;
  role: Role;
  sessionId: number;
}

/** Signs access tokens: ES256, claims `sub`, `role`, `sid`, issuer/audience of the platform. */
export class AccessTokenIssuer {
  constructor(
    private readonly key: SigningKey,
    readonly ttlSeconds: number,
  ) {}

  issue(subject: AccessTokenSubject): string {
    return jwt.sign({ role: subject.role, sid: String(subject.sessionId) }, this.key.privateKey, {
      algorithm: 'ES256',
      keyid: this.key.kid,
      expiresIn: this.ttlSeconds,
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      subject: String(subject.userId),
    });
  }
}

/** A fresh opaque refresh token: 256 random bits, base64url. */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What is stored instead of a refresh token: its SHA-256, hex. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Rejects input that cannot be a refresh token before touching the database. */
export function parseRefreshToken(raw: string, field = 'refresh_token'): string {
  const token = raw.trim();
  if (!token) throw DomainError.invalidArgument(field, 'is required');
  if (!/^[A-Za-z0-9_-]{43}$/.test(token))
    throw DomainError.unauthenticated('invalid refresh token', 'REFRESH_TOKEN_INVALID');
  return token;
}

/** Session ids travel as the `sid` claim (a decimal string). */
export function sessionIdFromClaim(sid: string): number {
  const id = Number(sid);
  if (!/^\d+$/.test(sid) || !Number.isSafeInteger(id) || id <= 0)
    throw DomainError.unauthenticated('invalid session', 'SESSION_INVALID');
  return id;
}

import type { Metadata } from '@grpc/grpc-js';
import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '@charge/errors';
import type { AuthClaims } from './auth';
import type { Logger } from './logger';

/** What a handler knows about the call it serves. */
export interface CallContext {
  /** Full method path, e.g. `/charge.auth.v1.AuthService/Login`. */
  readonly method: string;
  /** The caller's `x-request-id`, or a fresh UUID. */
  readonly requestId: string;
  readonly logger: Logger;
  readonly metadata: Metadata;
  /** Client address: `x-forwarded-for` (first hop) when present, else the peer. */
  readonly ipAddress?: string;
  readonly userAgent?: string;
  /** Aborted when the client cancels or the deadline passes. */
  readonly signal: AbortSignal;
  /** Verified identity, when the call carried a valid token. */
  readonly claims?: AuthClaims;
  /** The verified identity; throws UNAUTHENTICATED for anonymous calls. */
  user(): AuthClaims;
  /** This call's own MikroORM context (forked on first use). */
  readonly em: EntityManager;
}

export interface CallContextInit {
  method: string;
  requestId: string;
  logger: Logger;
  metadata: Metadata;
  peer: string;
  signal: AbortSignal;
  claims?: AuthClaims;
  forkEm?: () => EntityManager;
}

export class GrpcCallContext implements CallContext {
  readonly method: string;
  readonly requestId: string;
  readonly logger: Logger;
  readonly metadata: Metadata;
  readonly ipAddress?: string;
  readonly userAgent?: string;
  readonly signal: AbortSignal;
  readonly claims?: AuthClaims;
  private forked?: EntityManager;
  private readonly forkEm?: () => EntityManager;

  constructor(init: CallContextInit) {
    this.method = init.method;
    this.requestId = init.requestId;
    this.logger = init.logger;
    this.metadata = init.metadata;
    this.signal = init.signal;
    this.claims = init.claims;
    this.forkEm = init.forkEm;
    this.ipAddress = clientAddress(init.metadata, init.peer);
    this.userAgent =
      firstValue(init.metadata, 'x-forwarded-user-agent') ?? firstValue(init.metadata, 'user-agent');
  }

  user(): AuthClaims {
    if (!this.claims) throw DomainError.unauthenticated('authentication required', 'TOKEN_MISSING');
    return this.claims;
  }

  get em(): EntityManager {
    if (!this.forkEm) throw new Error(`no database configured for ${this.method}`);
    this.forked ??= this.forkEm();
    return this.forked;
  }
}

export function firstValue(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return value === undefined ? undefined : String(value);
}

function clientAddress(metadata: Metadata, peer: string): string | undefined {
  const forwarded = firstValue(metadata, 'x-forwarded-for')?.split(',')[0]?.trim();
  if (forwarded) return forwarded.slice(0, 45);
  // peer looks like "ipv4:127.0.0.1:5000", "ipv6:[::1]:5000" or "127.0.0.1:5000"
  const m = /^(?:ipv[46]:)?\[?([^\]]+?)\]?:\d+$/.exec(peer);
  return (m ? m[1] : peer).slice(0, 45) || undefined;
}

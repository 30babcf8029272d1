import type { Actor } from '@charge/events';
import type { AuthClaims } from './auth';
import type { CallContext } from './call-context';

/** Who is calling, as transport-free use cases need it: identity plus audit attribution. */
export interface Caller {
  claims: AuthClaims;
  actor: Actor;
}

/** The audit actor of a call (anonymous calls have no user id). */
export function actorOf(ctx: CallContext): Actor {
  return {
    userId: ctx.claims?.userId,
    ipAddress: ctx.ipAddress,
    userAgent: ctx.userAgent,
    requestId: ctx.requestId,
  };
}

/** The authenticated caller; UNAUTHENTICATED for anonymous calls. */
export function callerOf(ctx: CallContext): Caller {
  return { claims: ctx.user(), actor: actorOf(ctx) };
}

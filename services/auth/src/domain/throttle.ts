/** Failed logins on one account that trigger a lockout… */
export const MAX_FAILED_LOGINS = 5;
/** …when they fall within this window… */
export const FAILED_LOGIN_WINDOW_S = 15 * 60;
/** …and how long the lockout lasts. */
export const LOCKOUT_S = 15 * 60;

/** Seconds until a lockout ends (rounded up, at least 1), for the caller's retry hint. */
export function retryAfterSeconds(lockedUntil: Date, now: Date): number {
  return Math.max(1, Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000));
}

import { EntitySchema } from '@mikro-orm/core';

/** Failed logins per account (by normalized email), shared by every replica. */
export interface LoginThrottleRow {
  email: string;
  failedCount: number;
  windowStartedAt: Date;
  lockedUntil: Date | null;
}

export const LoginThrottleEntity = new EntitySchema<LoginThrottleRow>({
  name: 'LoginThrottle',
  tableName: 'login_throttles',
  properties: {
    email: { type: 'string', length: 100, primary: true },
    failedCount: { type: 'integer', fieldName: 'failed_count' },
    windowStartedAt: { type: 'Date', columnType: 'timestamptz', fieldName: 'window_started_at' },
    lockedUntil: { type: 'Date', columnType: 'timestamptz', nullable: true, fieldName: 'locked_until' },
  },
});

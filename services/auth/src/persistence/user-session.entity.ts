import { EntitySchema, OptionalProps } from '@mikro-orm/core';

/** A login session: one refresh token (stored only as its SHA-256) at a time. */
export interface UserSessionRow {
  [OptionalProps]?: 'createdAt';
  id: number;
  userId: number;
  tokenHash: string;
  expiresAt: Date;
  ipAddress: string | null;
  userAgent: string | null;
  createdAt: Date;
}

export const UserSessionEntity = new EntitySchema<UserSessionRow>({
  name: 'UserSession',
  tableName: 'user_sessions',
  indexes: [
    { name: 'idx_user_sessions_user_id', properties: ['userId'] },
    { name: 'idx_user_sessions_expires', properties: ['expiresAt'] },
  ],
  uniques: [{ name: 'user_sessions_token_hash_key', properties: ['tokenHash'] }],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    // A plain column: the FK (ON DELETE CASCADE) lives in the migration.
    userId: { type: 'integer', fieldName: 'user_id' },
    tokenHash: { type: 'string', length: 255, fieldName: 'token_hash' },
    expiresAt: { type: 'Date', columnType: 'timestamptz', fieldName: 'expires_at' },
    ipAddress: { type: 'string', length: 45, nullable: true, fieldName: 'ip_address' },
    userAgent: { type: 'text', nullable: true, fieldName: 'user_agent' },
    createdAt: {
      type: 'Date',
      columnType: 'timestamptz',
      fieldName: 'created_at',
      defaultRaw: 'current_timestamp',
    },
  },
});

/** A refresh token that was rotated away; presenting it again revokes its session. */
export interface RotatedTokenRow {
  tokenHash: string;
  sessionId: number;
  rotatedAt: Date;
}

export const RotatedTokenEntity = new EntitySchema<RotatedTokenRow>({
  name: 'RotatedRefreshToken',
  tableName: 'rotated_refresh_tokens',
  indexes: [{ name: 'idx_rotated_refresh_tokens_session_id', properties: ['sessionId'] }],
  properties: {
    tokenHash: { type: 'string', length: 64, primary: true, fieldName: 'token_hash' },
    sessionId: { type: 'integer', fieldName: 'session_id' },
    rotatedAt: { type: 'Date', columnType: 'timestamptz', fieldName: 'rotated_at', defaultRaw: 'now()' },
  },
});

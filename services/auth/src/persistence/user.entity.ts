import { EntitySchema, OptionalProps } from '@mikro-orm/core';
import type { Role } from '@charge/service-kit';

export interface UserRow {
  [OptionalProps]?: 'role' | 'isActive' | 'createdAt' | 'updatedAt';
  id: number;
  username: string;
  /** Stored lower-cased. */
  email: string;
  passwordHash: string;
  firstName: string | null;
  lastName: string | null;
  role: Role;
  isActive: boolean;
  avatarUrl: string | null;
  lastLogin: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const UserEntity = new EntitySchema<UserRow>({
  name: 'User',
  tableName: 'users',
  // Mirrors the migration, so a schema diff against these entities stays empty.
  indexes: [
    { name: 'idx_users_username', properties: ['username'] },
    { name: 'idx_users_email', properties: ['email'] },
    { name: 'idx_users_role', properties: ['role'] },
    {
      name: 'users_username_lower_unique',
      expression: 'create unique index "users_username_lower_unique" on "auth"."users" (lower("username"))',
    },
    {
      name: 'users_email_lower_unique',
      expression: 'create unique index "users_email_lower_unique" on "auth"."users" (lower("email"))',
    },
  ],
  uniques: [
    { name: 'users_username_key', properties: ['username'] },
    { name: 'users_email_key', properties: ['email'] },
  ],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    username: { type: 'string', length: 50 },
    email: { type: 'string', length: 100 },
    passwordHash: { type: 'string', length: 255, fieldName: 'password_hash', hidden: true },
    firstName: { type: 'string', length: 50, nullable: true, fieldName: 'first_name' },
    lastName: { type: 'string', length: 50, nullable: true, fieldName: 'last_name' },
    role: { type: 'string', length: 20, default: 'user' },
    isActive: { type: 'boolean', default: true, fieldName: 'is_active' },
    avatarUrl: { type: 'string', length: 255, nullable: true, fieldName: 'avatar_url' },
    lastLogin: { type: 'Date', columnType: 'timestamptz', nullable: true, fieldName: 'last_login' },
    createdAt: {
      type: 'Date',
      columnType: 'timestamptz',
      fieldName: 'created_at',
      defaultRaw: 'current_timestamp',
    },
    // Set by the use cases on account changes (not on login).
    updatedAt: {
      type: 'Date',
      columnType: 'timestamptz',
      fieldName: 'updated_at',
      defaultRaw: 'current_timestamp',
    },
  },
});

import { DomainError } from '@charge/errors';

export const PASSWORD_MIN_LENGTH = 10;
/** Bounds the argon2 input; longer passwords add nothing but cost. */
export const PASSWORD_MAX_LENGTH = 1024;
export const EMAIL_MAX_LENGTH = 100;
export const USERNAME_MIN_LENGTH = 3;
export const USERNAME_MAX_LENGTH = 50;
export const NAME_MAX_LENGTH = 50;
export const AVATAR_URL_MAX_LENGTH = 255;

// Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is not our job.
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const USERNAME = /^[A-Za-z0-9._-]+$/;

/** Trims and lower-cases an email (emails are unique and stored case-insensitively). */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function validateEmail(raw: string, field = 'email'): string {
  const email = normalizeEmail(raw);
  if (!email) throw DomainError.invalidArgument(field, 'is required');
  if (email.length > EMAIL_MAX_LENGTH)
    throw DomainError.invalidArgument(field, `must be at most ${EMAIL_MAX_LENGTH} characters`);
  if (!EMAIL.test(email)) throw DomainError.invalidArgument(field, 'is not a valid email address');
  return email;
}

export function validatePassword(password: string, field = 'password'): string {
  if ([...password].length < PASSWORD_MIN_LENGTH) {
    throw DomainError.invalidArgument(
      field,
      `must be at least ${PASSWORD_MIN_LENGTH} characters`,
      'PASSWORD_TOO_SHORT',
    );
  }
  if (password.length > PASSWORD_MAX_LENGTH)
    throw DomainError.invalidArgument(field, `must be at most ${PASSWORD_MAX_LENGTH} characters`);
  return password;
}

export function validateUsername(raw: string, field = 'username'): string {
  const username = raw.trim();
  if (username.length < USERNAME_MIN_LENGTH || username.length > USERNAME_MAX_LENGTH) {
    throw DomainError.invalidArgument(
      field,
      `must be ${USERNAME_MIN_LENGTH}–${USERNAME_MAX_LENGTH} characters`,
    );
  }
  if (!USERNAME.test(username))
    throw DomainError.invalidArgument(field, 'may contain only letters, digits, ".", "_" and "-"');
  return username;
}

/** A username derived from an email's local part, for registrations that give none. */
export function usernameFromEmail(email: string): string {
  let base = email
    .split('@')[0]
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, USERNAME_MAX_LENGTH);
  while (base.length < USERNAME_MIN_LENGTH) base += '_';
  return base;
}

/** Appends a suffix to a derived username, keeping it within bounds. */
export function withSuffix(username: string, suffix: string): string {
  return `${username.slice(0, USERNAME_MAX_LENGTH - suffix.length - 1)}-${suffix}`;
}

/** An optional profile name: empty means unset (null). */
export function validateName(raw: string | undefined, field: string): string | null {
  const name = (raw ?? '').trim();
  if (!name) return null;
  if (name.length > NAME_MAX_LENGTH)
    throw DomainError.invalidArgument(field, `must be at most ${NAME_MAX_LENGTH} characters`);
  return name;
}

/** An avatar URL: empty means unset; otherwise an absolute http(s) URL. */
export function validateAvatarUrl(raw: string, field = 'avatar_url'): string | null {
  const value = raw.trim();
  if (!value) return null;
  if (value.length > AVATAR_URL_MAX_LENGTH)
    throw DomainError.invalidArgument(field, `must be at most ${AVATAR_URL_MAX_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw DomainError.invalidArgument(field, 'must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw DomainError.invalidArgument(field, 'must be an http(s) URL');
  return value;
}

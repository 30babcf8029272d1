/** The PostgreSQL schema auth owns. */
export const SCHEMA = 'auth' as const;

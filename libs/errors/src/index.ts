export { DomainError, isDomainError, type ErrorKind, type DomainErrorOptions } from './domain-error';

export {
  createTestDatabase,
  adminDatabaseUrl,
  migrateSchemas,
  withClient,
  type TestDatabase,
} from './database';
export { TestNatsServer, sharedNatsUrl, freePort } from './nats-server';
export { unary, withToken, statusOf } from './grpc';
export { startTestService, clientFor, type TestServiceOptions } from './service';
export { TestTokenIssuer, type IssueOptions } from './test-issuer';
export { eventually } from './eventually';

export { baseConfigSchema, parseConfig, ConfigError, EXIT_CONFIG, type BaseConfig } from './config';
export { createLogger, LogShipper, type Logger, type LoggerOptions, type ShippedRecord } from './logger';
export { Lifecycle } from './lifecycle';
export { STATUS_BY_KIND } from './status-map';
export {
  JwksTokenVerifier,
  verifyWithKey,
  tokenKeyId,
  assertAdmin,
  TOKEN_ISSUER,
  TOKEN_AUDIENCE,
  type AuthClaims,
  type TokenVerifier,
  type PublicJwk,
  type Role,
} from './auth';
export { type CallContext } from './call-context';
export { Rpc, InflightCounter, toServiceError, type AuthPolicy, type RpcOptions, type RpcDeps } from './rpc';
export { HealthRegistry } from './health';
export {
  RpcMetrics,
  serveMetrics,
  RPC_BUCKETS_S,
  type MetricsServer,
  type MetricsCollector,
} from './metrics';
export { startTelemetry, type Telemetry } from './telemetry';
export { createGrpcClient, forwardMetadata, traceInterceptor, type ClientConstructor } from './grpc-client';
export {
  SERVICE_SCHEMAS,
  databaseConfigSchema,
  ormOptions,
  createOrm,
  migrateOrm,
  type OrmOptions,
  type ServiceSchema,
} from './orm';
export {
  runService,
  startService,
  type ServiceSpec,
  type BuildContext,
  type BuiltService,
  type ServiceRegistration,
  type RunningService,
  type StartOptions,
} from './run-service';
export { jwksVerifierFromAuth } from './jwks-from-auth';
export {
  startBackbone,
  type Backbone,
  type BackboneConfig,
  type BackboneOptions,
  type PersistenceModule,
} from './backbone';
export {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  pageSize,
  encodePageToken,
  decodePageToken,
  checkTimeRange,
  likeContains,
  type PageCursor,
} from './paging';
export { actorOf, callerOf, type Caller } from './caller';
export { requireId, requireText } from './request-validation';
export {
  collectUpload,
  fileUploadMessages,
  type CollectUploadOptions,
  type UploadMessage,
} from './upload-stream';
export { findIdPage, type IdPage } from './id-page';

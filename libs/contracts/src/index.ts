/** Generated gRPC contracts, one namespace per proto package. */
export * as authV1 from './auth-v1';
export * as auditV1 from './audit-v1';
export * as analysisV1 from './analysis-v1';
export * as trainingV1 from './training-v1';
export * as knowledgeV1 from './knowledge-v1';
export * as commonV1 from './gen/charge/common/v1/common';
export * as healthV1 from './gen/grpc/health/v1/health';
export * as googleApi from './gen/google/api/httpbody';
export { descriptorSetPath } from './descriptor-set';

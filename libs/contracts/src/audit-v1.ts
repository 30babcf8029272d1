export * from './gen/charge/audit/v1/audit_messages';
export {
  AuditServiceService,
  AuditServiceClient,
  type AuditServiceServer,
} from './gen/charge/audit/v1/audit_service';

export * from './gen/charge/auth/v1/auth_messages';
export {
  AuthServiceService,
  AuthServiceClient,
  type AuthServiceServer,
} from './gen/charge/auth/v1/auth_service';

import { authV1 } from '@charge/contracts';
import { Rpc, startBackbone, type BuildContext, type BuiltService } from '@charge/service-kit';
import type { AuthConfig } from './config';
import { DummyPasswordCheck } from './domain/passwords';
import { AccessTokenIssuer } from './domain/tokens';
import { authHandlers } from './grpc/auth.handlers';
import * as persistence from './persistence/schema';
import { loadSigningKey } from './signing-key-file';
import { AccountUseCases } from './use-cases/accounts';
import type { UseCaseDeps } from './use-cases/caller';
import { SessionTokenVerifier } from './use-cases/session-verifier';
import { SessionUseCases } from './use-cases/sessions';
import { UserAdminUseCases } from './use-cases/user-admin';

/** Composition root of the auth service. Migrations are applied by `npm run migrate`, not here. */
export async function build(ctx: BuildContext<AuthConfig>): Promise<BuiltService> {
  const { config, logger, inflight, metrics } = ctx;
  const key = loadSigningKey(config.AUTH_SIGNING_KEY_FILE, config.AUTH_DEV_GENERATE_KEY, logger);

  const { orm, relay } = await startBackbone(ctx, persistence);

  const deps: UseCaseDeps = {
    issuer: new AccessTokenIssuer(key, config.ACCESS_TOKEN_TTL_S),
    refreshTtlSeconds: config.REFRESH_TOKEN_TTL_S,
    relay,
    dummyPassword: new DummyPasswordCheck(),
    logger,
  };
  const accounts = new AccountUseCases(deps);
  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
    const outcome = await accounts.ensureAdmin(orm.em.fork(), config.ADMIN_EMAIL, config.ADMIN_PASSWORD);
    logger.info({ outcome }, 'first admin checked');
  }

  const rpc = new Rpc({ logger, verifier: new SessionTokenVerifier(key, orm), orm, inflight, metrics });
  const implementation = authHandlers({
    rpc,
    accounts,
    sessions: new SessionUseCases(deps),
    admin: new UserAdminUseCases(deps),
    jwks: () => [key.jwk],
  });
  return { services: [{ definition: authV1.AuthServiceService, implementation }] };
}

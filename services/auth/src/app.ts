import { jetstreamManager } from '@nats-io/jetstream';
import { authV1 } from '@charge/contracts';
import { connectNats, createSyslogSink, ensureStream, OutboxRelay } from '@charge/events';
import { createOrm, Rpc, type BuildContext, type BuiltService } from '@charge/service-kit';
import type { AuthConfig } from './config';
import { DummyPasswordCheck } from './domain/passwords';
import { AccessTokenIssuer } from './domain/tokens';
import { authHandlers } from './grpc/auth.handlers';
import { entities, migrations, SCHEMA } from './persistence/schema';
import { loadSigningKey } from './signing-key-file';
import { AccountUseCases } from './use-cases/accounts';
import type { UseCaseDeps } from './use-cases/caller';
import { SessionTokenVerifier } from './use-cases/session-verifier';
import { SessionUseCases } from './use-cases/sessions';
import { UserAdminUseCases } from './use-cases/user-admin';

/** Composition root of the auth service. Migrations are applied by `npm run migrate`, not here. */
export async function build({
  name,
  config,
  logger,
  lifecycle,
  shipper,
  inflight,
}: BuildContext<AuthConfig>): Promise<BuiltService> {
  const key = loadSigningKey(config.AUTH_SIGNING_KEY_FILE, config.AUTH_DEV_GENERATE_KEY, logger);

  const orm = await createOrm({
    schema: SCHEMA,
    entities,
    migrations,
    databaseUrl: config.DATABASE_URL,
    poolMax: config.DB_POOL_MAX,
  });
  lifecycle.onStop('orm', () => orm.close());

  const nc = await connectNats(config.NATS_URL, name);
  lifecycle.onStop('nats', () => nc.drain());
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, 'AUDIT');
  await ensureStream(jsm, 'SYSLOG');
  shipper.attach(createSyslogSink(nc, name));
  lifecycle.onStop('syslog', () => shipper.detach());

  const relay = new OutboxRelay({ orm, nc, schema: SCHEMA, logger });
  relay.start();
  lifecycle.onStop('outbox-relay', () => relay.stop());

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

  const rpc = new Rpc({ logger, verifier: new SessionTokenVerifier(key, orm), orm, inflight });
  const implementation = authHandlers({
    rpc,
    accounts,
    sessions: new SessionUseCases(deps),
    admin: new UserAdminUseCases(deps),
    jwks: () => [key.jwk],
  });
  return { services: [{ definition: authV1.AuthServiceService, implementation }] };
}

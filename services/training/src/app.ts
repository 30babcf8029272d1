import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { trainingV1 } from '@charge/contracts';
import { connectNats, createSyslogSink, ensureStream, OutboxRelay } from '@charge/events';
import {
  createOrm,
  jwksVerifierFromAuth,
  Rpc,
  type BuildContext,
  type BuiltService,
} from '@charge/service-kit';
import type { TrainingConfig } from './config';
import { trainingHandlers } from './grpc/training.handlers';
import { entities, migrations, SCHEMA } from './persistence/schema';
import { Reaper } from './runner/reaper';
import { TrainingRunner } from './runner/task-runner';
import type { UseCaseDeps } from './use-cases/caller';
import { ConfigUseCases } from './use-cases/configs';
import { DatasetUseCases } from './use-cases/datasets';
import { RegistryUseCases } from './use-cases/registry';
import { TaskUseCases } from './use-cases/tasks';
import { subscribeUserDeletions } from './use-cases/user-deletions';

/** Composition root of the training service. Migrations are applied by `npm run migrate`. */
export async function build({
  name,
  config,
  logger,
  lifecycle,
  shipper,
  inflight,
}: BuildContext<TrainingConfig>): Promise<BuiltService> {
  const dataDir = path.resolve(config.TRAINING_DATA_DIR);
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
  await ensureStream(jsm, 'TRAINING_JOBS');
  shipper.attach(createSyslogSink(nc, name));
  lifecycle.onStop('syslog', () => shipper.detach());

  const relay = new OutboxRelay({ orm, nc, schema: SCHEMA, logger });
  relay.start();
  lifecycle.onStop('outbox-relay', () => relay.stop());

  const deletions = subscribeUserDeletions(nc, orm, logger);
  lifecycle.onStop('users-deleted', () => deletions.unsubscribe());

  const reaper = new Reaper(orm, config.TRAINING_STALE_AFTER_MS, logger, relay);
  reaper.start();
  lifecycle.onStop('reaper', () => reaper.stop());

  if (config.TRAINING_SLOTS > 0) {
    const runner = new TrainingRunner({
      orm,
      nc,
      logger,
      slots: config.TRAINING_SLOTS,
      durable: config.TRAINING_RUNNER_CONSUMER,
      heartbeatMs: config.TRAINING_HEARTBEAT_MS,
      graceMs: config.TRAINING_CANCEL_GRACE_MS,
      dataDir,
      llamaFactoryCli: config.LLAMAFACTORY_CLI,
      relay,
    });
    await runner.start();
    lifecycle.onStop('runner', () => runner.stop());
  }

  const deps: UseCaseDeps = {
    relay,
    dataDir,
    maxDatasetBytes: config.TRAINING_MAX_DATASET_BYTES,
    llamaFactoryCli: config.LLAMAFACTORY_CLI,
  };
  const tasks = new TaskUseCases(deps);
  const implementation = trainingHandlers({
    rpc: new Rpc({ logger, verifier: jwksVerifierFromAuth(config.AUTH_GRPC_ADDR, lifecycle), orm, inflight }),
    datasets: new DatasetUseCases(deps),
    configs: new ConfigUseCases(deps),
    tasks,
    registry: new RegistryUseCases(deps, tasks),
    maxDatasetBytes: config.TRAINING_MAX_DATASET_BYTES,
    watchIntervalMs: 300,
  });
  return { services: [{ definition: trainingV1.TrainingServiceService, implementation }] };
}

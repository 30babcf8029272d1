import path from 'node:path';
import { trainingV1 } from '@charge/contracts';
import { onUsersDeleted } from '@charge/events';
import {
  jwksVerifierFromAuth,
  Rpc,
  startBackbone,
  type BuildContext,
  type BuiltService,
} from '@charge/service-kit';
import type { TrainingConfig } from './config';
import { trainingHandlers } from './grpc/training.handlers';
import * as persistence from './persistence/schema';
import { Reaper } from './runner/reaper';
import { TrainingRunner } from './runner/task-runner';
import type { UseCaseDeps } from './use-cases/caller';
import { ConfigUseCases } from './use-cases/configs';
import { DatasetUseCases } from './use-cases/datasets';
import { RegistryUseCases } from './use-cases/registry';
import { TaskUseCases } from './use-cases/tasks';
import { forgetUser } from './use-cases/user-deletions';

/** Composition root of the training service. Migrations are applied by `npm run migrate`. */
export async function build(ctx: BuildContext<TrainingConfig>): Promise<BuiltService> {
  const { config, logger, lifecycle, inflight, metrics } = ctx;
  const dataDir = path.resolve(config.TRAINING_DATA_DIR);
  const { orm, nc, relay } = await startBackbone(ctx, persistence, { streams: ['TRAINING_JOBS'] });

  lifecycle.onStop(
    'users-deleted',
    await onUsersDeleted(nc, { queue: 'training', handler: (userId) => forgetUser(orm, userId), logger }),
  );

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
    rpc: new Rpc({
      logger,
      verifier: jwksVerifierFromAuth(config.AUTH_GRPC_ADDR, lifecycle),
      orm,
      inflight,
      metrics,
    }),
    datasets: new DatasetUseCases(deps),
    configs: new ConfigUseCases(deps),
    tasks,
    registry: new RegistryUseCases(deps, tasks),
    maxDatasetBytes: config.TRAINING_MAX_DATASET_BYTES,
    watchIntervalMs: 300,
  });
  return { services: [{ definition: trainingV1.TrainingServiceService, implementation }] };
}

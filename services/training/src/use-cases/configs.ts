import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { DomainError } from '@charge/errors';
import type { HyperparameterValues } from '../domain/hyperparameters';
import { exportLlamaFactoryYaml, importLlamaFactoryYaml } from '../domain/llamafactory-yaml';
import { findIdPage } from '@charge/service-kit';
import { ConfigEntity, type ConfigRow } from '../persistence/config.entity';
import { assertOwner, audit, checkId, isAdmin, requireText, type Caller, type UseCaseDeps } from './caller';

export interface ConfigInput {
  name: string;
  baseModel: string;
  modelPath: string;
  adapterType: string;
  modelSize: string;
  datasetStrategy: string;
  hyperparameters: HyperparameterValues;
  notes: string;
}

const ADAPTERS = ['lora', 'freeze', 'full', 'none'];
const STRATEGIES = ['full', 'balanced', 'high_quality'];

function normalise(input: ConfigInput): Omit<ConfigRow, 'id' | 'createdBy' | 'createdAt' | 'updatedAt'> {
  const adapterType = input.adapterType.trim() || 'lora';
  if (!ADAPTERS.includes(adapterType))
    throw DomainError.invalidArgument('config.adapter_type', `must be one of ${ADAPTERS.join(', ')}`);
  const datasetStrategy = input.datasetStrategy.trim() || 'full';
  if (!STRATEGIES.includes(datasetStrategy)) {
    throw DomainError.invalidArgument('config.dataset_strategy', `must be one of ${STRATEGIES.join(', ')}`);
  }
  const modelSize = input.modelSize.trim() || '1.5b';
  if (!/^[0-9a-z.]{1,20}$/i.test(modelSize))
    throw DomainError.invalidArgument('config.model_size', 'must look like 1.5b');
  return {
    name: requireText('config.name', input.name, 100),
    baseModel: requireText('config.base_model', input.baseModel, 100),
    modelPath: requireText('config.model_path', input.modelPath, 500),
    adapterType,
    modelSize,
    datasetStrategy,
    hyperparameters: input.hyperparameters,
    notes: requireText('config.notes', input.notes, 10_000, false) || null,
  };
}

const auditValues = (c: ConfigRow) => ({
  name: c.name,
  base_model: c.baseModel,
  model_path: c.modelPath,
  adapter_type: c.adapterType,
  dataset_strategy: c.datasetStrategy,
  hyperparameters: c.hyperparameters,
});

export class ConfigUseCases {
  constructor(private readonly deps: UseCaseDeps) {}

  async create(
    em: EntityManager,
    caller: Caller,
    input: ConfigInput,
    action = 'created',
  ): Promise<ConfigRow> {
    const fields = normalise(input);
    const row = await em.transactional(async (tem) => {
      const now = new Date();
      const config = tem.create(ConfigEntity, {
        ...fields,
        createdBy: caller.claims.userId,
        createdAt: now,
        updatedAt: now,
      });
      await tem.flush();
      audit(tem, caller, action, 'config', config.id, { newValues: auditValues(config) });
      return config;
    });
    this.deps.relay.kick();
    return row;
  }

  async get(em: EntityManager, caller: Caller, id: number): Promise<ConfigRow> {
    checkId('id', id);
    const row = await em.findOne(ConfigEntity, { id });
    if (!row || !(isAdmin(caller) || row.createdBy === caller.claims.userId))
      throw DomainError.notFound('config', id);
    return row;
  }

  async list(em: EntityManager, caller: Caller, input: { pageSize?: number; pageToken?: string }) {
    const own: FilterQuery<ConfigRow> = isAdmin(caller) ? {} : { createdBy: caller.claims.userId };
    return findIdPage(em, ConfigEntity, own, input);
  }

  async update(em: EntityManager, caller: Caller, id: number, input: ConfigInput): Promise<ConfigRow> {
    const fields = normalise(input);
    const row = await em.transactional(async (tem) => {
      const config = await this.get(tem, caller, id);
      const before = auditValues(config);
      Object.assign(config, fields, { updatedAt: new Date() });
      await tem.flush();
      audit(tem, caller, 'updated', 'config', id, { oldValues: before, newValues: auditValues(config) });
      return config;
    });
    this.deps.relay.kick();
    return row;
  }

  async delete(em: EntityManager, caller: Caller, id: number): Promise<void> {
    await em.transactional(async (tem) => {
      const config = await this.get(tem, caller, id);
      assertOwner(caller, config);
      await tem.nativeDelete(ConfigEntity, { id });
      audit(tem, caller, 'deleted', 'config', id, { oldValues: auditValues(config) });
    });
    this.deps.relay.kick();
  }

  importYaml(
    em: EntityManager,
    caller: Caller,
    name: string,
    yaml: string,
    notes: string,
  ): Promise<ConfigRow> {
    if (yaml.length > 100_000) throw DomainError.invalidArgument('yaml', 'must be at most 100000 characters');
    const imported = importLlamaFactoryYaml(yaml);
    const baseModel = imported.modelPath.split('/').filter(Boolean).pop() ?? imported.modelPath;
    return this.create(
      em,
      caller,
      {
        name,
        baseModel: baseModel.slice(0, 100),
        modelPath: imported.modelPath,
        adapterType: imported.adapterType,
        modelSize: '',
        datasetStrategy: '',
        hyperparameters: imported.hyperparameters,
        notes,
      },
      'imported',
    );
  }

  async exportYaml(em: EntityManager, caller: Caller, id: number): Promise<string> {
    const config = await this.get(em, caller, id);
    return exportLlamaFactoryYaml(config);
  }
}

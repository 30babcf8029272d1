import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { DomainError } from '@charge/errors';
import { validateDataset, type DatasetKind } from '../domain/dataset-validation';
import { findIdPage } from '@charge/service-kit';
import { DatasetEntity, type DatasetRow } from '../persistence/dataset.entity';
import { assertOwner, audit, checkId, isAdmin, requireText, type Caller, type UseCaseDeps } from './caller';

export interface UploadHeader {
  name: string;
  description: string;
  datasetType: DatasetKind;
  isPublic: boolean;
  fileName: string;
}

const auditValues = (d: DatasetRow) => ({
  name: d.name,
  dataset_type: d.datasetType,
  sample_count: d.sampleCount,
  is_public: d.isPublic,
});

export class DatasetUseCases {
  constructor(private readonly deps: UseCaseDeps) {}

  /** Validates the whole file before anything is stored: bad samples leave no trace. */
  async upload(em: EntityManager, caller: Caller, header: UploadHeader, bytes: Buffer): Promise<DatasetRow> {
    const name = requireText('header.name', header.name, 100);
    const description = requireText('header.description', header.description, 10_000, false);
    if (!bytes.length) throw DomainError.invalidArgument('chunk', 'the file is empty', 'DATASET_EMPTY');
    const { samples, meta } = validateDataset(header.datasetType, bytes, header.fileName);
    const dir = path.join(this.deps.dataDir, 'datasets');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `${randomUUID()}.jsonl`);
    await writeFile(`${file}.part`, `${samples.join('\n')}\n`);
    await rename(`${file}.part`, file);
    try {
      const row = await em.transactional(async (tem) => {
        const now = new Date();
        const dataset = tem.create(DatasetEntity, {
          name,
          description: description || null,
          datasetType: header.datasetType,
          filePath: file,
          sampleCount: samples.length,
          metaInfo: { ...meta, file_name: header.fileName.slice(0, 255), bytes: bytes.length },
          isPublic: header.isPublic,
          createdBy: caller.claims.userId,
          createdAt: now,
          updatedAt: now,
        });
        await tem.flush();
        audit(tem, caller, 'created', 'dataset', dataset.id, { newValues: auditValues(dataset) });
        return dataset;
      });
      this.deps.relay.kick();
      return row;
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
  }

  /** Readable: own, public, or any for admins. */
  async get(em: EntityManager, caller: Caller, id: number): Promise<DatasetRow> {
    checkId('id', id);
    const row = await em.findOne(DatasetEntity, { id });
    if (!row || !(row.isPublic || isAdmin(caller) || row.createdBy === caller.claims.userId)) {
      throw DomainError.notFound('dataset', id);
    }
    return row;
  }

  async list(
    em: EntityManager,
    caller: Caller,
    input: { pageSize?: number; pageToken?: string; datasetType?: string },
  ) {
    const where: FilterQuery<DatasetRow>[] = [];
    if (!isAdmin(caller)) where.push({ $or: [{ isPublic: true }, { createdBy: caller.claims.userId }] });
    if (input.datasetType) where.push({ datasetType: input.datasetType });
    return findIdPage(em, DatasetEntity, { $and: where } as FilterQuery<DatasetRow>, input);
  }

  async delete(em: EntityManager, caller: Caller, id: number): Promise<void> {
    const row = await this.get(em, caller, id);
    assertOwner(caller, row, true);
    await em.transactional(async (tem) => {
      await tem.nativeDelete(DatasetEntity, { id });
      audit(tem, caller, 'deleted', 'dataset', id, { oldValues: auditValues(row) });
    });
    this.deps.relay.kick();
    if (row.filePath) await rm(row.filePath, { force: true });
  }
}

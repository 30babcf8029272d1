import { Migration20261203000000_init } from '../migrations/Migration20261203000000_init';
import { AuditLogEntity } from './audit-log.entity';
import { SystemLogEntity } from './system-log.entity';

export const SCHEMA = 'audit' as const;
export const entities = [AuditLogEntity, SystemLogEntity];
export const migrations = [{ name: 'Migration20261203000000_init', class: Migration20261203000000_init }];

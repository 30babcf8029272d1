import { EntitySchema, OptionalProps } from '@mikro-orm/core';

export interface DbcFileRow {
  [OptionalProps]?: 'createdAt';
  id: number;
  name: string;
  fileName: string | null;
  fileSize: number;
  fileSha256: string;
  content?: string;
  messageCount: number;
  signalCount: number;
  userId: number;
  createdAt: Date;
}

export const DbcFileEntity = new EntitySchema<DbcFileRow>({
  name: 'DbcFile',
  tableName: 'dbc_files',
  indexes: [{ name: 'idx_dbc_files_user_id', properties: ['userId'] }],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    name: { type: 'string', length: 100 },
    fileName: { type: 'string', length: 255, nullable: true, fieldName: 'file_name' },
    fileSize: { type: 'integer', fieldName: 'file_size' },
    fileSha256: { type: 'string', columnType: 'char(64)', fieldName: 'file_sha256' },
    content: { type: 'text', lazy: true },
    messageCount: { type: 'integer', fieldName: 'message_count' },
    signalCount: { type: 'integer', fieldName: 'signal_count' },
    userId: { type: 'integer', fieldName: 'user_id' },
    createdAt: {
      type: 'Date',
      columnType: 'timestamptz',
      fieldName: 'created_at',
      defaultRaw: 'current_timestamp',
    },
  },
});

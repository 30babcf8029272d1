import { EntitySchema, OptionalProps } from '@mikro-orm/core';

export interface AnalysisResultRow {
  [OptionalProps]?: 'createdAt';
  id: number;
  analysisId: number;
  /** `summary`, `finding` or `recommendation`. */
  resultType: string;
  title: string;
  content: string | null;
  confidenceScore: number | null;
  metaInfo?: unknown;
  createdAt: Date;
}

export const AnalysisResultEntity = new EntitySchema<AnalysisResultRow>({
  name: 'AnalysisResult',
  tableName: 'analysis_results',
  indexes: [
    { name: 'idx_analysis_results_analysis_id', properties: ['analysisId'] },
    { name: 'idx_analysis_results_type', properties: ['resultType'] },
  ],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    analysisId: { type: 'integer', fieldName: 'analysis_id' },
    resultType: { type: 'string', length: 50, fieldName: 'result_type' },
    title: { type: 'string', length: 200 },
    content: { type: 'text', nullable: true },
    confidenceScore: { type: 'double', nullable: true, fieldName: 'confidence_score' },
    metaInfo: { type: 'json', nullable: true, fieldName: 'meta_info' },
    createdAt: {
      type: 'Date',
      columnType: 'timestamptz',
      fieldName: 'created_at',
      defaultRaw: 'current_timestamp',
    },
  },
});

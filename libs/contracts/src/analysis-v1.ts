export * from './gen/charge/analysis/v1/analysis_messages';
export {
  AnalysisServiceService,
  AnalysisServiceClient,
  type AnalysisServiceServer,
} from './gen/charge/analysis/v1/analysis_service';

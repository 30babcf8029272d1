export * from './gen/charge/knowledge/v1/knowledge_messages';
export {
  KnowledgeServiceService,
  KnowledgeServiceClient,
  type KnowledgeServiceServer,
} from './gen/charge/knowledge/v1/knowledge_service';

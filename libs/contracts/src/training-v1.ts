export * from './gen/charge/training/v1/training_messages';
export {
  TrainingServiceService,
  TrainingServiceClient,
  type TrainingServiceServer,
} from './gen/charge/training/v1/training_service';

import type { trainingV1 } from '@charge/contracts';

/**
 * UploadDatasetFile (REST: the request body is the file) as UploadDataset messages: the
 * first message's fields become the header, every `file` chunk a chunk. Fields of later
 * messages are ignored, as the gateway sends them only once.
 */
export async function* datasetUploadParts(
  messages: AsyncIterable<trainingV1.UploadDatasetFileRequest>,
): AsyncGenerator<trainingV1.UploadDatasetRequest> {
  let first = true;
  for await (const m of messages) {
    if (first) {
      first = false;
      yield {
        header: {
          name: m.name,
          description: m.description,
          datasetType: m.datasetType,
          isPublic: m.isPublic,
          fileName: m.fileName,
        },
      };
    }
    if (m.file && m.file.data.length > 0) yield { chunk: Buffer.from(m.file.data) };
  }
}

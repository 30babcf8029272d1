import type { knowledgeV1 } from '@charge/contracts';

/**
 * UploadDocumentFile (REST: the request body is the file) as UploadDocument messages: the
 * first message's fields become the header, every `file` chunk a chunk. Fields of later
 * messages are ignored, as the gateway sends them only once.
 */
export async function* documentUploadParts(
  messages: AsyncIterable<knowledgeV1.UploadDocumentFileRequest>,
): AsyncGenerator<knowledgeV1.UploadDocumentRequest> {
  let first = true;
  for await (const m of messages) {
    if (first) {
      first = false;
      yield { header: { collectionId: m.collectionId, filename: m.filename, overwrite: m.overwrite } };
    }
    if (m.file && m.file.data.length > 0) yield { chunk: Buffer.from(m.file.data) };
  }
}

import { DomainError } from '@charge/errors';

/** One message of a header-then-chunks upload stream (the shape of the gRPC upload RPCs). */
export interface UploadMessage<Raw> {
  header?: Raw;
  chunk?: Buffer;
}

export interface CollectUploadOptions<Raw, Header> {
  /** Largest total of the chunks; beyond it INVALID_ARGUMENT with `tooLargeReason`. */
  maxBytes: number;
  tooLargeReason: string;
  /** Validates and maps the header message (may check access); called once, first. */
  header: (raw: Raw) => Header | Promise<Header>;
}

/**
 * Reads a whole header-then-chunks upload into memory (for files small enough to parse
 * whole: documents, datasets): exactly one header, first; the size limit is enforced while
 * reading, so an oversized upload is refused without holding more than the limit.
 */
export async function collectUpload<Raw, Header>(
  messages: AsyncIterable<UploadMessage<Raw>>,
  options: CollectUploadOptions<Raw, Header>,
): Promise<{ header: Header; bytes: Buffer }> {
  let header: Header | undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const message of messages) {
    if (message.header) {
      if (header !== undefined) throw DomainError.invalidArgument('header', 'sent more than once');
      header = await options.header(message.header);
    } else if (message.chunk) {
      if (header === undefined) throw DomainError.invalidArgument('header', 'must be the first message');
      size += message.chunk.length;
      if (size > options.maxBytes)
        throw DomainError.invalidArgument(
          'chunk',
          `the file exceeds ${options.maxBytes} bytes`,
          options.tooLargeReason,
        );
      chunks.push(message.chunk);
    }
  }
  if (header === undefined) throw DomainError.invalidArgument('header', 'is required');
  return { header, bytes: Buffer.concat(chunks) };
}

/**
 * A REST upload stream (the `*File` RPCs: fields in the first message, the file in its
 * `google.api.HttpBody` field) as header-then-chunks messages: the first message's fields
 * become the header; fields of later messages are ignored, as the front door sends them once.
 */
export async function* fileUploadMessages<M extends { file?: { data: Uint8Array } }, Raw>(
  messages: AsyncIterable<M>,
  headerOf: (first: M) => Raw,
): AsyncGenerator<UploadMessage<Raw>> {
  let first = true;
  for await (const m of messages) {
    if (first) {
      first = false;
      yield { header: headerOf(m) };
    }
    const data = m.file?.data;
    // A view, not a copy: uploads can be hundreds of MiB.
    if (data && data.length > 0) yield { chunk: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
  }
}

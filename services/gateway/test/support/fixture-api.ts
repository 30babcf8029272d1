import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  create,
  createFileRegistry,
  fromBinary,
  toBinary,
  toJson,
  type DescMessage,
  type FileRegistry,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import {
  Server,
  ServerCredentials,
  type ServerReadableStream,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/** Builds test/fixtures (gwtest.v1 + the vendored google/api protos) with buf; returns the file path. */
export function buildFixtureDescriptor(dir: string): string {
  const work = path.join(dir, 'fixture-src');
  cpSync(path.join(__dirname, '..', 'fixtures'), work, { recursive: true });
  symlinkSync(path.join(ROOT, 'proto', 'google'), path.join(work, 'google'));
  writeFileSync(path.join(work, 'buf.yaml'), 'version: v2\n');
  const out = path.join(dir, 'fixture.binpb');
  const buf = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'buf'), ['build', '-o', out], {
    cwd: work,
    encoding: 'utf8',
  });
  if (buf.status !== 0) throw new Error(`buf build failed: ${buf.stderr}`);
  return out;
}

type Msg = Record<string, unknown>;

/**
 * A real gRPC server for gwtest.v1.FileService (raw bytes on the wire, decoded with the
 * fixture registry): Upload reports what it received; Download returns an HttpBody;
 * Rename echoes the target; Search echoes its request as JSON (bucket `slow`: no answer).
 */
export class FixtureFileService {
  private constructor(
    private readonly server: Server,
    readonly address: string,
  ) {}

  static async start(descriptorFile: string): Promise<FixtureFileService> {
    const registry: FileRegistry = createFileRegistry(
      fromBinary(FileDescriptorSetSchema, readFileSync(descriptorFile)),
    );
    const type = (name: string) => registry.getMessage(name) as DescMessage;
    const decode = (name: string, b: Buffer) => fromBinary(type(name), b) as unknown as Msg;
    const encode = (name: string, m: Msg) =>
      Buffer.from(toBinary(type(name), create(type(name), m as never)));
    const raw = (b: Buffer) => b;
    const method = (name: string, requestStream: boolean) => ({
      path: `/gwtest.v1.FileService/${name}`,
      requestStream,
      responseStream: false,
      requestSerialize: raw,
      requestDeserialize: raw,
      responseSerialize: raw,
      responseDeserialize: raw,
    });
    const server = new Server();
    server.addService(
      {
        Upload: method('Upload', true),
        Download: method('Download', false),
        Rename: method('Rename', false),
        Search: method('Search', false),
      },
      {
        Upload: (call: ServerReadableStream<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
          let name = '';
          let size = 0;
          let chunks = 0;
          let contentType = '';
          call.on('data', (b: Buffer) => {
            const m = decode('gwtest.v1.UploadRequest', b) as { name: string; file?: Msg };
            if (chunks === 0) name = m.name;
            chunks += 1;
            size += (m.file?.data as Uint8Array | undefined)?.length ?? 0;
            contentType ||= String(m.file?.contentType ?? '');
          });
          call.on('end', () =>
            cb(null, encode('gwtest.v1.UploadResponse', { name, size: BigInt(size), chunks, contentType })),
          );
        },
        Download: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
          const { name } = decode('gwtest.v1.DownloadRequest', call.request) as { name: string };
          cb(
            null,
            encode('google.api.HttpBody', {
              contentType: 'text/plain; charset=utf-8',
              data: new TextEncoder().encode(`contents of ${name}`),
            }),
          );
        },
        Rename: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
          const m = decode('gwtest.v1.RenameRequest', call.request) as { name: string; target?: Msg };
          cb(
            null,
            encode('gwtest.v1.RenameResponse', {
              file: { $typeName: 'gwtest.v1.FileInfo', name: String(m.target?.newName ?? '') },
              note: `from ${m.name}`,
            }),
          );
        },
        Search: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
          const req = fromBinary(type('gwtest.v1.SearchRequest'), call.request);
          // Bucket `slow` never answers: the caller's deadline ends the call.
          if ((req as unknown as { bucket: string }).bucket === 'slow') return;
          const echo = JSON.stringify(toJson(type('gwtest.v1.SearchRequest'), req));
          cb(null, encode('gwtest.v1.SearchResponse', { echo }));
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    return new FixtureFileService(server, `127.0.0.1:${port}`);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}

export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ct-gw-fixture-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Hand-assembles BLF files (valid and hostile) for tests. */
import { deflateSync } from 'node:zlib';

/** A 144-byte file header. */
export function fileHeader(headerSize = 144): Buffer {
  const h = Buffer.alloc(Math.max(headerSize, 80));
  h.write('LOGG', 0, 'latin1');
  h.writeUInt32LE(headerSize, 4);
  return h;
}

/** A base object header (16 bytes) followed by `rest`. */
export function object(type: number, rest: Buffer, headerSize = 16, objectSize?: number): Buffer {
  const h = Buffer.alloc(16);
  h.write('LOBJ', 0, 'latin1');
  h.writeUInt16LE(headerSize, 4);
  h.writeUInt16LE(1, 6);
  h.writeUInt32LE(objectSize ?? 16 + rest.length, 8);
  h.writeUInt32LE(type, 12);
  return Buffer.concat([h, rest]);
}

/** A LOG_CONTAINER holding `inner` (zlib unless method 0), padded by objectSize % 4. */
export function container(inner: Buffer, method = 2, declared = inner.length): Buffer {
  const payload = method === 2 ? deflateSync(inner) : inner;
  const fields = Buffer.alloc(16);
  fields.writeUInt16LE(method, 0);
  fields.writeUInt32LE(declared, 8);
  const obj = object(10, Buffer.concat([fields, payload]));
  return Buffer.concat([obj, Buffer.alloc(obj.length % 4)]);
}

/** A CAN_MESSAGE (type 1) object with a v1 header, 1 ns timestamps. */
export function canMessage(id: number, data: number[], timestampNs = 0, channel = 1): Buffer {
  const v1 = Buffer.alloc(16);
  v1.writeUInt32LE(2, 0);
  v1.writeUInt32LE(timestampNs % 4294967296, 8);
  v1.writeUInt32LE(Math.floor(timestampNs / 4294967296), 12);
  const body = Buffer.alloc(16);
  body.writeUInt16LE(channel, 0);
  body[3] = data.length;
  body.writeUInt32LE(id >>> 0, 4);
  Buffer.from(data).copy(body, 8);
  return object(1, Buffer.concat([v1, body]), 32);
}

/** A file: header plus top-level objects. */
export function blfFile(...objects: Buffer[]): Buffer {
  return Buffer.concat([fileHeader(), ...objects]);
}

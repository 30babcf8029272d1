import path from 'node:path';

/** Absolute path of the `buf build` descriptor set of every contract in proto/. */
export function descriptorSetPath(): string {
  return path.resolve(__dirname, '..', 'descriptor.binpb');
}

import { Client, credentials, type ChannelOptions } from '@grpc/grpc-js';
import { traceInterceptor } from '@charge/service-kit';

/** Messages cross the gateway as bytes: JSON ⇄ protobuf happens once, with the registry. */
export const passBytes = (b: Buffer): Buffer => b;

/** One generic grpc-js client per upstream service, created on first use. */
export class Upstreams {
  private readonly clients = new Map<string, Client>();

  constructor(private readonly addresses: Readonly<Record<string, string>>) {}

  /** The client for a proto package segment, or undefined when no address is configured. */
  get(name: string): Client | undefined {
    let client = this.clients.get(name);
    if (client) return client;
    const address = this.addresses[name];
    if (!address) return undefined;
    client = new Client(address, credentials.createInsecure(), {
      interceptors: [traceInterceptor],
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    } as Partial<ChannelOptions>);
    this.clients.set(name, client);
    return client;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

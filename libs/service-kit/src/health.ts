import {
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { healthV1 } from '@charge/contracts';

const { ServingStatus } = { ServingStatus: healthV1.HealthCheckResponse_ServingStatus };

/**
 * grpc.health.v1 for the whole server ("") and each registered service name.
 * Watchers are told of every change.
 */
export class HealthRegistry {
  private readonly statuses = new Map<string, healthV1.HealthCheckResponse_ServingStatus>();
  private readonly watchers = new Set<{
    service: string;
    call: ServerWritableStream<healthV1.HealthCheckRequest, healthV1.HealthCheckResponse>;
  }>();

  constructor(services: string[]) {
    for (const name of ['', ...services]) this.statuses.set(name, ServingStatus.NOT_SERVING);
  }

  setAll(serving: boolean): void {
    for (const name of this.statuses.keys())
      this.statuses.set(name, serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
    for (const w of this.watchers)
      w.call.write({ status: this.statuses.get(w.service) ?? ServingStatus.SERVICE_UNKNOWN });
  }

  implementation(): UntypedServiceImplementation {
    return {
      check: (
        call: ServerUnaryCall<healthV1.HealthCheckRequest, healthV1.HealthCheckResponse>,
        callback: sendUnaryData<healthV1.HealthCheckResponse>,
      ) => {
        const current = this.statuses.get(call.request.service);
        if (current === undefined)
          callback({ code: status.NOT_FOUND, details: `unknown service ${call.request.service}` });
        else callback(null, { status: current });
      },
      watch: (call: ServerWritableStream<healthV1.HealthCheckRequest, healthV1.HealthCheckResponse>) => {
        const watcher = { service: call.request.service, call };
        this.watchers.add(watcher);
        call.write({ status: this.statuses.get(call.request.service) ?? ServingStatus.SERVICE_UNKNOWN });
        call.on('cancelled', () => this.watchers.delete(watcher));
      },
    };
  }

  /** Ends open Watch streams so that shutdown is not held up by them. */
  closeWatchers(): void {
    for (const w of this.watchers) w.call.end();
    this.watchers.clear();
  }
}

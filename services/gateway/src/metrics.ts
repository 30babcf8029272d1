/** Prometheus text-format metrics of the gateway: requests by route, method and code, and latency. */
import { Counter, Histogram, labels, secondsSince } from '@charge/metrics';

const BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class GatewayMetrics {
  private readonly requests = new Counter(
    'gateway_requests_total',
    'HTTP requests by route template, method, HTTP status and gRPC code.',
  );
  private readonly latency = new Histogram(
    'gateway_request_duration_seconds',
    'Time to the end of the response.',
    BUCKETS_S,
  );
  private inflight = 0;

  /** Starts timing one request; call the result when the response has been sent. */
  start(): (route: string, method: string, httpStatus: number, grpcCode: number) => void {
    const t0 = process.hrtime.bigint();
    this.inflight += 1;
    let done = false;
    return (route, method, httpStatus, grpcCode) => {
      if (done) return;
      done = true;
      this.inflight -= 1;
      const key = labels({ route, method });
      this.requests.inc(`${key},${labels({ status: httpStatus, grpc_code: grpcCode })}`);
      this.latency.observe(key, secondsSince(t0));
    };
  }

  render(): string {
    const lines = [
      ...this.requests.render(),
      ...this.latency.render(),
      '# HELP gateway_requests_in_flight Requests being served.',
      '# TYPE gateway_requests_in_flight gauge',
      `gateway_requests_in_flight ${this.inflight}`,
    ];
    return `${lines.join('\n')}\n`;
  }
}

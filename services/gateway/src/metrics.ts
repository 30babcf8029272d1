/** Prometheus text-format metrics of the gateway: requests by route, method and code, and latency. */

const BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Series {
  labels: string;
  count: number;
  sum: number;
  buckets: number[];
}

export class GatewayMetrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Series>();
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
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const counterKey = `route="${esc(route)}",method="${method}",status="${httpStatus}",grpc_code="${grpcCode}"`;
      this.requests.set(counterKey, (this.requests.get(counterKey) ?? 0) + 1);
      const key = `route="${esc(route)}",method="${method}"`;
      let series = this.latency.get(key);
      if (!series)
        this.latency.set(key, (series = { labels: key, count: 0, sum: 0, buckets: BUCKETS_S.map(() => 0) }));
      series.count += 1;
      series.sum += seconds;
      BUCKETS_S.forEach((b, i) => {
        if (seconds <= b) series.buckets[i] += 1;
      });
    };
  }

  render(): string {
    const lines = [
      '# HELP gateway_requests_total HTTP requests by route template, method, HTTP status and gRPC code.',
      '# TYPE gateway_requests_total counter',
      ...[...this.requests].map(([labels, n]) => `gateway_requests_total{${labels}} ${n}`),
      '# HELP gateway_request_duration_seconds Time to the end of the response.',
      '# TYPE gateway_request_duration_seconds histogram',
    ];
    for (const s of this.latency.values()) {
      BUCKETS_S.forEach((b, i) =>
        lines.push(`gateway_request_duration_seconds_bucket{${s.labels},le="${b}"} ${s.buckets[i]}`),
      );
      lines.push(`gateway_request_duration_seconds_bucket{${s.labels},le="+Inf"} ${s.count}`);
      lines.push(`gateway_request_duration_seconds_sum{${s.labels}} ${s.sum}`);
      lines.push(`gateway_request_duration_seconds_count{${s.labels}} ${s.count}`);
    }
    lines.push('# HELP gateway_requests_in_flight Requests being served.');
    lines.push('# TYPE gateway_requests_in_flight gauge');
    lines.push(`gateway_requests_in_flight ${this.inflight}`);
    return `${lines.join('\n')}\n`;
  }
}

function esc(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * The few Prometheus metric families the services render themselves, in the text
 * exposition format 0.0.4: a labelled counter and a labelled histogram. Label sets are
 * pre-rendered strings (`k="v",…`, see `labels`), so hot paths build them once.
 */

/** A label value escaped for the text format (backslash, double quote, newline). */
export function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** `{a: 'x', b: 2}` → `a="x",b="2"` (values escaped, in the given order). */
export function labels(set: Record<string, string | number>): string {
  return Object.entries(set)
    .map(([k, v]) => `${k}="${labelValue(String(v))}"`)
    .join(',');
}

/** Seconds elapsed since `t0` (from `process.hrtime.bigint()`). */
export function secondsSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** A counter family: one value per label set. */
export class Counter {
  private readonly values = new Map<string, number>();

  constructor(
    readonly name: string,
    private readonly help: string,
  ) {}

  inc(labelSet = '', by = 1): void {
    this.values.set(labelSet, (this.values.get(labelSet) ?? 0) + by);
  }

  get(labelSet = ''): number {
    return this.values.get(labelSet) ?? 0;
  }

  render(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} counter`,
      ...[...this.values].map(([l, v]) => (l ? `${this.name}{${l}} ${v}` : `${this.name} ${v}`)),
    ];
  }
}

interface Series {
  count: number;
  sum: number;
  /** Observations ≤ each bucket bound (cumulative, as exposed). */
  buckets: number[];
}

/** A histogram family with fixed upper bounds: one series per label set. */
export class Histogram {
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    private readonly help: string,
    readonly bounds: readonly number[],
  ) {}

  observe(labelSet: string, value: number): void {
    let s = this.series.get(labelSet);
    if (!s) this.series.set(labelSet, (s = { count: 0, sum: 0, buckets: this.bounds.map(() => 0) }));
    s.count += 1;
    s.sum += value;
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]) s.buckets[i] += 1;
  }

  /** Observations of one label set. */
  count(labelSet: string): number {
    return this.series.get(labelSet)?.count ?? 0;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [l, s] of this.series) {
      const sep = l ? `${l},` : '';
      this.bounds.forEach((b, i) => lines.push(`${this.name}_bucket{${sep}le="${b}"} ${s.buckets[i]}`));
      lines.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      lines.push(l ? `${this.name}_sum{${l}} ${s.sum}` : `${this.name}_sum ${s.sum}`);
      lines.push(l ? `${this.name}_count{${l}} ${s.count}` : `${this.name}_count ${s.count}`);
    }
    return lines;
  }
}

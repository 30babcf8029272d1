import { Counter, Histogram, labels, labelValue } from '../src';

describe('text exposition', () => {
  test('label values are escaped; label sets keep their order', () => {
    expect(labelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(labels({ route: '/v1/x', code: 0 })).toBe('route="/v1/x",code="0"');
  });

  test('a counter renders HELP, TYPE and one line per label set', () => {
    const c = new Counter('requests_total', 'Requests.');
    c.inc('method="GET"');
    c.inc('method="GET"', 2);
    c.inc('method="POST"');
    expect(c.get('method="GET"')).toBe(3);
    expect(c.render()).toEqual([
      '# HELP requests_total Requests.',
      '# TYPE requests_total counter',
      'requests_total{method="GET"} 3',
      'requests_total{method="POST"} 1',
    ]);
  });

  test('a histogram counts cumulatively per bound, with +Inf, sum and count', () => {
    const h = new Histogram('job_seconds', 'Job time.', [0.1, 1]);
    h.observe('q="a"', 0.05);
    h.observe('q="a"', 0.5);
    h.observe('q="a"', 3);
    h.observe('', 0.1);
    expect(h.count('q="a"')).toBe(3);
    expect(h.render()).toEqual([
      '# HELP job_seconds Job time.',
      '# TYPE job_seconds histogram',
      'job_seconds_bucket{q="a",le="0.1"} 1',
      'job_seconds_bucket{q="a",le="1"} 2',
      'job_seconds_bucket{q="a",le="+Inf"} 3',
      'job_seconds_sum{q="a"} 3.55',
      'job_seconds_count{q="a"} 3',
      'job_seconds_bucket{le="0.1"} 1',
      'job_seconds_bucket{le="1"} 1',
      'job_seconds_bucket{le="+Inf"} 1',
      'job_seconds_sum 0.1',
      'job_seconds_count 1',
    ]);
  });
});

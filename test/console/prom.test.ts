/** The console's reading of /metrics (console/src/prom.ts), on Prometheus text as prom-client writes it. */
import { parseProm, quantile, sum } from '../../console/src/prom';

const TEXT = `# HELP metapixel_index_regions Regions in the search index.
# TYPE metapixel_index_regions gauge
metapixel_index_regions{product_set="projects/p/locations/l/productSets/a"} 10
metapixel_index_regions{product_set="projects/p/locations/l/productSets/b \\"x\\""} 5
metapixel_inference_queue_depth{model="ssd",state="running"} 2
metapixel_inference_queue_depth{model="ssd",state="waiting"} 7
metapixel_index_lag_seconds_bucket{le="0.01"} 3
metapixel_index_lag_seconds_bucket{le="0.1"} 9
metapixel_index_lag_seconds_bucket{le="+Inf"} 10
metapixel_index_lag_seconds_sum 1.5
metapixel_index_lag_seconds_count 10
metapixel_slow_bucket{le="0.5"} 1
metapixel_slow_bucket{le="+Inf"} 4
`;

test('samples, label values with escapes, sums by label', () => {
  const m = parseProm(TEXT);
  expect(sum(m, 'metapixel_index_regions')).toBe(15);
  expect(m[1].labels.product_set).toBe('projects/p/locations/l/productSets/b "x"');
  expect(sum(m, 'metapixel_inference_queue_depth', { model: 'ssd', state: 'waiting' })).toBe(7);
  expect(sum(m, 'metapixel_index_lag_seconds_count')).toBe(10);
});

test('histogram quantiles: the bucket bound, or "over" the last finite bound', () => {
  const m = parseProm(TEXT);
  expect(quantile(m, 'metapixel_index_lag_seconds', 0.5)).toEqual({ le: 0.1, over: false });
  expect(quantile(m, 'metapixel_index_lag_seconds', 0.3)).toEqual({ le: 0.01, over: false });
  expect(quantile(m, 'metapixel_index_lag_seconds', 0.95)).toEqual({ le: 0.1, over: true });
  expect(quantile(m, 'metapixel_slow', 0.95)).toEqual({ le: 0.5, over: true });
  expect(quantile(m, 'metapixel_absent', 0.5)).toBeUndefined();
});

import { median, medianOf } from '../../src/core/stats';

describe('median', () => {
  it.each([
    [[], 0],
    [[3], 3],
    [[5, 1], 3],
    [[0.3, -2, 7], 0.3],
    [[4, 1, 3, 2], 2.5],
  ])('of %j is %d, from an array or in place from a Float64Array', (values, want) => {
    expect(median(values)).toBe(want);
    const typed = Float64Array.from(values);
    expect(medianOf(typed)).toBe(want);
  });
});

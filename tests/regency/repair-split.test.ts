import { describe, expect, it } from 'vitest';
import { split } from '../../src/regency/store/repair-repo.js';

describe('a gap split by the seqs a gateway answered missing', () => {
  it.each([
    { gap: [10, 20], missing: [[10, 20]], lost: [[10, 20]], kept: [] },
    { gap: [10, 20], missing: [[1, 5]], lost: [], kept: [[10, 20]] },
    { gap: [10, 20], missing: [[8, 12]], lost: [[10, 12]], kept: [[13, 20]] },
    {
      gap: [10, 20],
      missing: [
        [14, 15],
        [12, 12],
        [20, 30],
      ],
      lost: [
        [12, 12],
        [14, 15],
        [20, 20],
      ],
      kept: [
        [10, 11],
        [13, 13],
        [16, 19],
      ],
    },
    {
      gap: [10, 20],
      missing: [
        [11, 12],
        [13, 14],
      ],
      lost: [[11, 14]],
      kept: [
        [10, 10],
        [15, 20],
      ],
    },
  ])('$gap minus $missing', ({ gap, missing, lost, kept }) => {
    expect(split(gap[0] as number, gap[1] as number, missing as Array<[number, number]>)).toEqual({
      lost,
      kept,
    });
  });
});

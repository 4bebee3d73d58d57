/** The whole image as a normalized bounding polygon: the benchmarks' baseline regions. */
export const WHOLE_IMAGE_POLY = {
  normalizedVertices: [
    { x: 0, y: 0 },
    { x: 1, y: 0 },
    { x: 1, y: 1 },
    { x: 0, y: 1 },
  ],
};

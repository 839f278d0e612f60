/** A straight line y = intercept + slope · x fitted by least squares. */
export interface LineFit {
  slope: number;
  intercept: number;
  /** How much of the variance of y the line explains (1 for points on a line, 0 for none). */
  r2: number;
  points: number;
}

/** Fits a line by ordinary least squares; needs two points with different x. */
export function leastSquares(points: readonly { x: number; y: number }[]): LineFit {
  const n = points.length;
  if (n < 2) throw new Error(`a line needs two points, not ${n}`);
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / n;
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const { x, y } of points) {
    sxx += (x - meanX) ** 2;
    sxy += (x - meanX) * (y - meanY);
    syy += (y - meanY) ** 2;
  }
  if (sxx === 0) throw new Error('a line needs points at two different x');
  const slope = sxy / sxx;
  return {
    slope,
    intercept: meanY - slope * meanX,
    r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy),
    points: n,
  };
}

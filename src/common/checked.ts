/** @module common/checked — indexed access that is known to be in range, checked instead of asserted with `!`. */

/** `xs[i]`, throwing when `i` is out of range (a programming error, not bad input). */
export function at<T>(xs: readonly T[], i: number): T {
  const x = xs[i];
  if (x === undefined && !(i >= 0 && i < xs.length)) throw new RangeError(`index ${i} out of range 0..${xs.length - 1}`);
  return x as T;
}

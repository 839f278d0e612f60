/**
 * Whether a JSON value nests objects and arrays more than `limit` levels deep (a scalar is 0
 * levels, `{}` and `[]` are 1). Walks with a stack of its own, so no depth can exhaust the call
 * stack here; JSON.parse builds values far deeper than JSON.stringify or a recursive walk can
 * take.
 */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const { value: current, depth } = pending.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) pending.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}

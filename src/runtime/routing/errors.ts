/**
 * Why a route could not be compiled. `position` is the 1-based column in the route text of the
 * token at fault; the message reads `position 23: unknown function 'foo'`, ready to be prefixed by
 * the route's name.
 */
export class RouteError extends Error {
  constructor(
    readonly problem: string,
    /** 1-based column in `text`, absent for errors about the whole route. */
    readonly position?: number,
    /** The route (or condition) text the position refers to. */
    readonly text?: string,
  ) {
    super(position === undefined ? problem : `position ${position}: ${problem}`);
    this.name = 'RouteError';
  }
}

/** Fails at a 0-based offset of `text`. */
export function failAt(text: string, offset: number, problem: string): never {
  throw new RouteError(problem, offset + 1, text);
}

/**
 * A route error for people: the message, then the route text with a caret under the position,
 * e.g.
 *
 *     routes.r1: position 26: unknown function 'foo'
 *       FROM /messages/* WHERE foo(1) INTO $upstream
 *                              ^
 */
export function describeRouteError(error: RouteError, label?: string): string {
  const head = label === undefined ? error.message : `${label}: ${error.message}`;
  if (error.position === undefined || error.text === undefined) return head;
  const offset = error.position - 1;
  const start = offset === 0 ? 0 : error.text.lastIndexOf('\n', offset - 1) + 1;
  const end = error.text.indexOf('\n', offset);
  const line = error.text.slice(start, end === -1 ? undefined : end).replace(/\t/g, ' ');
  return `${head}\n  ${line}\n  ${' '.repeat(offset - start)}^`;
}

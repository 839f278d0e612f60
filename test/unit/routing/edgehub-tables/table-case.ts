/** A result as edgeHub's tests state it: the condition's Bool, or that it does not compile. */
export type Outcome = 'true' | 'false' | 'undefined' | 'refused';

/** A row of one of edgeHub's tables: the condition and the outcome its test expects. */
export type TableCase = readonly [condition: string, expected: Outcome];

/** A row where this hub answers otherwise on purpose: edgeHub's outcome, ours, and why. */
export type Deviation = readonly [condition: string, edgeHub: Outcome, here: Outcome, reason: string];

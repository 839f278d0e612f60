/**
 * The filter's decision, as in Microsoft's sample filter module: a reading goes on (as an alert)
 * only when its machine temperature is above the threshold, which the module twin's desired property
 * `TemperatureThreshold` sets (25 until it says otherwise).
 */
export const DEFAULT_THRESHOLD = 25;

/** The threshold a desired-properties document (or patch) sets; undefined when it sets none or a bad one. */
export function thresholdFrom(desired: unknown): number | undefined {
  if (!desired || typeof desired !== 'object') return undefined;
  const value = (desired as Record<string, unknown>).TemperatureThreshold;
  const threshold = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof threshold === 'number' && Number.isFinite(threshold) ? threshold : undefined;
}

/** The machine temperature of a message body; undefined when the body is not a sensor reading. */
export function machineTemperatureOf(body: Buffer): number | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const machine = (parsed as { machine?: { temperature?: unknown } } | null)?.machine;
  return typeof machine?.temperature === 'number' ? machine.temperature : undefined;
}

/** Whether the message goes on as an alert. */
export function isAlert(body: Buffer, threshold: number): boolean {
  const temperature = machineTemperatureOf(body);
  return temperature !== undefined && temperature > threshold;
}

/**
 * The readings of the simulated temperature sensor, shaped as Microsoft's SimulatedTemperatureSensor
 * module sends them. The machine warms up from its minimum by about half a degree a reading on
 * average; above its maximum it wavers there; `reset` brings it back to the minimum. Pressure follows
 * the machine temperature; the ambient values waver around fixed points.
 */
export interface SensorReading {
  machine: { temperature: number; pressure: number };
  ambient: { temperature: number; humidity: number };
  timeCreated: string;
}

export interface SensorPolicy {
  machineTemperatureMin: number;
  machineTemperatureMax: number;
  machinePressureMin: number;
  machinePressureMax: number;
  ambientTemperature: number;
  humidityPercent: number;
}

export const DEFAULT_POLICY: SensorPolicy = {
  machineTemperatureMin: 21,
  machineTemperatureMax: 100,
  machinePressureMin: 1,
  machinePressureMax: 10,
  ambientTemperature: 21,
  humidityPercent: 25,
};

/** The machine temperature after `current`; `random` returns values in [0, 1). */
export function nextMachineTemperature(current: number, policy: SensorPolicy, random: () => number): number {
  return current > policy.machineTemperatureMax ? current + random() - 0.5 : current - 0.25 + random() * 1.5;
}

/** The machine pressure at a machine temperature: in step with it, from its minimum to its maximum. */
export function machinePressure(temperature: number, policy: SensorPolicy): number {
  const span = policy.machineTemperatureMax - policy.machineTemperatureMin;
  const scale = (policy.machinePressureMax - policy.machinePressureMin) / span;
  return policy.machinePressureMin + (temperature - policy.machineTemperatureMin) * scale;
}

/** A reading at a machine temperature, taken at `now`. */
export function reading(
  machineTemperature: number,
  policy: SensorPolicy,
  random: () => number,
  now: Date,
): SensorReading {
  return {
    machine: { temperature: machineTemperature, pressure: machinePressure(machineTemperature, policy) },
    ambient: {
      temperature: policy.ambientTemperature + random() - 0.5,
      humidity: policy.humidityPercent - 1 + random() * 2,
    },
    timeCreated: now.toISOString(),
  };
}

/** The sensor's settings from its environment (as the original's): SendInterval seconds, MessageCount. */
export interface SensorSettings {
  sendIntervalMs: number;
  /** Readings to send before stopping; undefined: no end. */
  messageCount: number | undefined;
}

/** The settings in `env`; a bad value is an error naming the variable and what it takes. */
export function sensorSettings(env: Record<string, string | undefined>): SensorSettings {
  const number = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new Error(`${name}: expected a number, got "${raw}"`);
    return value;
  };
  const interval = number('SendInterval', 5);
  if (interval <= 0) throw new Error(`SendInterval: expected seconds above 0, got "${env.SendInterval}"`);
  const count = number('MessageCount', 500);
  return {
    sendIntervalMs: Math.round(interval * 1000),
    messageCount: count <= 0 ? undefined : Math.floor(count),
  };
}

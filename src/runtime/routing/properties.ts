import { SYSTEM_PROPERTY_NAMES, type HubMessage, type SystemPropertyName } from './message.js';

type StringLookup = (message: HubMessage) => string | undefined;

/**
 * System property names by lower-cased `$` name. Besides IoT Hub's names, IoT Edge's internal
 * spellings are accepted so that routes written for IoT Edge keep working.
 */
const SYSTEM_KEYS = new Map<string, SystemPropertyName>([
  ...SYSTEM_PROPERTY_NAMES.map((name) => [name.toLowerCase(), name] as const),
  ['cid', 'correlationId'],
  ['absolute-expiry-time', 'absoluteExpiryTime'],
]);

export function systemPropertyKey(name: string): SystemPropertyName | undefined {
  return SYSTEM_KEYS.get(name.toLowerCase());
}

/** An application property by name, case-insensitively (an exact spelling is tried first). */
export function appProperty(name: string): StringLookup {
  const lower = name.toLowerCase();
  return (message) => {
    const properties = message.properties;
    if (Object.hasOwn(properties, name)) return properties[name];
    for (const key in properties) {
      if (key.length === lower.length && key.toLowerCase() === lower && Object.hasOwn(properties, key)) {
        return properties[key];
      }
    }
    return undefined;
  };
}

export function systemProperty(key: SystemPropertyName): StringLookup {
  return (message) => message.systemProperties[key];
}

/** `$name`: an application property literally named `$name` wins over the system property. */
export function dollarProperty(name: string): StringLookup {
  const app = appProperty(`$${name}`);
  const key = systemPropertyKey(name);
  if (key === undefined) return app;
  return (message) => app(message) ?? message.systemProperties[key];
}

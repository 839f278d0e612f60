/**
 * A device or module twin as IoT Hub hands it out over MQTT (`$iothub/twin/res/200`):
 * `{desired: {..., $version}, reported: {..., $version}}`. Every function returns new documents.
 */
import { diffPatch, isTwinObject, mergePatch, setKey, type TwinObject } from './twin-json.js';

export type TwinProperties = TwinObject & { $version: number };

export interface TwinDocument {
  desired: TwinProperties;
  reported: TwinProperties;
}

export function emptyTwin(): TwinDocument {
  return { desired: { $version: 1 }, reported: { $version: 1 } };
}

/** The properties without the service's own `$`-keys (`$version`, `$metadata`, ...). */
export function withoutMetadata(properties: TwinObject): TwinObject {
  const result: TwinObject = {};
  for (const key of Object.keys(properties)) {
    if (!key.startsWith('$')) setKey(result, key, properties[key]);
  }
  return result;
}

const versioned = (properties: TwinObject, version: number): TwinProperties => ({
  ...properties,
  $version: version,
});

/** A reported patch (already validated) merged in; the reported `$version` goes up by one. */
export function applyReportedPatch(twin: TwinDocument, patch: TwinObject): TwinDocument {
  const merged = mergePatch(withoutMetadata(twin.reported), withoutMetadata(patch));
  return { desired: twin.desired, reported: versioned(merged, twin.reported.$version + 1) };
}

/**
 * A desired patch (from upstream) merged in. Its `$version` becomes the desired version when it
 * has one; otherwise the version goes up by one.
 */
export function applyDesiredPatch(twin: TwinDocument, patch: TwinObject): TwinDocument {
  const version = typeof patch.$version === 'number' ? patch.$version : twin.desired.$version + 1;
  const merged = mergePatch(withoutMetadata(twin.desired), withoutMetadata(patch));
  return { desired: versioned(merged, version), reported: twin.reported };
}

export interface DesiredReplacement {
  twin: TwinDocument;
  /** What to send to subscribed clients (with the new `$version`); undefined when nothing changed. */
  patch?: TwinProperties;
}

/**
 * Desired properties replaced wholesale (a deployment). The version goes up and a patch is computed
 * only when the properties really changed, so redeploying the same manifest notifies nobody.
 */
export function replaceDesired(twin: TwinDocument, desired: TwinObject): DesiredReplacement {
  // merging into {} drops nulls: a null desired value means "absent"
  const next = mergePatch({}, withoutMetadata(desired));
  const changes = diffPatch(withoutMetadata(twin.desired), next);
  if (Object.keys(changes).length === 0) return { twin };
  const version = twin.desired.$version + 1;
  return {
    twin: { desired: versioned(next, version), reported: twin.reported },
    patch: versioned(changes, version),
  };
}

/** A twin document read back from storage or the network, or undefined if it is not one. */
export function asTwinDocument(value: unknown): TwinDocument | undefined {
  if (!isTwinObject(value) || !isTwinObject(value.desired) || !isTwinObject(value.reported)) return undefined;
  if (typeof value.desired.$version !== 'number' || typeof value.reported.$version !== 'number')
    return undefined;
  return value as unknown as TwinDocument;
}

/** Labels the runtime puts on the containers it creates (reference edge-runtime.md §2.8). */
export const LABEL_PREFIX = 'net.azure-devices.edge';
export const OWNER_LABEL = `${LABEL_PREFIX}.owner`;
export const ORIGINAL_IMAGE_LABEL = `${LABEL_PREFIX}.original-image`;
/** The spec's configHash, so the agent notices a container changed or recreated behind its back. */
export const CONFIG_HASH_LABEL = `${LABEL_PREFIX}.config-hash`;
export const DEFAULT_OWNER = 'Microsoft.Azure.Devices.Edge.Agent';

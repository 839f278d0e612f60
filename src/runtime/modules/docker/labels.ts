/** Labels the runtime puts on the containers it creates, with IoT Edge's names where it has them. */
export const LABEL_PREFIX = 'net.azure-devices.edge';
export const OWNER_LABEL = `${LABEL_PREFIX}.owner`;
export const ORIGINAL_IMAGE_LABEL = `${LABEL_PREFIX}.original-image`;
/** The spec's configHash, so the agent notices a container changed or recreated behind its back. */
export const CONFIG_HASH_LABEL = `${LABEL_PREFIX}.config-hash`;
export const DEFAULT_OWNER = 'Microsoft.Azure.Devices.Edge.Agent';
/**
 * The homedir of the daemon that made the container: the owner label is the same for every
 * daemon, so two daemons sharing one engine (each with its own homedir) tell their containers apart
 * by this one.
 */
export const HOMEDIR_LABEL = `${LABEL_PREFIX}.homedir`;
/**
 * What a container created by this runtime may rely on (today: the workload directory bound at
 * /var/run/iotedge). A container made under another contract is reported with no config hash, so
 * the agent recreates it once instead of leaving it bound to a socket that no longer exists.
 */
export const CONTRACT_LABEL = `${LABEL_PREFIX}.runtime-contract`;
export const CONTRACT_VERSION = '2';

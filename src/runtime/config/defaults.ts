/**
 * Built-in defaults merged under config.yaml (edgelet-docker `config/unix/default.yaml` of 1.1).
 * Returned fresh on every call so callers may mutate the result.
 */
export function defaultConfig(): Record<string, unknown> {
  return {
    provisioning: { source: 'manual' },
    agent: {
      name: 'edgeAgent',
      type: 'docker',
      env: {},
      config: { image: 'mcr.microsoft.com/azureiotedge-agent:1.1', auth: {} },
    },
    hostname: 'localhost',
    connect: {
      management_uri: 'unix:///var/run/iotedge/mgmt.sock',
      workload_uri: 'unix:///var/run/iotedge/workload.sock',
    },
    listen: {
      management_uri: 'unix:///var/run/iotedge/mgmt.sock',
      workload_uri: 'unix:///var/run/iotedge/workload.sock',
    },
    homedir: '/var/lib/iotedge',
    moby_runtime: { uri: 'unix:///var/run/docker.sock', network: 'azure-iot-edge' },
    certificates: { auto_generated_ca_lifetime_days: 90 },
  };
}

export const DEFAULT_NETWORK_NAME = 'azure-iot-edge';
export const DEFAULT_AUTO_GENERATED_CA_LIFETIME_DAYS = 90;

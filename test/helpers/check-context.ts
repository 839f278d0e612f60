import type { Settings } from '../../src/runtime/config/settings.js';
import type { CheckContext, CheckDefinition, CheckInputs, FactName, Facts } from '../../src/checks/types.js';

/** A 1.1 config.yaml as loaded with defaults, manual provisioning; override what a test needs. */
export function testSettings(overrides: Partial<Settings> = {}): Settings {
  return {
    provisioning: {
      source: 'manual',
      dynamic_reprovisioning: false,
      device_connection_string: 'HostName=localhost;DeviceId=edge;SharedAccessKey=AAAA',
    },
    allow_elevated_docker_permissions: true,
    agent: {
      name: 'edgeAgent',
      type: 'docker',
      env: {},
      config: { image: 'mcr.microsoft.com/azureiotedge-agent:1.1' },
    },
    hostname: 'localhost',
    connect: {
      management_uri: 'unix:///var/run/iotedge/mgmt.sock',
      workload_uri: 'unix:///var/run/iotedge/workload.sock',
    },
    listen: {
      management_uri: 'fd://iotedge.mgmt.socket',
      workload_uri: 'fd://iotedge.socket',
    },
    homedir: '/var/lib/iotedge',
    moby_runtime: { uri: 'unix:///var/run/docker.sock', network: 'azure-iot-edge' },
    ...overrides,
  };
}

export function testInputs(overrides: Partial<CheckInputs> = {}): CheckInputs {
  return {
    configFile: '/etc/iotedge/config.yaml',
    containerEngineConfigFile: '/etc/docker/daemon.json',
    diagnosticsImageName: 'azureiotedge-diagnostics:test',
    iotedgedPath: '/nonexistent/iotedged',
    ntpServer: '127.0.0.1:1',
    verbose: false,
    env: {},
    hubPorts: { amqp: 5671, https: 443, mqtt: 8883 },
    cliVersion: '0.0.0-test',
    ...overrides,
  };
}

export interface TestContext extends CheckContext {
  /** Facts published through `provide`. */
  provided: Partial<Facts>;
}

/**
 * A CheckContext as the runner would build it, with the given facts already resolved. With `check`, using
 * or providing a fact that check does not declare (in `needs` / `provides`) fails the test.
 */
export function testContext(options: {
  facts?: Partial<Facts>;
  inputs?: Partial<CheckInputs>;
  signal?: AbortSignal;
  check?: CheckDefinition;
}): TestContext {
  const { check } = options;
  const facts = options.facts ?? {};
  const provided: Partial<Facts> = {};
  return {
    inputs: testInputs(options.inputs),
    signal: options.signal ?? new AbortController().signal,
    provided,
    fact<K extends FactName>(name: K): Facts[K] {
      if (check && !check.needs?.includes(name)) throw new Error(`${check.id} used undeclared fact ${name}`);
      const value = facts[name];
      if (value === undefined) throw new Error(`test context has no fact ${name}`);
      return value as Facts[K];
    },
    provide<K extends FactName>(name: K, value: Facts[K]): void {
      if (check && !check.provides?.includes(name))
        throw new Error(`${check.id} provided undeclared fact ${name}`);
      provided[name] = value;
    },
  };
}

/** A complete, valid deployment manifest for tests, and path-based edits of copies of it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonMap = { [key: string]: Json };

export const REGISTRY_PASSWORD = 'hunter2-secret';

export function validManifest(): { modulesContent: JsonMap } {
  return {
    modulesContent: {
      $edgeAgent: {
        'properties.desired': {
          schemaVersion: '1.1',
          runtime: {
            type: 'docker',
            settings: {
              minDockerVersion: 'v1.25',
              loggingOptions: '',
              registryCredentials: {
                private: {
                  address: 'registry.example.com:5000',
                  username: 'puller',
                  password: REGISTRY_PASSWORD,
                },
              },
            },
          },
          systemModules: {
            edgeAgent: {
              type: 'docker',
              settings: { image: 'mcr.microsoft.com/azureiotedge-agent:1.4', createOptions: '{}' },
            },
            edgeHub: {
              type: 'docker',
              status: 'running',
              restartPolicy: 'always',
              startupOrder: 0,
              settings: {
                image: 'mcr.microsoft.com/azureiotedge-hub:1.4',
                createOptions: '{"HostConfig":{"PortBindings":{"8883/tcp":[{"HostPort":"8883"}]}}}',
              },
            },
          },
          modules: {
            tempSensor: {
              type: 'docker',
              status: 'running',
              restartPolicy: 'always',
              settings: {
                image: 'mcr.microsoft.com/azureiotedge-simulated-temperature-sensor:1.0',
                createOptions: '{}',
              },
            },
            filter: {
              type: 'process',
              status: 'running',
              settings: { command: '/usr/bin/node', args: ['filter.js'] },
            },
          },
        },
      },
      $edgeHub: {
        'properties.desired': {
          schemaVersion: '1.1',
          routes: { upstream: 'FROM /messages/* INTO $upstream' },
          storeAndForwardConfiguration: { timeToLiveSecs: 7200 },
        },
      },
      tempSensor: { 'properties.desired': { SendInterval: 5 } },
    },
  };
}

/** The manifest's `$edgeAgent` desired properties (mutable). */
export function agentDesired(document: { modulesContent: JsonMap }): JsonMap {
  return (document.modulesContent.$edgeAgent as JsonMap)['properties.desired'] as JsonMap;
}

/**
 * A valid manifest with fields of `$edgeAgent`'s desired properties set (dotted paths, created as
 * needed) or, for `undefined`, deleted.
 */
export function manifestWith(edits: Record<string, Json | undefined>): { modulesContent: JsonMap } {
  const document = validManifest();
  for (const [path, value] of Object.entries(edits)) {
    const keys = path.split('.');
    let target = agentDesired(document);
    for (const key of keys.slice(0, -1)) {
      if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
      target = target[key] as JsonMap;
    }
    const last = keys[keys.length - 1];
    if (value === undefined) delete target[last];
    else target[last] = value;
  }
  return document;
}

import { malformed } from './deployment-error.js';
import { describeJson, Fields, isObject, quote } from './manifest-fields.js';
import { RouteError } from '../routing/errors.js';
import { compileRoute } from '../routing/route.js';
import { DEFAULT_PRIORITY, RouteTable, type NamedRoute } from '../routing/route-table.js';

/** The `$edgeHub` desired properties of a deployment, validated and with every route compiled. */
export interface EdgeHubDesired {
  schemaVersion: string;
  /** In the order of the `routes` map. */
  routes: NamedRoute[];
  storeAndForward: {
    /** Global time to live of stored messages; negative means forever. */
    timeToLiveSecs: number;
    /** The most bytes the message store holds (all endpoints together); no limit when absent. */
    maxSizeBytes?: number;
    /** What happens at that limit (only with maxSizeBytes): refuse new messages, or drop the oldest. */
    fullPolicy?: StoreFullPolicy;
  };
}

export const STORE_FULL_POLICIES = ['refuse', 'dropOldest'] as const;
export type StoreFullPolicy = (typeof STORE_FULL_POLICIES)[number];

export const EDGE_HUB_DESIRED_PATH = '$edgeHub.properties.desired';
const MAX_TTL = 4294967295;
const SCHEMA_VERSION = /^(\d+)\.(\d+)(?:\.\d+){0,2}$/;
/** Twin keys cannot hold these characters: a route name is a twin key. */
const INVALID_NAME = /[.$#\s]/;

/**
 * Parses `$edgeHub` desired properties (schemaVersion 1.0 to 1.3). Everything, route conditions
 * included, is checked now: any problem throws a 400 DeploymentError whose message starts with
 * the field's path, e.g. `$edgeHub.properties.desired.routes.r1: position 23: unknown function
 * 'foo'` (the position is the 1-based column in the route text). IoT Edge never answers 412 for
 * `$edgeHub`, so schema versions are 400 too.
 */
export function parseEdgeHubDesired(desired: unknown, path = EDGE_HUB_DESIRED_PATH): EdgeHubDesired {
  const root: Fields = Fields.of(desired, path);
  const schemaVersion = root.nonEmptyString('schemaVersion', '1.0 to 1.3');
  const minor = supportedMinor(schemaVersion);
  if (minor === undefined)
    root.fail('schemaVersion', `unsupported version ${quote(schemaVersion)}; supported: 1.0 to 1.3`);

  const routes = minor === 0 && !root.has('routes') ? [] : parseRoutes(root.object('routes'), minor);
  const store: Fields = root.object('storeAndForwardConfiguration');
  if (!store.has('timeToLiveSecs')) store.fail('timeToLiveSecs', 'missing (required)');
  const storeAndForward: EdgeHubDesired['storeAndForward'] = {
    timeToLiveSecs: store.integer('timeToLiveSecs', Number.MIN_SAFE_INTEGER, MAX_TTL, 0),
  };
  const limits = store.optionalObject('storeLimits');
  if (limits?.has('maxSizeBytes'))
    storeAndForward.maxSizeBytes = limits.integer('maxSizeBytes', 1, Number.MAX_SAFE_INTEGER, 0);
  if (limits?.has('fullPolicy')) {
    if (storeAndForward.maxSizeBytes === undefined)
      limits.fail('fullPolicy', 'applies only with maxSizeBytes, which is missing');
    storeAndForward.fullPolicy = limits.choice('fullPolicy', STORE_FULL_POLICIES);
  }
  return { schemaVersion, routes, storeAndForward };
}

/** The message store's limits of a deployment: at maxSizeBytes, new messages are refused unless it says otherwise. */
export function storeLimitsOf(desired: EdgeHubDesired): {
  maxSizeBytes?: number;
  fullPolicy: StoreFullPolicy;
} {
  const { maxSizeBytes, fullPolicy = 'refuse' } = desired.storeAndForward;
  return maxSizeBytes === undefined ? { fullPolicy } : { maxSizeBytes, fullPolicy };
}

/** The route table a hub evaluates messages with. */
export function routeTableOf(desired: EdgeHubDesired): RouteTable {
  return new RouteTable(desired.routes, desired.storeAndForward.timeToLiveSecs);
}

function supportedMinor(version: string): number | undefined {
  const match = SCHEMA_VERSION.exec(version);
  if (match === null || Number(match[1]) !== 1 || Number(match[2]) > 3) return undefined;
  return Number(match[2]);
}

function parseRoutes(routes: Fields, minor: number): NamedRoute[] {
  return Object.entries(routes.value).map(([name, value]) => {
    if (name.trim() === '' || INVALID_NAME.test(name)) {
      throw malformed(
        routes.path,
        `invalid route name ${quote(name)}: names must not be empty or contain '.', '$', '#' or spaces`,
      );
    }
    if (typeof value === 'string') return compiled(routes, name, value, DEFAULT_PRIORITY, 0);
    if (!isObject(value)) {
      routes.fail(
        name,
        `expected a route string or {route, priority, timeToLiveSecs}, found ${describeJson(value)}`,
      );
    }
    if (minor === 0)
      routes.fail(name, 'a route object (with priority and timeToLiveSecs) needs schemaVersion 1.1 or later');
    const entry = routes.object(name);
    return compiled(
      routes,
      name,
      entry.string('route'),
      entry.integer('priority', 0, 9, DEFAULT_PRIORITY),
      entry.integer('timeToLiveSecs', 0, MAX_TTL, 0),
    );
  });
}

function compiled(
  routes: Fields,
  name: string,
  text: string,
  priority: number,
  timeToLiveSecs: number,
): NamedRoute {
  try {
    return { name, route: compileRoute(text), priority, timeToLiveSecs };
  } catch (error) {
    if (error instanceof RouteError) routes.fail(name, error.message);
    // a condition nested so deeply that compiling it exhausted the stack
    if (error instanceof RangeError) routes.fail(name, 'the route nests too deeply to compile');
    throw error;
  }
}

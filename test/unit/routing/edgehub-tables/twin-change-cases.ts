import type { HubMessage } from '../../../../src/runtime/routing/message.js';
import type { Outcome, TableCase } from './table-case.js';

/** edgeHub's TwinChangeIncludesTest and TwinChangeJsonPathValidatorTest rows. */

const NOTIFICATION = {
  properties: {
    reported: {
      WeatherTwin: {
        Temperature: 50,
        Location: { Street: 'One Microsoft Way', City: 'Redmond', State: 'WA' },
      },
      Metadata: 'metadata',
      $metadata: { $lastUpdated: '2017-02-15T00:42:19.8563501Z' },
      $version: 4,
    },
  },
};

function notification(body: string): HubMessage {
  return {
    body: Buffer.from(body),
    properties: { key1: 'value1', key2: '3', key3: 'VALUE3' },
    systemProperties: { contentType: 'application/json', contentEncoding: 'UTF-8' },
    source: '/twinChangeNotifications',
  };
}

/** A reported-properties change notification. */
export const TWIN_MESSAGE = notification(JSON.stringify(NOTIFICATION));

/** Rows compiled for a route from /twinChangeNotifications and run on TWIN_MESSAGE. */
export const TWIN_CHANGE_CASES: readonly TableCase[] = [
  ['twin_change_includes(properties.reported.WeatherTwin)', 'true'],
  ['TWIN_CHANGE_INCLUDES(properties.reported.WeatherTwin)', 'true'],
  ['Twin_Change_Includes(properties.reported.WeatherTwin)', 'true'],
  ['twin_CHANGE_includes(properties.reported.WeatherTwin)', 'true'],
  ['twin_change_includes(properties.reported.WeatherTwin.Temperature)', 'true'],
  ['twin_change_includes(properties.reported.WeatherTwin.Location)', 'true'],
  ['twin_change_includes(properties.reported.WeatherTwin.Location.Street)', 'true'],
  ['twin_change_includes(properties.reported.WeatherTwin.Location.City)', 'true'],
  [
    'twin_change_includes(properties.reported.WeatherTwin.Location.City) AND twin_change_includes(properties.reported.WeatherTwin.Temperature)',
    'true',
  ],
  [
    'twin_change_includes(properties.reported.WeatherTwin.Location.City) AND twin_change_includes(properties.reported.WeatherTwin.Temperature) = true',
    'true',
  ],
  [
    'twin_change_includes(properties.reported.WeatherTwin.Location.City) AND Not(twin_change_includes(properties.reported.WeatherTwin.Temperature123))',
    'true',
  ],
  ['twin_change_includes(properties.desired.WeatherTwin)', 'false'],
  [
    'twin_change_includes(properties.reported.WeatherTwin.Location.City) AND twin_change_includes(properties.reported.WeatherTwin.Temperature123)',
    'false',
  ],
  ['twin_change_includes()', 'refused'],
  ['twin_change_includes(      )', 'refused'],
  ['twin_change_includes(properties.)', 'refused'],
  ['twin_change_includes(123123)', 'refused'],
  ['twin_change_includes(properties.abcd123)', 'refused'],
  ['twin_change_includes(123abc)', 'refused'],
  ['twin_change_includes(properties.desired.twin,,,,,)', 'refused'],
  ['twin_change_includes(properties[0])', 'refused'],
  ['twin_change_includes(properties.desired.twin[0].test1)', 'refused'],
  ['twin_change_includes(properties.desired.[123])', 'refused'],
  ['twin_change_includes(properties.desired.WeatherTwin[])', 'refused'],
  ['twin_change_includes(properties[])', 'refused'],
  ['twin_change_includes(properties[123].)', 'refused'],
  ['twin_change_includes(properties[123].props11.)', 'refused'],
  ['twin_change_includes(properties[123].props11, abc)', 'refused'],
];

/** The same function in a route from a telemetry source does not compile. */
export const TELEMETRY_SOURCE_CASE: TableCase = [
  'twin_change_includes(properties.reportedWeatherTwin)',
  'refused',
];

/** Notifications whose body is not JSON: twin_change_includes(properties.reported.WeatherTwin). */
export const NOT_JSON_NOTIFICATIONS: readonly (readonly [HubMessage, Outcome])[] = [
  [notification(''), 'undefined'],
  [notification('random message'), 'undefined'],
  // UTF-16 bytes in a message that says UTF-8.
  [{ ...TWIN_MESSAGE, body: Buffer.from(JSON.stringify(NOTIFICATION), 'utf16le') }, 'undefined'],
];

/** Twin paths, each compiled as twin_change_includes(PATH): accepted, or refused. */
export const TWIN_PATH_CASES: readonly (readonly [path: string, accepted: boolean])[] = [
  ['properties.reported.property1', true],
  ['properties.desired.property1', true],
  ['properties.reported.root.level1', true],
  ['properties.reported.ROOT.LEVEL', true],
  ['tags.root.level1.level2.level3.level4', true],
  ['', false],
  ['123abc', false],
  ['string with spaces', false],
  ['properties', false],
  ['properties.desired123', false],
  ['properties.reported', false],
  ['properties.reported.ROOT[].LEVEL', false],
];

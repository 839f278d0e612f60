import type { HubMessage, SystemProperties } from '../../../../src/runtime/routing/message.js';
import type { Deviation, TableCase } from './table-case.js';

/**
 * edgeHub's body query tables (BodyQueryTest, BodyQueryI18NTest) and its message query test,
 * each row with the outcome edgeHub's test states.
 */

const WEATHER = {
  message: {
    Weather: {
      Temperature: 50,
      FreezingTemperature: -50.4,
      PreciseTemperature: 50.4,
      Temperature_PropertyConflict: 50,
      NullValue: null,
      Time: '2017-03-09T00:00:00.000Z',
      PrevTemperatures: [20, 30, 40],
      IsEnabled: true,
      IsDisabled: false,
      Location: { Street: 'One Microsoft Way', City: 'Redmond', State: 'WA' },
      HistoricalData: [
        { Month: 'Feb', Temperature: 40 },
        { Month: 'Jan', Temperature: 30 },
      ],
    },
  },
};

const JSON_UTF8: SystemProperties = { contentType: 'application/json', contentEncoding: 'UTF-8' };

/**
 * The body query message. edgeHub's message also has the system properties `State` and
 * `$body.message.Weather.Location.State` (both 'CA'), to show that a system property never takes
 * the place of a body query; system properties have fixed names here, so they cannot be set and
 * those rows hold trivially.
 */
export const BODY_MESSAGE: HubMessage = {
  body: Buffer.from(JSON.stringify(WEATHER)),
  properties: {
    City: 'Redmond',
    $State: 'WA',
    '$body.message.Weather.Temperature_PropertyConflict': '100',
    IntegerProperty: '110',
  },
  systemProperties: JSON_UTF8,
  source: '/messages/modules/sender/outputs/out1',
};

/** BodyQueryTest's rows: compile failures, then rows expected true, false or undefined. */
export const BODY_CASES: readonly TableCase[] = [
  ['$body.properties[]', 'refused'],
  ['$body.properties[1:2]', 'refused'],
  ['$body;@', 'refused'],
  ['50 >= $body.message.Weather.Temperature', 'true'],
  ['$BODY.message.Weather.Temperature >= 50', 'true'],
  ['$bODy.message.Weather.Temperature <= 50', 'true'],
  ['$bODY.message.Weather.Temperature = 50', 'true'],
  ['$BoDY.message.Weather.Temperature != 60', 'true'],
  ['$body.message.Weather.Temperature <> 500', 'true'],
  ['$body.message.Weather.Temperature = 40 + 10', 'true'],
  ['$body.message.Weather.Temperature >= $body.message.Weather.PrevTemperatures[0]', 'true'],
  [
    '$body.message.Weather.Temperature >= $body.message.Weather.PrevTemperatures[0] + $body.message.Weather.PrevTemperatures[1] ',
    'true',
  ],
  ['$body.message.Weather.PrevTemperatures[0] + $body.message.Weather.PrevTemperatures[1]= 50 ', 'true'],
  ['$body.message.Weather.PrevTemperatures[1] * $body.message.Weather.PrevTemperatures[2] = 1200', 'true'],
  ['$body.message.Weather.PrevTemperatures[1] / $body.message.Weather.PrevTemperatures[0] = 1.5', 'true'],
  [
    '$body.message.Weather.HistoricalData[0].Temperature - 10 = $body.message.Weather.HistoricalData[1].Temperature',
    'true',
  ],
  ["$body.message.Weather.HistoricalData[0].Month = 'Feb'", 'true'],
  ['10 >= $body.message.Weather.Temperature', 'false'],
  ['$body.message.Weather.Temperature < 50', 'false'],
  ["$body.message.Weather.Temperature = '50'", 'false'],
  ['$body.message.Weather.Temperature != 50', 'false'],
  ['$body.message.Weather.Temperature = 60', 'false'],
  ['$body.message.Weather.Temperature <> 40 + 10', 'false'],
  ['$body.message.Weather.Temperature <= $body.message.Weather.PrevTemperatures[0]', 'false'],
  [
    '$body.message.Weather.Temperature < $body.message.Weather.PrevTemperatures[0] + $body.message.Weather.PrevTemperatures[1]',
    'false',
  ],
  ['$body.message.Weather.PrevTemperatures[0] + $body.message.Weather.PrevTemperatures[1] <> 50 ', 'false'],
  ['$body.message.Weather.PrevTemperatures[0] * $body.message.Weather.PrevTemperatures[1] = 610', 'false'],
  ['$body.message.Weather.PrevTemperatures[1] / $body.message.Weather.PrevTemperatures[0] = 3/3', 'false'],
  [
    '$body.message.Weather.HistoricalData[0].Temperature + 10 = $body.message.Weather.HistoricalData[1].Temperature',
    'false',
  ],
  ["$body.message.Weather.Temperature <> '100'", 'true'],
  ['$body.message.Weather.Location.City = City', 'true'],
  ['$body.message.Weather.Location.State = $State', 'true'],
  ['$body.message.Weather.Location.State <> $body.message.Weather.Location.City', 'true'],
  ["$body.message.Weather.Temperature ='100'", 'false'],
  ["$body.message.Weather.Temperature ='150'", 'false'],
  ['$body.message.Weather.Location.City != City', 'false'],
  ['$body.message.Weather.Location.State != $State', 'false'],
  ['$body.message.Weather.Location.State = City', 'false'],
  ['$body.message.Weather.Location.State = $body.message.Weather.Location.City', 'false'],
  ['$body.message.Weather.IsEnabled', 'true'],
  ['$body.message.Weather.IsEnabled = true', 'true'],
  ['$body.message.Weather.IsDisabled = false', 'true'],
  ['$body.message.Weather.IsDisabled <> true', 'true'],
  ['NOT $body.message.Weather.IsDisabled', 'true'],
  ['$body.message.Weather.IsEnabled AND $body.message.Weather.IsEnabled', 'true'],
  ['$body.message.Weather.IsEnabled OR $body.message.Weather.IsDisabled', 'true'],
  ['$body.message.Weather.IsDisabled OR NOT($body.message.Weather.IsDisabled)', 'true'],
  ['$body', 'undefined'],
  ['$body.message.Weather.HistoricalData[0].Temperature.InvalidKey', 'undefined'],
  ['$City <> $body.message.Weather.InvalidKey', 'undefined'],
  ["$body.message.Weather.Temperature_PropertyConflict = '100'", 'true'],
  ['as_number($body.message.Weather.Temperature_PropertyConflict) = 100', 'true'],
  ['{$body.message.Weather.Temperature_PropertyConflict} <> 100', 'true'],
  ["$body.message.Weather.Location.State = 'WA'", 'true'],
  ["{$body.message.Weather.Location.State} <> 'CA'", 'true'],
  ['$body.message.Weather <> null', 'undefined'],
  ['$body.message.Weather.NullValue = null', 'true'],
  ['$body.message.Weather.Temperature != null', 'true'],
  ['$body.message.Weather.Location.State <> null', 'true'],
  ['abs($body.message.Weather.FreezingTemperature) = 50.4', 'true'],
  ['ceiling(as_number($body.message.Weather.PreciseTemperature)) = 51', 'true'],
  [
    "concat($body.message.Weather.Location.Street, ', ', $body.message.Weather.Location.City, ', ', $body.message.Weather.Location.State) = 'One Microsoft Way, Redmond, WA'",
    'true',
  ],
  ["contains($body.message.Weather.Location.Street, 'Microsoft')", 'true'],
  ["ends_with($body.message.Weather.Location.Street, 'Way')", 'true'],
  ['exp(($body.message.Weather.Temperature - 49)) < ($body.message.Weather.Temperature - 47)', 'true'],
  ["index_of($body.message.Weather.Location.Street, 'Way') > 6", 'true'],
  ['is_defined($body.message.Weather.Location.Street)', 'true'],
  ['is_null($body.message.Weather.NullValue)', 'true'],
  ['is_string($body.message.Weather.Location.Street)', 'true'],
  ['length($body.message.Weather.Location.State) = 2', 'true'],
  ["lower($body.message.Weather.Location.State) = 'wa'", 'true'],
  ['power($body.message.Weather.Temperature, 2) = 2500.0', 'true'],
  ['power($body.message.Weather.Temperature, length($body.message.Weather.Location.State)) = 2500.0', 'true'],
  ['sign($body.message.Weather.FreezingTemperature) = -1', 'true'],
  ['square($body.message.Weather.Temperature) = 2500', 'true'],
  [
    'power($body.message.Weather.Temperature, length($body.message.Weather.Location.State)) = square($body.message.Weather.Temperature)',
    'true',
  ],
  ["starts_with($body.message.Weather.Location.Street, 'One')", 'true'],
  [
    "substring($body.message.Weather.Location.Street, length($body.message.Weather.Location.Street) - 3) = 'Way'",
    'true',
  ],
  ["substring($body.message.Weather.Location.Street, 4, length('Microsoft')) = 'Microsoft'", 'true'],
  ["upper($body.message.Weather.Location.Street) = 'ONE MICROSOFT WAY'", 'true'],
];

const MISSING =
  'a missing body path is undefined, as IoT Hub documents; IoT Edge reads it as null (docs/hub.md lists this)';
const DATE =
  "a JSON string is a string; IoT Edge's JSON reader turns ISO 8601 strings into dates, which no condition can compare";

/** BodyQueryTest's rows where this hub deliberately answers otherwise. */
export const BODY_DEVIATIONS: readonly Deviation[] = [
  ["$body.message.Weather.InvalidKey <> '100'", 'true', 'undefined', MISSING],
  ["$body.message.Weather.Time <> '100'", 'undefined', 'true', DATE],
  ['$body.message.Temperature = null', 'true', 'undefined', MISSING],
  ['$body.message.Weather.InvalidProperty = null', 'true', 'undefined', MISSING],
  ['NOT ($body.message.Weather.InvalidProperty != null)', 'true', 'undefined', MISSING],
];

const GREETINGS = {
  'Welcome!': { he: 'ברוכים הבאים!', es: 'Bienvenido!' },
  "I'm using spaces %1": { he: 'אני משתמש ב%1', es: 'Estoy usando %1' },
  "I'mnotusingspaces%1": { he: 'אני משתמש ב%1', es: 'Estoy usando %1' },
};

/** BodyQueryI18NTest's message: keys with `!`, `'`, `%` and spaces. */
export const I18N_MESSAGE: HubMessage = {
  body: Buffer.from(JSON.stringify(GREETINGS)),
  properties: {},
  systemProperties: JSON_UTF8,
  source: '/messages/modules/sender/outputs/out1',
};

export const I18N_CASES: readonly TableCase[] = [
  ["$body.Welcome!.he = 'ברוכים הבאים!'", 'true'],
  ["$body.I'mnotusingspaces%1.es = 'Estoy usando %1'", 'true'],
  ["$body.Welcome!['I'm using spaces %1'] = 'ברוכים הבאים!'", 'refused'],
];

export const I18N_DEVIATIONS: readonly Deviation[] = [
  ["$body.Welcome!.I'mnotusingspaces%1.es = 'Estoy usando %1'", 'false', 'undefined', MISSING],
];

const SMALL_WEATHER = JSON.stringify({
  message: {
    Weather: { Temperature: 50, Location: { Street: 'One Microsoft Way', City: 'Redmond', State: 'WA' } },
  },
});

function utf32le(text: string): Buffer {
  const chars = [...text];
  const buffer = Buffer.alloc(chars.length * 4);
  chars.forEach((c, i) => buffer.writeUInt32LE(c.codePointAt(0)!, i * 4));
  return buffer;
}

function weatherMessage(body: Buffer, systemProperties: SystemProperties): HubMessage {
  return { body, properties: {}, systemProperties, source: '/messages/modules/sender/outputs/out1' };
}

/**
 * MessageQueryTest: the temperature is read from UTF-8, UTF-16 (little-endian, no byte order mark)
 * and UTF-32 bodies; invalid JSON, undecodable bytes and a missing content encoding or content
 * type make edgeHub's body reader throw, which its body query turns into undefined. Each row runs
 * `$body.message.Weather.Temperature = 50` on its message.
 */
export const MESSAGE_QUERY_CASES: readonly (readonly [string, HubMessage, 'true' | 'undefined'])[] = [
  ['UTF-8', weatherMessage(Buffer.from(SMALL_WEATHER), JSON_UTF8), 'true'],
  [
    'UTF-16',
    weatherMessage(Buffer.from(SMALL_WEATHER, 'utf16le'), {
      contentType: 'application/json',
      contentEncoding: 'UTf-16',
    }),
    'true',
  ],
  [
    'UTF-32',
    weatherMessage(utf32le(SMALL_WEATHER), { contentType: 'application/json', contentEncoding: 'utf-32' }),
    'true',
  ],
  ['invalid JSON', weatherMessage(Buffer.from('Invalid Json'), JSON_UTF8), 'undefined'],
  ['undecodable bytes', weatherMessage(Buffer.from([1, 2, 3]), JSON_UTF8), 'undefined'],
  [
    'no content encoding',
    weatherMessage(Buffer.from(SMALL_WEATHER), { contentType: 'application/json' }),
    'undefined',
  ],
  ['no content type', weatherMessage(Buffer.from(SMALL_WEATHER), { contentEncoding: 'Utf-8' }), 'undefined'],
];

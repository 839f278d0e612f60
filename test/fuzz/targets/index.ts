/** The parser families the long mode runs, each a module of ./ exporting `targets`. */
export const FAMILIES: Record<string, string> = {
  'config.yaml': './config.js',
  'deployment manifests': './manifest.js',
  routing: './routing.js',
  'MQTT topics and property bags': './mqtt-topics.js',
  'MQTT packet headers': './frame-guard.js',
  'twin patches': './twin.js',
  'SAS tokens': './sas.js',
  'time and tail arguments': './time-args.js',
};

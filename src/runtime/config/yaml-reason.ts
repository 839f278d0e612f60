import yaml from 'js-yaml';

/**
 * js-yaml's reasons that quote the text (an alias or tag name, which a mistyped line may have made
 * of a key or a password), each with the words that say the problem without it.
 */
const QUOTING: [RegExp, string][] = [
  [/^unidentified alias .*$/s, 'unidentified alias (no anchor of that name)'],
  [/^undeclared tag handle .*$/s, 'undeclared tag handle'],
  [/^there is a previously declared suffix for .* tag handle$/s, 'a tag handle declared twice'],
  [/^(tag prefix is malformed|tag name cannot contain such characters|tag name is malformed): .*$/s, '$1'],
  [/^unknown tag .*$/s, 'unknown tag'],
  [/!<.*> tag;/s, 'its tag;'],
  [/!<.*> explicit tag$/s, 'its explicit tag'],
];

/**
 * Why js-yaml could not load a text, in words that never quote the text. Besides its own
 * YAMLException, js-yaml throws a TypeError when a value does not fit its explicit tag
 * (`!!binary` before a number).
 */
export function yamlReason(error: unknown): string {
  if (!(error instanceof yaml.YAMLException)) {
    return error instanceof TypeError
      ? 'a value does not fit its explicit tag'
      : 'the text cannot be read as YAML';
  }
  let reason = error.reason;
  for (const [pattern, replacement] of QUOTING) reason = reason.replace(pattern, replacement);
  return reason;
}

import { fileURLToPath } from 'node:url';

/**
 * config.yaml names certificates and keys either as plain paths or as `file://` URIs
 * (host empty or `localhost`, no port, no query). Returns the local path, or throws naming the setting.
 */
export function filePathFromSetting(value: string, setting: string): string {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(value)) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`URI ${value} is unsupported for '${setting}'`);
  }
  const hostOk = url.hostname === '' || url.hostname === 'localhost';
  if (url.protocol !== 'file:' || !hostOk || url.port !== '' || url.search !== '') {
    throw new Error(`URI ${value} is unsupported for '${setting}'`);
  }
  return fileURLToPath(`file://${url.pathname}`);
}

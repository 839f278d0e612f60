/** The diagnostics image this installation builds for itself when the engine does not have it. */
export function defaultDiagnosticsImageName(version: string): string {
  return `iotedge-ts-diagnostics:${version.replace(/[^A-Za-z0-9_.-]/g, '-')}`;
}

import { CliError } from './cli-error.js';
import { readBoundedText, type FileReadError } from '../runtime/files/bounded-read.js';
import { FILE_LIMITS } from '../runtime/files/file-limits.js';
import { findJsonSyntaxError } from '../runtime/json-syntax.js';

const READ_REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

/**
 * The text of a deployment manifest file, checked to be JSON. Errors name the file and, for bad
 * JSON, the line and column; they never quote the file's content (it may hold registry passwords).
 */
export async function readManifestFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readBoundedText(file, { maxBytes: FILE_LIMITS.manifest });
  } catch (error) {
    const { code, reason } = error as FileReadError;
    throw new CliError(
      `Could not read deployment manifest ${file}: ${(code && READ_REASONS[code]) ?? reason}`,
    );
  }
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  try {
    JSON.parse(text);
  } catch {
    const syntax = findJsonSyntaxError(text);
    const where = syntax
      ? `${syntax.reason} at line ${syntax.line}, column ${syntax.column}`
      : 'invalid JSON';
    throw new CliError(`Deployment manifest ${file} is not valid JSON: ${where}`);
  }
  return text;
}

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Config } from '@oclif/core';
import { renderCliManPage, type ManCommand } from './cli-man-page.js';

/**
 * Writes the two man pages, uncompressed, into a directory: iotedge.1 from the oclif command
 * metadata of this build, iotedged.8 from its roff source in contrib/man with the version and
 * date filled in. The date is SOURCE_DATE_EPOCH's when set (reproducible builds), else today.
 * Usage: node dist/src/packaging/write-man-pages.js OUT_DIR
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function manDate(env: NodeJS.ProcessEnv, now = new Date()): string {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && !/^\d+$/.test(epoch)) {
    throw new Error(`SOURCE_DATE_EPOCH: "${epoch}" is not a number of seconds`);
  }
  return (epoch === undefined ? now : new Date(Number(epoch) * 1000)).toISOString().slice(0, 10);
}

export async function writeManPages(outDir: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const config = await Config.load(ROOT);
  const date = manDate(env);
  const cli = renderCliManPage({
    bin: config.bin,
    version: config.version,
    date,
    description: config.pjson.oclif.description ?? config.pjson.description ?? '',
    topicSeparator: config.topicSeparator,
    commands: config.commands as unknown as ManCommand[],
  });
  const daemonSource = await readFile(path.join(ROOT, 'contrib', 'man', 'iotedged.8'), 'utf8');
  const daemon = daemonSource.replaceAll('@VERSION@', config.version).replaceAll('@DATE@', date);
  const written = [path.join(outDir, 'iotedge.1'), path.join(outDir, 'iotedged.8')];
  await writeFile(written[0], cli);
  await writeFile(written[1], daemon);
  return written;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2];
  if (!outDir) {
    process.stderr.write('Usage: write-man-pages OUT_DIR\n');
    process.exit(1);
  }
  try {
    for (const file of await writeManPages(outDir, process.env)) process.stdout.write(`${file}\n`);
  } catch (error) {
    process.stderr.write(`write-man-pages: ${(error as Error).message}\n`);
    process.exit(1);
  }
}

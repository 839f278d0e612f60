import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { ZipArchive } from 'archiver';

/**
 * A zip (deflate) written to `output` as entries are added: a file, or stdout for `-o -`.
 * `finish` resolves once the last byte is written; a write error rejects it.
 */
export function zipSink(output: Writable): {
  add(name: string, text: string): Promise<void>;
  finish(): Promise<void>;
} {
  const archive = new ZipArchive({ zlib: { level: 9 } });
  let failure: Error | undefined;
  const fail = (error: Error) => (failure ??= error);
  archive.on('error', fail);
  output.on('error', fail);
  archive.pipe(output);
  const date = new Date();
  return {
    add: async (name, text) => {
      if (failure) throw failure;
      archive.append(Buffer.from(text, 'utf8'), { name, date });
    },
    finish: async () => {
      const written = output === process.stdout ? once(archive, 'end') : once(output, 'finish');
      await archive.finalize();
      await written;
      if (failure) throw failure;
    },
  };
}

/**
 * A process that uses the SQLite message store and is killed by its parent test:
 * `append <file> <prefix>`: appends sequenced messages (`<prefix>-<n>`) to `$upstream`, 100 at a
 * time in flight, and prints each number once its append resolved (its sender would be acknowledged).
 * `read <file> <count>`: appends `count` messages, reads half of them without acknowledging,
 * waits for the read mark to be committed, prints `read <n>` and waits to be killed.
 */
import { SqliteMessageStores } from '../../src/runtime/hub/endpoints/sqlite/sqlite-stores.js';
import type { HubMessage } from '../../src/runtime/routing/message.js';

const [mode, file, arg] = process.argv.slice(2);
const stores = new SqliteMessageStores({ file: file! });
const store = stores.open('$upstream', () => undefined);
const message = (text: string): HubMessage => ({
  body: Buffer.from(text),
  properties: { sequence: text },
  systemProperties: { connectionDeviceId: 'edge-1' },
  source: '/messages',
});

if (mode === 'append') {
  let next = 0;
  const one = async (): Promise<void> => {
    for (;;) {
      const n = next++;
      await store.append(message(`${arg}-${n}`), { priority: 0, timeToLiveSecs: 3600 });
      process.stdout.write(`${n}\n`);
    }
  };
  for (let i = 0; i < 100; i++) void one();
} else if (mode === 'read') {
  const count = Number(arg);
  const appends: Promise<void>[] = [];
  for (let i = 0; i < count; i++)
    appends.push(store.append(message(`r-${i}`), { priority: 0, timeToLiveSecs: 3600 }));
  await Promise.all(appends);
  let read = 0;
  while (read < count / 2 && store.read()) read++;
  // the read mark is saved with the next commit (at most 50 ms after the reads)
  setTimeout(() => process.stdout.write(`read ${read}\n`), 300);
  setInterval(() => undefined, 1000);
}

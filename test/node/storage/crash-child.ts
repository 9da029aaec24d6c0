// Child process for crash.test.ts (not a test): appends one entry at a time to a DiskStorage, awaits
// sync() (or, in honest-now mode, uses the blocking syncNow() a follower uses) and prints
// `ack <index>` for each, until it is killed. Usage: crash-child.ts DIR honest|honest-now|lying

import { DiskStorage } from '../../../src/node/storage/disk-storage.js';

const [dir, mode] = process.argv.slice(2);
if (dir === undefined || (mode !== 'honest' && mode !== 'honest-now' && mode !== 'lying')) {
  process.stderr.write('usage: crash-child.ts DIR honest|honest-now|lying\n');
  process.exit(2);
}
const storage = await DiskStorage.open({
  dir,
  configuration: { voters: ['n1'] },
  fsync: mode !== 'lying',
  lyingFsync: mode === 'lying',
  // Long enough that the buffer is surely not flushed before the kill.
  lyingFlushMs: 600_000,
});
process.stdout.write(`ready ${storage.lastIndex()}\n`);
const data = new TextEncoder().encode('acknowledged write');
// Bounded so that a parent that dies without killing us does not leave a process running forever.
for (let index = storage.lastIndex() + 1; index < 1_000_000; index++) {
  storage.append([{ index, term: 1, data }]);
  storage.setHardState({ term: 1, vote: 'n1', commit: index });
  if (mode !== 'honest-now' || !storage.syncNow()) await storage.sync();
  process.stdout.write(`ack ${index}\n`);
}

// Maelstrom's lin-kv workload: read / write / cas on keys, each key checked as a cas-register for
// linearizability. It is the register workload's ops under Maelstrom's name (any KV target can run
// it; on --db maelstrom they become Maelstrom's read / write / cas messages).

import { registerWorkload, type RegisterOptions } from './register.js';
import type { Workload } from './types.js';

export const linKvWorkload: Workload<RegisterOptions> = {
  ...registerWorkload,
  name: 'lin-kv',
  summary: "Maelstrom's lin-kv: read, write and cas on keys (a fresh key every ops-per-key ops), checked as cas-registers key by key",
};

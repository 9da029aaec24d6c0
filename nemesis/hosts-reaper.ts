// The detached reaper of one --net hosts run: `node hosts-reaper.js OWNER_PID SUBNET RUN_ID` waits
// until the harness process is gone and removes its network (hosts.ts reapWhenGone), so a harness
// killed with -9 leaves nothing behind. It exits by itself once the harness closed the network.

import { reapWhenGone } from './hosts.js';

const [ownerPid, subnet, runId] = process.argv.slice(2);
if (!/^\d+$/.test(ownerPid ?? '') || !/^198\.1[89]\.\d{1,3}$/.test(subnet ?? '') || !/^[0-9a-z]+$/.test(runId ?? '')) {
  process.stderr.write(`usage: hosts-reaper.js OWNER_PID SUBNET RUN_ID, got ${JSON.stringify(process.argv.slice(2))}\n`);
  process.exit(254);
}
await reapWhenGone(Number(ownerPid), subnet, runId);

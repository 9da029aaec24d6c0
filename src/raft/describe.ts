// The one text form of messages, entries and Ready batches, shared by logs, golden tests and
// failure reports, e.g. `n1->n2 AppendEntries term=3 prev=3/12 commit=11 entries=[3/13 put k=v]`.

import type { Message } from './message.js';
import type { Ready } from './ready.js';
import type { Entry, HardState } from './types.js';

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Printable ASCII is shown as text; anything else as its size and first bytes in hex. */
export function describeData(data: Uint8Array): string {
  if (data.length === 0) return 'noop';
  let printable = true;
  for (const byte of data) {
    if (byte < 0x20 || byte > 0x7e) {
      printable = false;
      break;
    }
  }
  if (printable) return data.length <= 64 ? decoder.decode(data) : `${decoder.decode(data.subarray(0, 61))}...`;
  const head = Array.from(data.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
  return `<${data.length}B ${head}${data.length > 8 ? '..' : ''}>`;
}

/** `term/index data`, the order used for prev too (`prev=3/12`). */
export function describeEntry(entry: Entry): string {
  return `${entry.term}/${entry.index} ${describeData(entry.data)}`;
}

export function describeEntries(entries: Entry[]): string {
  return `[${entries.map(describeEntry).join(', ')}]`;
}

export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case 'RequestVote':
      return `${head} last=${m.lastLogTerm}/${m.lastLogIndex}${m.transfer ? ' transfer' : ''}`;
    case 'PreVote':
      return `${head} last=${m.lastLogTerm}/${m.lastLogIndex}`;
    case 'RequestVoteResponse':
    case 'PreVoteResponse':
      return `${head} ${m.granted ? 'granted' : 'rejected'}`;
    case 'AppendEntries':
      return `${head} prev=${m.prevLogTerm}/${m.prevLogIndex} commit=${m.commit} entries=${describeEntries(m.entries)}${m.context ? ` context=${m.context}` : ''}`;
    case 'AppendEntriesResponse':
      return (
        (m.success ? `${head} match=${m.matchIndex}` : `${head} reject=${m.rejectedIndex} hint=${m.hintTerm}/${m.hintIndex}`) +
        (m.context ? ` context=${m.context}` : '')
      );
    case 'Heartbeat':
      return `${head} commit=${m.commit}${m.context ? ` context=${m.context}` : ''}`;
    case 'HeartbeatResponse':
      return `${head}${m.context ? ` context=${m.context}` : ''}`;
    case 'InstallSnapshot':
      return `${head} snapshot=${m.snapshotTerm}/${m.snapshotIndex} voters=${m.configuration.voters.join(',')} offset=${m.offset} bytes=${m.data.length}/${m.sizeBytes}${m.done ? ' done' : ''}`;
    case 'InstallSnapshotResponse':
      return `${head} snapshot=${m.snapshotIndex} received=${m.bytesReceived}`;
    case 'TimeoutNow':
      return head;
  }
}

export function describeHardState(h: HardState): string {
  return `term=${h.term} vote=${h.vote || '-'} commit=${h.commit}`;
}

/** One line per part of the batch, indented under a `Ready` header; empty parts are left out. */
export function describeReady(id: string, ready: Ready): string {
  const lines = [`${id} Ready`];
  if (ready.softState) lines.push(`  role=${ready.softState.role} leader=${ready.softState.leader || '-'}`);
  if (ready.hardState) lines.push(`  HardState ${describeHardState(ready.hardState)}`);
  if (ready.snapshot)
    lines.push(`  Snapshot ${ready.snapshot.metadata.term}/${ready.snapshot.metadata.index} bytes=${ready.snapshot.data.length}`);
  if (ready.entries.length > 0) lines.push(`  Entries ${describeEntries(ready.entries)}`);
  if (ready.committedEntries.length > 0) lines.push(`  Committed ${describeEntries(ready.committedEntries)}`);
  for (const m of ready.messages) lines.push(`  ${describeMessage(m)}`);
  for (const r of ready.readStates) lines.push(`  ReadState index=${r.index} context=${r.context}`);
  if (ready.droppedReads.length > 0) lines.push(`  DroppedReads ${ready.droppedReads.join(', ')}`);
  return lines.join('\n');
}

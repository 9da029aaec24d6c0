// Worker-thread entry for the checker: searches the parts it is given (round-robin, in slices) and
// reports each decided part; stops when the shared stop flag is raised.

import { parentPort } from 'node:worker_threads';
import { runParts, type WorkerReply, type WorkerRequest } from './check.js';
import { createModel } from './models/index.js';

const port = parentPort;
if (port === null) throw new Error('checker/worker must run in a worker thread');

port.once('message', (request: WorkerRequest) => {
  const send = (reply: WorkerReply): void => port.postMessage(reply);
  try {
    const model = createModel(request.model, request.modelOptions);
    const stopFlag = new Int32Array(request.stop);
    // The deadline is on the main thread's clock; translate it to this thread's.
    const deadlineMs = request.deadlineMs + request.timeOrigin - performance.timeOrigin;
    const indices = request.parts.map((p) => p.index);
    runParts(
      model,
      request.parts.map((p) => p.ops),
      {
        deadlineMs,
        memoryBytesMax: request.memoryBytesMax,
        shouldStop: () => Atomics.load(stopFlag, 0) === 1,
        onDecided: (local, result) => send({ kind: 'decided', index: indices[local], result }),
        onSlice: (steps) => send({ kind: 'slice', steps }),
      },
    );
    send({ kind: 'done' });
  } catch (error) {
    send({ kind: 'error', message: (error as Error).stack ?? String(error) });
  }
});

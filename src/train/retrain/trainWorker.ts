// Worker entry: one training job per worker. Receives a TrainJob on the parent port, answers one
// TrainReply (the parts' big arrays transferred), and lets the thread end.
import { parentPort } from 'node:worker_threads';
import { partsTransferables, runTrainJob, type TrainJob, type TrainReply } from './job.js';

const port = parentPort;
if (!port) throw new Error('trainWorker.ts must run in a worker thread');

port.once('message', (job: TrainJob) => {
  void (async () => {
    let reply: TrainReply;
    try {
      const { parts, summary } = await runTrainJob(job);
      reply = { ok: true, parts, summary };
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      reply = {
        ok: false,
        error: { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}) },
      };
    }
    if (reply.ok) {
      try {
        port.postMessage(reply, partsTransferables(reply.parts));
        return;
      } catch {
        // A buffer that cannot be transferred (e.g. a view on wasm memory): copy instead.
      }
    }
    port.postMessage(reply);
  })();
});

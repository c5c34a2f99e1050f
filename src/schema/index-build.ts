/** Starts a worker thread (index-worker.ts) building a large file's missing chatdb indexes. */

import type { IndexJob } from "./index-worker.ts";
import type { IndexReport } from "./indexes.ts";

export interface IndexBuild {
  /** Settles with what was built, once the worker is done. */
  readonly finished: Promise<IndexReport>;
  /** Asks the worker to stop before its next index; resolves when it has closed the file. */
  stop(): Promise<IndexReport>;
}

export function buildIndexesInBackground(path: string, timeoutMs: number): IndexBuild {
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(new URL("./index-worker.ts", import.meta.url).href);
  // a bot that exits without close() is not kept alive by it; the OS drops its lock and
  // SQLite ignores the half-built index's uncommitted pages
  worker.unref();
  const finished = new Promise<IndexReport>((resolve) => {
    worker.onmessage = (e: MessageEvent<IndexReport>) => resolve(e.data);
    worker.onerror = (e) => resolve({ created: [], skipped: [], ms: 0, failed: e.message });
  }).finally(() => worker.terminate());
  const job: IndexJob = { path, timeoutMs, stop };
  worker.postMessage(job);
  return {
    finished,
    stop() {
      Atomics.store(new Int32Array(stop), 0, 1);
      return finished;
    },
  };
}

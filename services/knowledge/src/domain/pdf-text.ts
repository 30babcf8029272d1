import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ParseError } from './tabular';

const WORKER = path.join(__dirname, 'pdf-worker.mjs');

/** Text of each page of a PDF (extracted in a worker thread). ParseError for a broken file. */
export function pdfPages(bytes: Uint8Array, timeoutMs = 120_000): Promise<string[]> {
  if (!Buffer.from(bytes.subarray(0, 1024)).includes('%PDF-')) {
    return Promise.reject(new ParseError('pdf: not a PDF file (no %PDF- header)'));
  }
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: bytes });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new ParseError(`pdf: text extraction took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    worker.once('message', (m: { pages?: string[]; error?: string }) => {
      clearTimeout(timer);
      void worker.terminate();
      if (m.pages) resolve(m.pages);
      else reject(new ParseError(`pdf: the file could not be read (${m.error ?? 'unknown error'})`));
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(new ParseError(`pdf: the file could not be read (${e.message})`));
    });
  });
}

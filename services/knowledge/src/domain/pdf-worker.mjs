// Extracts the text of a PDF, page by page, with unpdf (PDF.js) in a worker thread: off the
// service's event loop, and in a plain Node context (PDF.js is loaded by dynamic import).
import { parentPort, workerData } from 'node:worker_threads';
import { extractText, getDocumentProxy } from 'unpdf';

try {
  const doc = await getDocumentProxy(new Uint8Array(workerData), { verbosity: 0 });
  const { text } = await extractText(doc, { mergePages: false });
  parentPort.postMessage({ pages: text });
} catch (error) {
  parentPort.postMessage({ error: `${error?.name ?? 'Error'}: ${error?.message ?? String(error)}` });
}

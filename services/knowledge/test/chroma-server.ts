import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@charge/testing';

const CLI = path.resolve(__dirname, '../../../node_modules/chromadb/dist/cli.mjs');

/** A ChromaDB server of this test file's own, on a free port, with a temporary data dir. */
export class TestChromaServer {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(): Promise<TestChromaServer> {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'chroma-test-'));
    const child = spawn(
      process.execPath,
      [CLI, 'run', '--path', path.join(dir, 'data'), '--host', '127.0.0.1', '--port', String(port)],
      { stdio: 'ignore' },
    );
    const server = new TestChromaServer(`http://127.0.0.1:${port}`, child, dir);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`${server.url}/api/v2/heartbeat`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return server;
      if (Date.now() > deadline || child.exitCode !== null) {
        await server.stop();
        throw new Error(`chroma did not start on port ${port}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops the server (keeps the data dir until dispose). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

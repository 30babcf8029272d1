import { fork, type ChildProcess } from 'node:child_process';

/** Every child still running, so a failure or the hard timeout can kill them all. */
const live = new Set<ChildProcess>();

/** Forks `file` (a TypeScript entry next to this one) under tsx, with an IPC channel. */
export function forkChild(file: string, payload: unknown): ChildProcess {
  const child = fork(file, [JSON.stringify(payload)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** The child's first IPC message; rejects when it exits first. */
export function firstMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code, signal) =>
      reject(new Error(`child exited (${code ?? signal}) before answering`)),
    );
  });
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGKILLs every child still running. */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
}

/**
 * Child side: runs `main(payload)`, sends its result to the parent and exits; exits at once
 * when the parent goes away, so no load generator or gateway outlives the benchmark.
 */
export function childMain<P, R>(main: (payload: P) => Promise<R>): void {
  process.once('disconnect', () => process.exit(1));
  main(JSON.parse(process.argv[2]) as P).then(
    (result) => process.send!(result, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

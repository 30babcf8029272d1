import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { authV1 } from '@charge/contracts';
import { freePort, statusOf, unary } from '@charge/testing';

const ROOT = path.resolve(__dirname, '../../..');
const FIXTURE = path.join(__dirname, 'fixtures/slow-service.ts');

function startFixture(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitFor(predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('runService process lifecycle', () => {
  test('invalid config exits 78 and lists every problem', async () => {
    const proc = startFixture({ GRPC_PORT: 'not-a-port', LOG_LEVEL: 'loud', SHUTDOWN_TIMEOUT_MS: '-5' });
    expect(await proc.exited).toBe(78);
    const out = proc.output();
    expect(out).toContain('GRPC_PORT');
    expect(out).toContain('LOG_LEVEL');
    expect(out).toContain('SHUTDOWN_TIMEOUT_MS');
  });

  test('SIGTERM during an in-flight call lets the call finish, refuses new calls, runs stop hooks, exits 0', async () => {
    const port = await freePort();
    const proc = startFixture({ GRPC_PORT: String(port), GRPC_HOST: '127.0.0.1', SLOW_MS: '1500' });
    try {
      await waitFor(() => proc.output().includes('serving on'));
      const client = new authV1.AuthServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
      const inflight = unary<authV1.GetJwksRequest, authV1.GetJwksResponse>(client.getJwks.bind(client), {});
      await new Promise((r) => setTimeout(r, 300));
      proc.child.kill('SIGTERM');
      const res = await inflight;
      expect(res.keys[0].kid).toBe('slow');
      const late = new authV1.AuthServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
      const lateStatus = await statusOf(unary(late.getJwks.bind(late), {}, new Metadata()));
      expect([status.UNAVAILABLE, status.CANCELLED]).toContain(lateStatus);
      expect(await proc.exited).toBe(0);
      expect(proc.output()).toContain('STOP_HOOK_RAN');
      client.close();
      late.close();
    } finally {
      proc.child.kill('SIGKILL');
    }
  }, 30_000);

  test('DomainError maps to its status with reason/field trailers; other errors become INTERNAL with an opaque ref', async () => {
    const port = await freePort();
    const proc = startFixture({ GRPC_PORT: String(port), GRPC_HOST: '127.0.0.1' });
    try {
      await waitFor(() => proc.output().includes('serving on'));
      const client = new authV1.AuthServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
      const bad = (await unary(client.register.bind(client), authV1.RegisterRequest.fromPartial({})).catch(
        (e) => e,
      )) as ServiceError;
      expect(bad.code).toBe(status.INVALID_ARGUMENT);
      expect(bad.details).toBe('email: is not an email address');
      expect(bad.metadata.get('error-field')).toEqual(['email']);
      expect(bad.metadata.get('error-reason')).toEqual(['BAD_EMAIL']);

      const internal = (await unary(client.login.bind(client), authV1.LoginRequest.fromPartial({})).catch(
        (e) => e,
      )) as ServiceError;
      expect(internal.code).toBe(status.INTERNAL);
      expect(internal.details).toMatch(/^internal error \(ref [0-9a-f-]{36}\)$/);
      expect(internal.details).not.toContain('hunter2');
      const ref = String(internal.metadata.get('error-ref')[0]);
      await waitFor(() => proc.output().includes(ref));
      expect(proc.output()).toContain('connection to db');

      expect(await statusOf(unary(client.getMe.bind(client), {}))).toBe(status.UNAUTHENTICATED);
      client.close();
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
  }, 30_000);
});

/**
 * An analysis end to end with auth, analysis (API + workers) and the gateway as processes.
 * The upload is the one gRPC step: UploadLog is client streaming and has no REST binding
 * in the contract. Everything after it goes through the gateway: reads, another user's
 * 404, start, the NDJSON progress stream to the end, the report.
 */
import path from 'node:path';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { analysisV1 } from '@charge/contracts';
import { writeSampleSession } from '@charge/gbt27930';
import { E2ePlatform } from './platform';

describe('e2e: an analysis through the gateway', () => {
  const platform = new E2ePlatform();
  const rest = async (method: string, route: string, token?: string, body?: unknown) => {
    const res = await fetch(`${platform.gatewayUrl}${route}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };
  const json = (r: { text: string }) => JSON.parse(r.text) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const account = async (email: string) => {
    await rest('POST', '/v1/auth/register', undefined, { email, password: 'correct horse battery' });
    return json(await rest('POST', '/v1/auth/login', undefined, { email, password: 'correct horse battery' }))
      .accessToken as string;
  };

  beforeAll(async () => {
    await platform.start(['auth', 'analysis'], {
      ANALYSIS_BLOB_DIR: path.join(platform.scratch, 'blobs'),
      ANALYSIS_WORKERS: '1',
    });
  }, 180_000);

  afterAll(async () => {
    const codes = await platform.stop();
    expect(codes).toEqual({ auth: 0, analysis: 0, gateway: 0 });
  }, 60_000);

  test('upload, read, start, follow NDJSON progress to COMPLETED, fetch the report; other users get 404', async () => {
    const alice = await account('alice-e2e@example.com');
    const bob = await account('bob-e2e@example.com');
    const file = path.join(platform.scratch, 'session.blf');
    await writeSampleSession(file, { frames: 20_000, fault: 'bcl-timeout', seed: 7 });
    const bytes = readFileSync(file);

    const client = new analysisV1.AnalysisServiceClient(
      `127.0.0.1:${platform.grpcPorts.analysis}`,
      credentials.createInsecure(),
    );
    const md = new Metadata();
    md.set('authorization', `Bearer ${alice}`);
    const uploaded = await new Promise<analysisV1.UploadLogResponse>((resolve, reject) => {
      const call = client.uploadLog(md, (err: ServiceError | null, res?: analysisV1.UploadLogResponse) =>
        err ? reject(err) : resolve(res!),
      );
      call.write({
        metadata: {
          name: 'e2e session',
          description: '',
          fileName: 'session.blf',
          declaredSize: String(bytes.length),
        },
      });
      for (let off = 0; off < bytes.length; off += 256 * 1024)
        call.write({ chunk: bytes.subarray(off, off + 256 * 1024) });
      call.end();
    });
    client.close();
    const id = uploaded.analysis!.id;

    const read = await rest('GET', `/v1/analyses/${id}`, alice);
    expect(read.status).toBe(200);
    expect(json(read).analysis).toMatchObject({ id, name: 'e2e session', status: 'ANALYSIS_STATUS_PENDING' });
    expect((await rest('GET', `/v1/analyses/${id}`, bob)).status).toBe(404);
    expect((await rest('GET', `/v1/analyses/${id}`)).status).toBe(401);
    const listed = json(await rest('GET', '/v1/analyses?page.page_size=10', alice));
    expect(listed.analyses.map((a: { id: number }) => a.id)).toContain(id);
    expect(json(await rest('GET', '/v1/analyses?page.page_size=10', bob)).analyses ?? []).toEqual([]);

    expect((await rest('POST', `/v1/analyses/${id}:start`, bob, {})).status).toBe(404);
    const started = await rest('POST', `/v1/analyses/${id}:start`, alice, {});
    expect(started.status).toBe(200);

    const watched = await rest('GET', `/v1/analyses/${id}:watch`, alice);
    expect(watched.status).toBe(200);
    expect(watched.type).toBe('application/x-ndjson');
    const events = watched.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { status?: string; progress?: number; error?: unknown });
    expect(events.some((e) => e.error)).toBe(false);
    const progress = events.map((e) => e.progress ?? 0);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(events[events.length - 1].status).toBe('ANALYSIS_STATUS_COMPLETED');

    const report = await rest('GET', `/v1/analyses/${id}/report`, alice);
    expect(report.status).toBe(200);
    expect(json(report).analysis).toMatchObject({ id, status: 'ANALYSIS_STATUS_COMPLETED' });
    expect(JSON.parse(json(report).reportJson as string)).toEqual(expect.any(Object));
    expect((await rest('GET', `/v1/analyses/${id}/report`, bob)).status).toBe(404);
  });
});

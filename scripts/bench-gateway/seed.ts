/**
 * Seed data for the reads: the admin logs in over auth, uploads `count` small but real
 * GB/T 27930 sessions (written by @charge/gbt27930's `writeSampleSession`, a different fault
 * and seed each) over gRPC UploadLog, starts them all and waits until each is COMPLETED, so
 * GetAnalysis and ListAnalyses return analyses with results as users see them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { analysisV1, authV1 } from '@charge/contracts';
import { minSampleFrames, writeSampleSession, type SampleFault } from '@charge/gbt27930';
import type { RunningService } from '@charge/service-kit';
import { clientFor, unary, withToken } from '@charge/testing';

const FAULTS: SampleFault[] = ['battery-overtemp', 'insulation', 'charger-overtemp', 'bcl-timeout', 'none'];
const { AnalysisStatus: S } = analysisV1;
const CHUNK = 256 * 1024;

export interface Seeded {
  token: string;
  /** A completed analysis, the subject of GetAnalysis. */
  analysisId: number;
  count: number;
}

export async function login(auth: RunningService, email: string, password: string): Promise<string> {
  const client = clientFor(authV1.AuthServiceClient, auth);
  try {
    const res = await unary<authV1.LoginRequest, authV1.LoginResponse>(client.login.bind(client), {
      email,
      password,
    });
    return res.accessToken;
  } finally {
    client.close();
  }
}

export async function seedAnalyses(analysis: RunningService, token: string, count: number): Promise<Seeded> {
  const client = clientFor(analysisV1.AnalysisServiceClient, analysis);
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-gw-logs-'));
  try {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const fault = FAULTS[i % FAULTS.length];
      const file = path.join(dir, `session-${i}.blf`);
      await writeSampleSession(file, { fault, seed: i + 1, frames: Math.max(minSampleFrames(fault), 8_000) });
      const bytes = readFileSync(file);
      const { analysis: uploaded } = await new Promise<analysisV1.UploadLogResponse>((resolve, reject) => {
        const call = client.uploadLog(
          withToken(token),
          (err: ServiceError | null, res?: analysisV1.UploadLogResponse) =>
            err ? reject(err) : resolve(res!),
        );
        call.write({
          metadata: {
            name: `bench session ${i + 1} (${fault})`,
            description: 'bench:gateway seed',
            fileName: `session-${i + 1}.blf`,
            declaredSize: String(bytes.length),
          },
        });
        for (let off = 0; off < bytes.length; off += CHUNK)
          call.write({ chunk: bytes.subarray(off, off + CHUNK) });
        call.end();
      });
      ids.push(uploaded!.id);
    }
    for (const id of ids) {
      await unary<analysisV1.StartAnalysisRequest, analysisV1.StartAnalysisResponse>(
        client.startAnalysis.bind(client),
        { analysisId: id, useLlm: false, dbcId: 0 },
        withToken(token),
      );
    }
    for (const id of ids) {
      const status = await new Promise<analysisV1.AnalysisStatus>((resolve, reject) => {
        let last: analysisV1.AnalysisStatus = S.ANALYSIS_STATUS_UNSPECIFIED;
        const stream = client.watchAnalysis({ analysisId: id }, withToken(token));
        stream.on('data', (e: analysisV1.WatchAnalysisResponse) => (last = e.status));
        stream.on('error', reject);
        stream.on('end', () => resolve(last));
      });
      if (status !== S.ANALYSIS_STATUS_COMPLETED)
        throw new Error(`seed analysis ${id} ended ${S[status] ?? status}, not COMPLETED`);
    }
    return { token, analysisId: ids[0], count: ids.length };
  } finally {
    client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

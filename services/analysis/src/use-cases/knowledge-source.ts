import type { Metadata, ServiceError } from '@grpc/grpc-js';
import { authV1, knowledgeV1, trainingV1 } from '@charge/contracts';
import type { ChargingReport } from '@charge/gbt27930';
import { createGrpcClient, forwardMetadata, type Logger } from '@charge/service-kit';

/** A knowledge passage given to the LLM as evidence (`P1`, `P2`, …) and stored in the report. */
export interface KnowledgePassage {
  id: string;
  query: string;
  content: string;
  score: number;
  collectionId: number;
  documentId: number;
  filename: string;
  chunkId: string;
}

/** The default flow_control model version training names, and its endpoint when it has one. */
export interface DefaultModel {
  id: number;
  name: string;
  version: string;
  /** OpenAI-compatible base URL from the version's config (`endpoint`), when present. */
  endpoint?: string;
  /** Model name to ask that endpoint for (`served_model` in the config, else the version name). */
  servedModel?: string;
}

export interface Consulted {
  passages: KnowledgePassage[];
  /** Human-readable notes on what was (not) consulted; stored in the LLM section. */
  notes: string[];
  defaultModel?: DefaultModel;
}

type Unary<Req, Res> = (
  req: Req,
  md: Metadata,
  opts: { deadline: Date },
  cb: (err: ServiceError | null, res?: Res) => void,
) => unknown;

function call<Req, Res>(fn: Unary<Req, Res>, req: Req, md: Metadata, timeoutMs: number): Promise<Res> {
  return new Promise((resolve, reject) =>
    fn(req, md, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) =>
      err ? reject(err) : resolve(res!),
    ),
  );
}

const describeError = (error: unknown) => {
  const e = error as Partial<ServiceError>;
  return e.details || e.message || String(error);
};

/**
 * The worker's own identity: logs in to auth with the service account and caches the access
 * token until shortly before it expires.
 */
export class ServiceAccount {
  private token?: { value: string; until: number };
  private pending?: Promise<string>;

  constructor(
    private readonly auth: authV1.AuthServiceClient,
    private readonly email: string,
    private readonly password: string,
    private readonly timeoutMs: number,
    /** Renew this long before expiry. */
    private readonly marginMs = 30_000,
  ) {}

  async accessToken(): Promise<string> {
    if (this.token && Date.now() < this.token.until) return this.token.value;
    this.pending ??= this.login().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** Forgets the cached token (e.g. after UNAUTHENTICATED). */
  invalidate(): void {
    this.token = undefined;
  }

  private async login(): Promise<string> {
    const res = await call<authV1.LoginRequest, authV1.LoginResponse>(
      this.auth.login.bind(this.auth) as Unary<authV1.LoginRequest, authV1.LoginResponse>,
      { email: this.email, password: this.password },
      forwardMetadata(undefined),
      this.timeoutMs,
    );
    const value = res.tokens?.accessToken || res.accessToken;
    const expiresInS = res.tokens?.expiresIn || res.expiresIn || 60;
    if (!value) throw new Error('auth returned no access token');
    const lifetimeMs = expiresInS * 1000;
    this.token = { value, until: Date.now() + Math.max(lifetimeMs - this.marginMs, lifetimeMs / 2) };
    return value;
  }
}

export interface KnowledgeSourceOptions {
  knowledgeAddr?: string;
  trainingAddr?: string;
  authAddr: string;
  email?: string;
  password?: string;
  /** Collections to search; empty: the first 20 the service account can read. */
  collectionIds: number[];
  timeoutMs: number;
  topK: number;
  logger: Logger;
}

/** Queries for Retrieve built from the findings: one per distinct finding code, at most `max`. */
export function knowledgeQueries(report: ChargingReport, max = 5): string[] {
  const seen = new Map<string, string>();
  for (const f of report.sessions.flatMap((s) => s.findings)) {
    if (!seen.has(f.code)) seen.set(f.code, `${f.code} ${f.message}`.slice(0, 500));
  }
  return [...seen.values()].slice(0, max);
}

/**
 * Knowledge passages (knowledge.Retrieve) and the default flow_control model
 * (training.GetDefaultModel) for the LLM refinement. Never throws: what cannot be consulted
 * (no address, no service credentials, a timeout, an error) is noted instead.
 */
export class KnowledgeSource {
  private readonly knowledge?: knowledgeV1.KnowledgeServiceClient;
  private readonly training?: trainingV1.TrainingServiceClient;
  private readonly account?: ServiceAccount;
  private readonly auth?: authV1.AuthServiceClient;

  constructor(private readonly options: KnowledgeSourceOptions) {
    if (options.knowledgeAddr)
      this.knowledge = createGrpcClient(knowledgeV1.KnowledgeServiceClient, options.knowledgeAddr);
    if (options.trainingAddr)
      this.training = createGrpcClient(trainingV1.TrainingServiceClient, options.trainingAddr);
    if (options.email && options.password && (this.knowledge || this.training)) {
      this.auth = createGrpcClient(authV1.AuthServiceClient, options.authAddr);
      this.account = new ServiceAccount(this.auth, options.email, options.password, options.timeoutMs);
    }
  }

  close(): void {
    this.knowledge?.close();
    this.training?.close();
    this.auth?.close();
  }

  async consult(report: ChargingReport, requestId: string): Promise<Consulted> {
    const notes: string[] = [];
    if (!this.knowledge) notes.push('knowledge not consulted: KNOWLEDGE_GRPC_ADDR not configured');
    if (!this.training) notes.push('default model not consulted: TRAINING_GRPC_ADDR not configured');
    if (!this.knowledge && !this.training) return { passages: [], notes };
    if (!this.account) {
      notes.push('knowledge not consulted: no service credentials');
      return { passages: [], notes };
    }
    let token: string;
    try {
      token = await this.account.accessToken();
    } catch (error) {
      notes.push(`knowledge not consulted: service account login failed (${describeError(error)})`);
      return { passages: [], notes };
    }
    const md = () => forwardMetadata(token, requestId);
    const [passages, defaultModel] = await Promise.all([
      this.knowledge ? this.retrieve(report, md, notes) : Promise.resolve([]),
      this.training ? this.defaultModel(md, notes) : Promise.resolve(undefined),
    ]);
    return { passages, notes, defaultModel };
  }

  private async retrieve(
    report: ChargingReport,
    md: () => Metadata,
    notes: string[],
  ): Promise<KnowledgePassage[]> {
    const client = this.knowledge!;
    const { timeoutMs, topK } = this.options;
    const queries = knowledgeQueries(report);
    if (!queries.length) {
      notes.push('knowledge not consulted: no findings to query');
      return [];
    }
    try {
      let collectionIds = this.options.collectionIds;
      if (!collectionIds.length) {
        const listed = await call<knowledgeV1.ListCollectionsRequest, knowledgeV1.ListCollectionsResponse>(
          client.listCollections.bind(client) as never,
          { page: { pageSize: 20, pageToken: '' }, collectionType: 0 },
          md(),
          timeoutMs,
        );
        collectionIds = listed.collections.map((c) => c.id).slice(0, 20);
      }
      if (!collectionIds.length) {
        notes.push('knowledge not consulted: no collections readable');
        return [];
      }
      const answers = await Promise.all(
        queries.map((query) =>
          call<knowledgeV1.RetrieveRequest, knowledgeV1.RetrieveResponse>(
            client.retrieve.bind(client) as never,
            { collectionIds, query, options: { topK, scoreThreshold: 0, fusion: 0, filters: {} } },
            md(),
            timeoutMs,
          ).then((r) => r.passages.map((p) => ({ query, p }))),
        ),
      );
      const byChunk = new Map<string, KnowledgePassage>();
      for (const { query, p } of answers.flat()) {
        const key = p.citation?.chunkId || `${p.citation?.documentId}:${p.content.slice(0, 64)}`;
        const prior = byChunk.get(key);
        if (prior && prior.score >= p.score) continue;
        byChunk.set(key, {
          id: '',
          query,
          content: p.content,
          score: p.score,
          collectionId: p.citation?.collectionId ?? 0,
          documentId: p.citation?.documentId ?? 0,
          filename: p.citation?.filename ?? '',
          chunkId: p.citation?.chunkId ?? '',
        });
      }
      const passages = [...byChunk.values()]
        .sort((a, b) => b.score - a.score)
        .slice(0, topK * 2)
        .map((p, i) => ({ ...p, id: `P${i + 1}` }));
      notes.push(`knowledge consulted: ${passages.length} passages for ${queries.length} queries`);
      return passages;
    } catch (error) {
      if ((error as Partial<ServiceError>).code === 16) this.account?.invalidate();
      this.options.logger.warn({ err: error }, 'knowledge Retrieve failed');
      notes.push(`knowledge not consulted: Retrieve failed (${describeError(error)})`);
      return [];
    }
  }

  private async defaultModel(md: () => Metadata, notes: string[]): Promise<DefaultModel | undefined> {
    const client = this.training!;
    try {
      const res = await call<trainingV1.GetDefaultModelRequest, trainingV1.GetDefaultModelResponse>(
        client.getDefaultModel.bind(client) as never,
        { modelType: trainingV1.ModelType.MODEL_TYPE_FLOW_CONTROL },
        md(),
        this.options.timeoutMs,
      );
      const v = res.modelVersion;
      if (!v) {
        notes.push('default model: none set');
        return undefined;
      }
      let config: Record<string, unknown> = {};
      try {
        config = JSON.parse(v.config || '{}') as Record<string, unknown>;
      } catch {
        // not JSON: no endpoint
      }
      const endpoint = typeof config.endpoint === 'string' && config.endpoint ? config.endpoint : undefined;
      const servedModel =
        typeof config.served_model === 'string' && config.served_model ? config.served_model : v.name;
      notes.push(
        `default flow_control model: ${v.name} ${v.version}` +
          (endpoint ? ` (endpoint ${endpoint})` : ' (no endpoint)'),
      );
      return { id: v.id, name: v.name, version: v.version, endpoint, servedModel };
    } catch (error) {
      if ((error as Partial<ServiceError>).code === 5) notes.push('default model: none set');
      else notes.push(`default model not consulted: GetDefaultModel failed (${describeError(error)})`);
      return undefined;
    }
  }
}

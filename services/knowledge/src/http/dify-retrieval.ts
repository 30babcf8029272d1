import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { MikroORM } from '@mikro-orm/postgresql';
import { isDomainError } from '@charge/errors';
import type { Logger, TokenVerifier } from '@charge/service-kit';
import type { Caller } from '../use-cases/caller';
import type { RetrievalUseCases } from '../use-cases/retrieval';

export interface DifyRetrievalDeps {
  orm: MikroORM;
  retrieval: RetrievalUseCases;
  verifier: TokenVerifier;
  /** Static API keys for Dify: they read public collections only. */
  apiKeys: string[];
  logger: Logger;
}

const MAX_BODY = 1024 * 1024;

interface DifyRequest {
  knowledge_id?: unknown;
  query?: unknown;
  retrieval_setting?: { top_k?: unknown; score_threshold?: unknown };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<DifyRequest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (!body || typeof body !== 'object') throw new Error('not an object');
    return body as DifyRequest;
  } catch {
    throw new HttpError(400, 400, 'the body must be a JSON object');
  }
}

/**
 * Dify's External Knowledge API (`POST /retrieval`): Dify users attach a collection by its
 * id (`knowledge_id`). `Authorization: Bearer` takes an access token (the caller's
 * collections) or one of the configured API keys (public collections only). Errors use
 * Dify's codes: 1001 malformed header, 1002 authorization failed, 2001 unknown knowledge.
 */
export function createDifyRetrievalServer(deps: DifyRetrievalDeps): Server {
  const caller = async (header: string | undefined): Promise<Caller> => {
    const token = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
    if (!token)
      throw new HttpError(403, 1001, 'Invalid Authorization header format. Expected "Bearer <api-key>".');
    if (deps.apiKeys.includes(token)) {
      return { claims: { userId: 0, role: 'user', sessionId: '', token: '' }, actor: {} };
    }
    try {
      const claims = await deps.verifier.verify(token);
      return { claims, actor: { userId: claims.userId } };
    } catch {
      throw new HttpError(403, 1002, 'Authorization failed');
    }
  };

  return createServer((req, res) => {
    void (async () => {
      try {
        if (req.method !== 'POST' || (req.url ?? '').split('?')[0].replace(/\/+$/, '') !== '/retrieval') {
          throw new HttpError(404, 404, 'not found; use POST /retrieval');
        }
        const who = await caller(req.headers.authorization);
        const body = await readBody(req);
        const id = Number(body.knowledge_id);
        if (!Number.isInteger(id) || id <= 0) throw new HttpError(404, 2001, 'The knowledge does not exist');
        const setting = body.retrieval_setting ?? {};
        const topK = setting.top_k === undefined ? 5 : Number(setting.top_k);
        const threshold = setting.score_threshold === undefined ? 0 : Number(setting.score_threshold);
        const passages = await deps.retrieval.retrieve(
          deps.orm.em.fork(),
          who,
          [id],
          typeof body.query === 'string' ? body.query : '',
          { topK: Math.min(50, Math.max(1, Math.trunc(topK) || 5)), scoreThreshold: threshold },
        );
        send(res, 200, {
          records: passages.map((p) => ({
            content: p.content,
            score: p.score,
            title: p.citation.filename,
            metadata: {
              document_id: p.citation.documentId,
              chunk_id: p.citation.chunkId,
              ...(p.citation.row ? { row: p.citation.row } : {}),
              ...(p.citation.sheet ? { sheet: p.citation.sheet } : {}),
              ...(p.citation.page ? { page: p.citation.page } : {}),
              ...(p.citation.heading ? { heading: p.citation.heading } : {}),
              ...(p.primaryTag ? { primary_tag: p.primaryTag } : {}),
            },
          })),
        });
      } catch (error) {
        if (error instanceof HttpError)
          return send(res, error.status, { error_code: error.code, error_msg: error.message });
        if (isDomainError(error)) {
          if (error.kind === 'notFound')
            return send(res, 404, { error_code: 2001, error_msg: 'The knowledge does not exist' });
          // Dify knows no "inactive": the knowledge is unavailable to it, with the reason.
          if (error.kind === 'failedPrecondition')
            return send(res, 404, {
              error_code: 2001,
              error_msg: `The knowledge is unavailable: ${error.message}`,
            });
          if (error.kind === 'invalidArgument')
            return send(res, 400, { error_code: 400, error_msg: error.message });
          if (error.kind === 'unavailable')
            return send(res, 503, { error_code: 503, error_msg: error.message });
        }
        const ref = randomUUID().slice(0, 8);
        deps.logger.error({ err: error, ref }, 'dify retrieval failed');
        send(res, 500, { error_code: 500, error_msg: `internal error (${ref})` });
      }
    })();
  });
}

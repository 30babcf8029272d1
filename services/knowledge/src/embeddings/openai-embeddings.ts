import { DomainError } from '@charge/errors';

export interface OpenAiEmbeddingsOptions {
  /** e.g. `http://127.0.0.1:8080` (TEI, vLLM, Ollama, Xinference); `/v1/embeddings` is appended. */
  baseUrl: string;
  apiKey: string;
  model: string;
  batchSize: number;
  /** Extra attempts after a network error, 429 or 5xx. */
  retries: number;
  timeoutMs: number;
}

interface EmbeddingsResponse {
  data?: { index?: number; embedding?: unknown }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Any OpenAI-compatible `/v1/embeddings` endpoint, batched, with retries and backoff. */
export class OpenAiEmbeddings {
  readonly model: string;
  private readonly url: string;

  constructor(private readonly options: OpenAiEmbeddingsOptions) {
    this.model = options.model;
    this.url = `${options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '')}/v1/embeddings`;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += this.options.batchSize) {
      out.push(...(await this.batch(texts.slice(i, i + this.options.batchSize), signal)));
    }
    return out;
  }

  private async batch(input: string[], signal?: AbortSignal): Promise<number[][]> {
    let lastError = '';
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      if (attempt > 0) await sleep(Math.min(2000, 100 * 2 ** (attempt - 1)));
      signal?.throwIfAborted();
      let response: Response;
      try {
        response = await fetch(this.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
          },
          body: JSON.stringify({ model: this.model, input }),
          signal: signal
            ? AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs)])
            : AbortSignal.timeout(this.options.timeoutMs),
        });
      } catch (error) {
        signal?.throwIfAborted();
        lastError = (error as Error).message;
        continue;
      }
      if (response.status === 429 || response.status >= 500) {
        lastError = `HTTP ${response.status}`;
        await response.body?.cancel();
        continue;
      }
      if (!response.ok) {
        const text = (await response.text()).slice(0, 200);
        throw DomainError.failedPrecondition(
          `embedding endpoint rejected the request for model "${this.model}": HTTP ${response.status} ${text}`,
          'EMBEDDING_REJECTED',
        );
      }
      const body = (await response.json()) as EmbeddingsResponse;
      const data = [...(body.data ?? [])].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
      if (
        data.length !== input.length ||
        !data.every((d) => Array.isArray(d.embedding) && d.embedding.every((x) => typeof x === 'number'))
      ) {
        throw DomainError.failedPrecondition(
          `embedding endpoint returned ${data.length} embeddings for ${input.length} inputs`,
          'EMBEDDING_MALFORMED',
        );
      }
      return data.map((d) => d.embedding as number[]);
    }
    throw DomainError.unavailable(
      `embedding endpoint ${this.url} unavailable after ${this.options.retries + 1} attempts: ${lastError}`,
      'EMBEDDING_UNAVAILABLE',
    );
  }
}

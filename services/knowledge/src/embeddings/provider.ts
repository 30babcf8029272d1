import { DomainError } from '@charge/errors';
import { BUILTIN_MODEL, hashedEmbedding } from '../domain/hashed-embedder';
import type { Tokenizer } from '../domain/tokenizer';
import { OpenAiEmbeddings } from './openai-embeddings';

/** Turns texts into vectors for one model. */
export interface EmbeddingProvider {
  readonly model: string;
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
  /** Providers that use jieba tokens take the caller's (ingest has them already). */
  embedTokenized?(texts: string[], tokens: string[][]): number[][];
}

/** The built-in offline embedder (see hashedEmbedding). */
export class BuiltinEmbeddings implements EmbeddingProvider {
  readonly model = BUILTIN_MODEL;
  constructor(private readonly tokenizer: Tokenizer) {}
  async embed(texts: string[]): Promise<number[][]> {
    return texts.map((t) => hashedEmbedding(t, this.tokenizer.tokens(t)));
  }
  /** `tokens[i]` must be `Tokenizer.tokens(texts[i])`. */
  embedTokenized(texts: string[], tokens: string[][]): number[][] {
    return texts.map((t, i) => hashedEmbedding(t, tokens[i]));
  }
}

export interface EmbeddingRegistryOptions {
  tokenizer: Tokenizer;
  /** Base URL of an OpenAI-compatible server (its `/v1/embeddings`); empty for none. */
  apiUrl: string;
  apiKey: string;
  /** Models that server serves. */
  apiModels: string[];
  batchSize: number;
  retries: number;
  timeoutMs: number;
}

/** Model name → provider: the built-in model plus the configured endpoint's models. */
export class EmbeddingRegistry {
  private readonly providers = new Map<string, EmbeddingProvider>();

  constructor(options: EmbeddingRegistryOptions) {
    this.providers.set(BUILTIN_MODEL, new BuiltinEmbeddings(options.tokenizer));
    if (options.apiUrl) {
      for (const model of options.apiModels) {
        this.providers.set(
          model,
          new OpenAiEmbeddings({
            baseUrl: options.apiUrl,
            apiKey: options.apiKey,
            model,
            batchSize: options.batchSize,
            retries: options.retries,
            timeoutMs: options.timeoutMs,
          }),
        );
      }
    }
  }

  models(): string[] {
    return [...this.providers.keys()];
  }

  has(model: string): boolean {
    return this.providers.has(model);
  }

  /** INVALID_ARGUMENT naming `field` for an unknown model. */
  get(model: string, field = 'embedding_model'): EmbeddingProvider {
    const provider = this.providers.get(model);
    if (!provider) {
      throw DomainError.invalidArgument(
        field,
        `unknown model "${model}"; available: ${this.models().join(', ')}`,
      );
    }
    return provider;
  }
}

import type { ChargingReport } from '@charge/gbt27930';
import type { Logger } from '@charge/service-kit';
import {
  buildMessages,
  type Citation,
  checkVerdict,
  CONFIDENCE_THRESHOLD,
  findingCitations,
  type Verdict,
} from '../domain/llm-verdict';
import type { Consulted, DefaultModel, KnowledgePassage, KnowledgeSource } from './knowledge-source';

export interface LlmOptions {
  /** Configured endpoint (LLM_BASE_URL/LLM_MODEL); without it, the default model's endpoint, if any. */
  baseUrl?: string;
  model?: string;
  /** Knowledge passages and the default flow_control model; without it neither is consulted. */
  knowledge?: KnowledgeSource;
  apiKey?: string;
  timeoutMs: number;
  retries: number;
  maxIterations: number;
  logger: Logger;
  /** Backoff base between retries (ms). */
  backoffMs?: number;
}

/** The `llm` section stored next to the rule-based report. */
export interface LlmSection {
  status: 'completed' | 'validation_failed' | 'max_iterations_reached' | 'unavailable';
  model: string;
  rounds: number;
  /** What was (not) consulted: knowledge service, default model (notes joined by `; `). */
  knowledge: string;
  /** Passages given to the LLM as evidence (`P1`, …), with their citations. */
  passages: KnowledgePassage[];
  defaultModel?: DefaultModel;
  verdict?: Verdict;
  error?: string;
}

class RetryableHttpError extends Error {}

/**
 * LLM refinement of a rule-based report through an OpenAI-compatible chat-completions
 * endpoint: up to `maxIterations` rounds; each answer must validate (two tries per round);
 * rounds continue while the confidence stays below the threshold.
 */
export class LlmRefiner {
  constructor(private readonly options: LlmOptions) {}

  async refine(report: ChargingReport, signal: AbortSignal, requestId = ''): Promise<LlmSection> {
    const consulted: Consulted = this.options.knowledge
      ? await this.options.knowledge.consult(report, requestId)
      : { passages: [], notes: ['knowledge not consulted: knowledge service not configured'] };
    if (signal.aborted) throw signal.reason;
    const { passages, defaultModel } = consulted;
    const knowledge = consulted.notes.join('; ');
    const baseUrl = this.options.baseUrl ?? defaultModel?.endpoint;
    const model = (this.options.baseUrl ? this.options.model : defaultModel?.servedModel) ?? '';
    const base = { model, knowledge, passages, ...(defaultModel ? { defaultModel } : {}) };
    if (!baseUrl) return { ...base, status: 'unavailable', rounds: 0, error: 'no LLM configured' };
    const citations: Citation[] = [
      ...findingCitations(report),
      ...passages.map((p) => ({
        id: p.id,
        text:
          `[${p.filename || `document ${p.documentId}`}, document ${p.documentId}, chunk ${p.chunkId}, ` +
          `score ${p.score.toFixed(3)}] ${p.content}`,
      })),
    ];
    const feedback: string[] = [];
    let last: Verdict | undefined;
    for (let round = 1; round <= this.options.maxIterations; round++) {
      let verdict: Verdict | undefined;
      let problem = '';
      for (let attempt = 1; attempt <= 2 && !verdict; attempt++) {
        let content: string;
        try {
          content = await this.complete(
            baseUrl,
            model,
            buildMessages(report, citations, knowledge || 'none', feedback),
            signal,
          );
        } catch (error) {
          if (signal.aborted) throw error;
          return { ...base, status: 'unavailable', rounds: round, error: (error as Error).message };
        }
        const checked = checkVerdict(content, citations);
        if ('verdict' in checked) verdict = checked.verdict;
        else {
          problem = checked.problem;
          feedback.push(`Your previous answer was invalid (${problem}). Answer again with valid JSON only.`);
        }
      }
      if (!verdict)
        return { ...base, status: 'validation_failed', rounds: round, verdict: last, error: problem };
      last = verdict;
      if (verdict.confidence >= CONFIDENCE_THRESHOLD)
        return { ...base, status: 'completed', rounds: round, verdict };
      feedback.push(
        `Your confidence ${verdict.confidence} is below ${CONFIDENCE_THRESHOLD}. Re-examine the findings` +
          (verdict.neededEvidence.length ? ` (you asked for: ${verdict.neededEvidence.join('; ')})` : '') +
          ' and answer again.',
      );
    }
    return { ...base, status: 'max_iterations_reached', rounds: this.options.maxIterations, verdict: last };
  }

  /** One chat completion, with a timeout and retries (exponential backoff) on 5xx/429/network errors. */
  private async complete(
    baseUrl: string,
    model: string,
    messages: { role: string; content: string }[],
    signal: AbortSignal,
  ): Promise<string> {
    const { apiKey, timeoutMs, retries } = this.options;
    const url = `${baseUrl.replace(/\/+$/, '')}/chat/completions`;
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
          },
          body: JSON.stringify({ model, messages, temperature: 0, response_format: { type: 'json_object' } }),
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
        });
        if (res.status >= 500 || res.status === 429)
          throw new RetryableHttpError(`LLM answered HTTP ${res.status}`);
        if (!res.ok) throw new Error(`LLM answered HTTP ${res.status}`);
        const body = (await res.json()) as { choices?: { message?: { content?: unknown } }[] };
        const content = body.choices?.[0]?.message?.content;
        return typeof content === 'string' ? content : '';
      } catch (error) {
        if (
          signal.aborted ||
          attempt >= retries ||
          !(error instanceof RetryableHttpError || isNetworkError(error))
        )
          throw error;
        this.options.logger.warn({ err: error, attempt }, 'LLM call failed; retrying');
        await new Promise((r) => setTimeout(r, (this.options.backoffMs ?? 500) * 2 ** attempt));
      }
    }
  }
}

function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError || (error instanceof DOMException && error.name === 'TimeoutError');
}

import type { ChargingReport } from '@charge/gbt27930';
import type { Logger } from '@charge/service-kit';
import {
  buildMessages,
  checkVerdict,
  CONFIDENCE_THRESHOLD,
  findingCitations,
  type Verdict,
} from '../domain/llm-verdict';

export interface LlmOptions {
  baseUrl: string;
  model: string;
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
  knowledge: string;
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

  async refine(report: ChargingReport, signal: AbortSignal): Promise<LlmSection> {
    const citations = findingCitations(report);
    // The knowledge service (Retrieve) is not deployed yet: no passages to cite.
    const knowledge = 'unavailable (knowledge service not configured); cite findings only';
    const feedback: string[] = [];
    let last: Verdict | undefined;
    const base = { model: this.options.model, knowledge };
    for (let round = 1; round <= this.options.maxIterations; round++) {
      let verdict: Verdict | undefined;
      let problem = '';
      for (let attempt = 1; attempt <= 2 && !verdict; attempt++) {
        let content: string;
        try {
          content = await this.complete(buildMessages(report, citations, knowledge, feedback), signal);
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
    messages: { role: string; content: string }[],
    signal: AbortSignal,
  ): Promise<string> {
    const { baseUrl, model, apiKey, timeoutMs, retries } = this.options;
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

import { DomainError } from '@charge/errors';

export interface ChatOptions {
  /** Base URL of an OpenAI-compatible server; `/v1/chat/completions` is appended. */
  baseUrl: string;
  apiKey: string;
  model: string;
  timeoutMs: number;
  /** Extra attempts after a network error, 429 or 5xx. */
  retries: number;
}

export interface SourcePassage {
  content: string;
  filename: string;
  location: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers a question from retrieved passages with an OpenAI-compatible chat model. */
export class AnswerSynthesizer {
  private readonly url: string;

  constructor(private readonly options: ChatOptions) {
    this.url = `${options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '')}/v1/chat/completions`;
  }

  static prompt(question: string, passages: SourcePassage[]): { role: string; content: string }[] {
    const sources = passages
      .map((p, i) => `[${i + 1}] ${p.filename}${p.location ? ` (${p.location})` : ''}\n${p.content}`)
      .join('\n\n');
    return [
      {
        role: 'system',
        content:
          'You answer questions about EV DC charging (GB/T 27930) from the numbered passages only. ' +
          'Cite every statement with the passage numbers in brackets, e.g. [1]. If the passages do not ' +
          'answer the question, say so. Answer in the language of the question.',
      },
      { role: 'user', content: `Passages:\n${sources || '(none)'}\n\nQuestion: ${question}` },
    ];
  }

  async answer(question: string, passages: SourcePassage[], signal?: AbortSignal): Promise<string> {
    let lastError = '';
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      if (attempt > 0) await sleep(Math.min(2000, 200 * 2 ** (attempt - 1)));
      signal?.throwIfAborted();
      let response: Response;
      try {
        response = await fetch(this.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
          },
          body: JSON.stringify({
            model: this.options.model,
            messages: AnswerSynthesizer.prompt(question, passages),
            temperature: 0.2,
          }),
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
        throw DomainError.failedPrecondition(
          `LLM endpoint rejected the request: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`,
          'LLM_REJECTED',
        );
      }
      const body = (await response.json()) as { choices?: { message?: { content?: unknown } }[] };
      const content = body.choices?.[0]?.message?.content;
      if (typeof content !== 'string') {
        throw DomainError.failedPrecondition('LLM endpoint returned no message content', 'LLM_MALFORMED');
      }
      return content.trim();
    }
    throw DomainError.unavailable(
      `LLM endpoint ${this.url} unavailable after ${this.options.retries + 1} attempts: ${lastError}`,
      'LLM_UNAVAILABLE',
    );
  }
}

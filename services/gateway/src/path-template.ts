/**
 * google.api.http path templates (`/v1/users/{user_id}/role`, `/v1/{name=files/**}`,
 * `/v1/analyses/{analysis_id}:start`): parsing and matching.
 *
 *   Template = "/" Segments [ ":" Verb ] ;  Segment = "*" | "**" | LITERAL | Variable ;
 *   Variable = "{" FieldPath [ "=" Segments ] "}" ;
 */

type Segment = { kind: 'literal'; value: string } | { kind: 'any' } | { kind: 'rest' };

interface Variable {
  fieldPath: string[];
  /** Index of the first segment the variable covers, and one past the last. */
  start: number;
  end: number;
}

export class PathTemplate {
  private constructor(
    readonly source: string,
    private readonly segments: Segment[],
    private readonly variables: Variable[],
    readonly verb: string | undefined,
  ) {}

  /** Field paths bound by the template, e.g. `[['user_id']]`. */
  get fieldPaths(): string[][] {
    return this.variables.map((v) => v.fieldPath);
  }

  static parse(source: string): PathTemplate {
    if (!source.startsWith('/')) throw new Error(`path template must start with '/': ${source}`);
    let body = source.slice(1);
    let verb: string | undefined;
    const lastSlash = body.lastIndexOf('/');
    const lastBrace = body.lastIndexOf('}');
    const colon = body.indexOf(':', Math.max(lastSlash, lastBrace) + 1);
    if (colon >= 0) {
      verb = body.slice(colon + 1);
      body = body.slice(0, colon);
      if (!verb) throw new Error(`empty verb in path template ${source}`);
    }
    const segments: Segment[] = [];
    const variables: Variable[] = [];
    let i = 0;
    const literal = (text: string): Segment =>
      text === '*' ? { kind: 'any' } : text === '**' ? { kind: 'rest' } : { kind: 'literal', value: text };
    while (i < body.length) {
      if (body[i] === '{') {
        const close = body.indexOf('}', i);
        if (close < 0) throw new Error(`unclosed variable in path template ${source}`);
        const [field, sub] = body.slice(i + 1, close).split('=', 2);
        if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/i.test(field))
          throw new Error(`bad field path '${field}' in path template ${source}`);
        const start = segments.length;
        for (const part of (sub ?? '*').split('/')) segments.push(literal(part));
        variables.push({ fieldPath: field.split('.'), start, end: segments.length });
        i = close + 1;
      } else {
        const slash = body.indexOf('/', i);
        const end = slash < 0 ? body.length : slash;
        const text = body.slice(i, end);
        if (!text) throw new Error(`empty segment in path template ${source}`);
        segments.push(literal(text));
        i = end;
      }
      if (i < body.length) {
        if (body[i] !== '/') throw new Error(`unexpected '${body[i]}' in path template ${source}`);
        i += 1;
      }
    }
    const restAt = segments.findIndex((s) => s.kind === 'rest');
    if (restAt >= 0 && restAt !== segments.length - 1)
      throw new Error(`'**' must be the last segment in path template ${source}`);
    return new PathTemplate(source, segments, variables, verb);
  }

  /**
   * Matches a request path (without the query string). Returns the variable bindings
   * (dotted field path → percent-decoded value) or undefined.
   */
  match(path: string): Map<string, string> | undefined {
    if (!path.startsWith('/')) return undefined;
    let body = path.slice(1);
    if (this.verb !== undefined) {
      const suffix = `:${this.verb}`;
      if (!body.endsWith(suffix)) return undefined;
      body = body.slice(0, -suffix.length);
    }
    const parts = body.split('/');
    const n = this.segments.length;
    const hasRest = n > 0 && this.segments[n - 1].kind === 'rest';
    if (hasRest ? parts.length < n - 1 : parts.length !== n) return undefined;
    for (let k = 0; k < n; k++) {
      const seg = this.segments[k];
      if (seg.kind === 'rest') break;
      const part = parts[k];
      if (seg.kind === 'literal' ? part !== seg.value : part === '') return undefined;
    }
    const bindings = new Map<string, string>();
    for (const v of this.variables) {
      const end = v.end === n && hasRest ? parts.length : v.end;
      let value: string;
      try {
        value = parts
          .slice(v.start, end)
          .map((p) => (end - v.start > 1 ? decodeKeepingSlash(p) : decodeURIComponent(p)))
          .join('/');
      } catch {
        return undefined;
      }
      bindings.set(v.fieldPath.join('.'), value);
    }
    return bindings;
  }
}

function decodeKeepingSlash(part: string): string {
  return part
    .split(/%2F/i)
    .map((p) => decodeURIComponent(p))
    .join('%2F');
}

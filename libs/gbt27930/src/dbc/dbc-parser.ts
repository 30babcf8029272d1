/**
 * DBC parser: messages, signals (Intel/Motorola, signed, scale/offset, min/max, unit,
 * receivers), simple and extended multiplexing, value tables (`VAL_`, `VAL_TABLE_`),
 * comments, `SIG_VALTYPE_` floats and `GenMsgCycleTime`. Other sections are skipped.
 * Errors are {@link DbcParseError}s with line and column.
 */
import { DbcParseError } from './dbc-errors';
import { tokenizeDbc, type DbcToken } from './dbc-tokenizer';
import { dbcKey, type DbcDatabase, type DbcMessage } from './dbc-types';

/** Parses DBC text. Throws {@link DbcParseError}. */
export function parseDbc(text: string): DbcDatabase {
  return new Parser(tokenizeDbc(text)).parse();
}

/** Top-level keywords whose statements run to the end of their line (no `;`). */
const LINE_KEYWORDS = new Set(['VERSION', 'NS_', 'BS_', 'BU_', 'BO_', 'SG_']);

class Parser {
  private pos = 0;
  private readonly db: DbcDatabase = {
    version: '',
    nodes: [],
    messages: [],
    valueTables: new Map(),
    comment: null,
  };
  private readonly byKey = new Map<number, DbcMessage>();
  private currentMessage: DbcMessage | null = null;

  constructor(private readonly tokens: DbcToken[]) {}

  parse(): DbcDatabase {
    while (this.pos < this.tokens.length) {
      const t = this.tokens[this.pos];
      if (t.kind !== 'ident') this.fail(t, `expected a keyword, found ${JSON.stringify(t.text)}`);
      this.pos++;
      switch (t.text) {
        case 'VERSION':
          this.db.version = this.expect('string').text;
          break;
        case 'NS_':
        case 'BS_':
          this.skipIndentedBlock(t);
          break;
        case 'BU_':
          this.expectPunct(':');
          while (this.peekOnLine(t.line)?.kind === 'ident') this.db.nodes.push(this.next().text);
          break;
        case 'BO_':
          this.message();
          break;
        case 'SG_':
          this.signal(t);
          break;
        case 'CM_':
          this.commentStatement();
          break;
        case 'BA_':
          this.attribute();
          break;
        case 'VAL_':
          this.valueDescriptions();
          break;
        case 'VAL_TABLE_':
          this.valueTable();
          break;
        case 'SIG_VALTYPE_':
          this.signalValueType();
          break;
        case 'SG_MUL_VAL_':
          this.extendedMultiplexing();
          break;
        default:
          this.skipStatement();
      }
      if (t.text !== 'SG_' && t.text !== 'BO_') this.currentMessage = null;
    }
    return this.db;
  }

  // ------------------------------------------------------------ statements

  private message(): void {
    const idTok = this.expect('number');
    const raw = this.integer(idTok);
    const name = this.expect('ident').text;
    this.expectPunct(':');
    const sizeTok = this.expect('number');
    const size = this.integer(sizeTok);
    if (size > 64) this.fail(sizeTok, `message size ${size} exceeds 64 bytes`, 'DBC_INVALID_VALUE');
    const sender = this.peek()?.kind === 'ident' && this.peek()!.line === idTok.line ? this.next().text : '';
    const extended = raw > 0x7fffffff;
    const id = extended ? raw & 0x1fffffff : raw;
    const key = dbcKey(id, extended);
    if (this.byKey.has(key)) this.fail(idTok, `duplicate message id ${raw}`, 'DBC_DUPLICATE');
    const m: DbcMessage = { id, extended, name, size, sender, signals: [], comment: null, cycleTimeMs: null };
    this.byKey.set(key, m);
    this.db.messages.push(m);
    this.currentMessage = m;
  }

  private signal(kw: DbcToken): void {
    const m = this.currentMessage;
    if (!m) this.fail(kw, 'SG_ outside a BO_ message');
    const name = this.expect('ident').text;
    let isMultiplexer = false;
    let multiplexerValue: number | null = null;
    const muxTok = this.peek();
    if (muxTok && muxTok.kind === 'ident') {
      this.pos++;
      const mm = /^(?:m(\d+))?(M)?$/.exec(muxTok.text);
      if (!mm || (!mm[1] && !mm[2]))
        this.fail(muxTok, `bad multiplexer indicator ${JSON.stringify(muxTok.text)}`);
      if (mm[1]) multiplexerValue = Number(mm[1]);
      isMultiplexer = mm[2] === 'M';
    }
    this.expectPunct(':');
    const startTok = this.expect('number');
    const startBit = this.integer(startTok);
    this.expectPunct('|');
    const lenTok = this.expect('number');
    const length = this.integer(lenTok);
    if (length < 1 || length > 64)
      this.fail(lenTok, `signal length ${length} out of 1..64`, 'DBC_INVALID_VALUE');
    this.expectPunct('@');
    const orderTok = this.expect('number');
    if (orderTok.text !== '0' && orderTok.text !== '1')
      this.fail(orderTok, `byte order must be 0 or 1, found ${orderTok.text}`, 'DBC_INVALID_VALUE');
    const signTok = this.next();
    if (!signTok || signTok.kind !== 'punct' || (signTok.text !== '+' && signTok.text !== '-'))
      this.fail(signTok ?? orderTok, 'expected + or - after the byte order');
    this.expectPunct('(');
    const factor = this.number();
    this.expectPunct(',');
    const offset = this.number();
    this.expectPunct(')');
    this.expectPunct('[');
    const minimum = this.number();
    this.expectPunct('|');
    const maximum = this.number();
    this.expectPunct(']');
    const unit = this.expect('string').text;
    const receivers: string[] = [];
    while (this.peekOnLine(kw.line)?.kind === 'ident' || this.peekOnLine(kw.line)?.text === ',') {
      const r = this.next();
      if (r.kind === 'ident') receivers.push(r.text);
    }
    const byteOrder = orderTok.text === '1' ? 'little_endian' : 'big_endian';
    if (startBit > 511) this.fail(startTok, `start bit ${startBit} out of range`, 'DBC_INVALID_VALUE');
    if (byteOrder === 'little_endian' && startBit + length > 512)
      this.fail(startTok, 'signal runs past 64 bytes', 'DBC_INVALID_VALUE');
    m.signals.push({
      name,
      startBit,
      length,
      byteOrder,
      signed: signTok.text === '-',
      valueType: 'integer',
      factor,
      offset,
      minimum,
      maximum,
      unit,
      receivers,
      isMultiplexer,
      multiplexerValue,
      multiplexerSwitch: null,
      multiplexerRanges: null,
      valueTable: null,
      comment: null,
    });
  }

  private commentStatement(): void {
    const t = this.peek();
    if (t?.kind === 'string') {
      this.db.comment = this.next().text;
    } else if (t?.kind === 'ident') {
      this.pos++;
      if (t.text === 'BO_') {
        const m = this.lookup(this.expect('number'));
        const s = this.expect('string').text;
        if (m) m.comment = s;
      } else if (t.text === 'SG_') {
        const m = this.lookup(this.expect('number'));
        const sig = this.expect('ident').text;
        const s = this.expect('string').text;
        const target = m?.signals.find((x) => x.name === sig);
        if (target) target.comment = s;
      } else {
        this.skipStatement();
        return;
      }
    }
    this.endStatement();
  }

  private attribute(): void {
    const name = this.expect('string').text;
    const t = this.peek();
    if (name === 'GenMsgCycleTime' && t?.kind === 'ident' && t.text === 'BO_') {
      this.pos++;
      const m = this.lookup(this.expect('number'));
      const v = this.number();
      if (m) m.cycleTimeMs = v;
      this.endStatement();
      return;
    }
    this.skipStatement();
  }

  private valueDescriptions(): void {
    const first = this.next();
    if (!first) return;
    if (first.kind === 'ident') {
      // VAL_ for an environment variable
      this.readValuePairs();
      return;
    }
    if (first.kind !== 'number') this.fail(first, 'expected a message id or variable name after VAL_');
    const m = this.lookup(first);
    const sig = this.expect('ident').text;
    const table = this.readValuePairs();
    const target = m?.signals.find((x) => x.name === sig);
    if (target) target.valueTable = table;
  }

  private valueTable(): void {
    const name = this.expect('ident').text;
    this.db.valueTables.set(name, this.readValuePairs());
  }

  private readValuePairs(): Map<number, string> {
    const table = new Map<number, string>();
    for (;;) {
      const t = this.peek();
      if (!t) this.fail(this.tokens[this.tokens.length - 1], 'unterminated value table (missing ;)');
      if (t.kind === 'punct' && t.text === ';') {
        this.pos++;
        return table;
      }
      const v = this.number();
      table.set(v, this.expect('string').text);
    }
  }

  private signalValueType(): void {
    const m = this.lookup(this.expect('number'));
    const sig = this.expect('ident').text;
    if (this.peek()?.text === ':') this.pos++;
    const tt = this.expect('number');
    const target = m?.signals.find((x) => x.name === sig);
    if (target) {
      if (tt.text === '1') {
        if (target.length !== 32) this.fail(tt, `float32 signal ${sig} must be 32 bits`, 'DBC_INVALID_VALUE');
        target.valueType = 'float32';
      } else if (tt.text === '2') {
        if (target.length !== 64) this.fail(tt, `float64 signal ${sig} must be 64 bits`, 'DBC_INVALID_VALUE');
        target.valueType = 'float64';
      }
    }
    this.endStatement();
  }

  private extendedMultiplexing(): void {
    const m = this.lookup(this.expect('number'));
    const sig = this.expect('ident').text;
    const sw = this.expect('ident').text;
    const ranges: [number, number][] = [];
    for (;;) {
      const a = this.integer(this.expect('number'));
      this.expectPunct('-');
      const b = this.integer(this.expect('number'));
      ranges.push([a, b]);
      const t = this.next();
      if (!t) break;
      if (t.text === ';') break;
      if (t.text !== ',') this.fail(t, 'expected , or ; in SG_MUL_VAL_');
    }
    const target = m?.signals.find((x) => x.name === sig);
    if (target) {
      target.multiplexerSwitch = sw;
      target.multiplexerRanges = ranges;
    }
  }

  // ------------------------------------------------------------ helpers

  private lookup(idTok: DbcToken): DbcMessage | undefined {
    const raw = this.integer(idTok);
    const extended = raw > 0x7fffffff;
    return this.byKey.get(dbcKey(extended ? raw & 0x1fffffff : raw, extended));
  }

  private skipIndentedBlock(kw: DbcToken): void {
    while (this.pos < this.tokens.length) {
      const t = this.tokens[this.pos];
      if (t.line > kw.line && t.column === 1) return;
      this.pos++;
    }
  }

  /** Skips an unknown or uninteresting statement up to its `;` (or the next line keyword). */
  private skipStatement(): void {
    while (this.pos < this.tokens.length) {
      const t = this.tokens[this.pos];
      if (t.kind === 'punct' && t.text === ';') {
        this.pos++;
        return;
      }
      if (t.kind === 'ident' && t.column === 1 && LINE_KEYWORDS.has(t.text) && this.pos > 0) return;
      this.pos++;
    }
  }

  private endStatement(): void {
    const t = this.next();
    if (!t || t.kind !== 'punct' || t.text !== ';')
      this.fail(t ?? this.tokens[this.tokens.length - 1], 'expected ;');
  }

  private peek(): DbcToken | undefined {
    return this.tokens[this.pos];
  }

  private peekOnLine(line: number): DbcToken | undefined {
    const t = this.tokens[this.pos];
    return t && t.line === line ? t : undefined;
  }

  private next(): DbcToken {
    const t = this.tokens[this.pos];
    if (!t) {
      const last = this.tokens[this.tokens.length - 1];
      throw new DbcParseError('DBC_SYNTAX', 'unexpected end of file', last?.line ?? 1, last?.column ?? 1);
    }
    this.pos++;
    return t;
  }

  private expect(kind: DbcToken['kind']): DbcToken {
    const t = this.next();
    if (t.kind !== kind) this.fail(t, `expected ${kind}, found ${JSON.stringify(t.text)}`);
    return t;
  }

  private expectPunct(p: string): void {
    const t = this.next();
    if (t.kind !== 'punct' || t.text !== p)
      this.fail(t, `expected ${JSON.stringify(p)}, found ${JSON.stringify(t.text)}`);
  }

  /** A possibly signed decimal number. */
  private number(): number {
    let sign = 1;
    let t = this.next();
    if (t.kind === 'punct' && (t.text === '-' || t.text === '+')) {
      if (t.text === '-') sign = -1;
      t = this.next();
    }
    if (t.kind !== 'number') this.fail(t, `expected a number, found ${JSON.stringify(t.text)}`);
    const v = Number(t.text);
    if (!Number.isFinite(v)) this.fail(t, `bad number ${JSON.stringify(t.text)}`, 'DBC_INVALID_VALUE');
    return sign * v;
  }

  private integer(t: DbcToken): number {
    const v = Number(t.text);
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
      this.fail(t, `expected an unsigned integer, found ${JSON.stringify(t.text)}`, 'DBC_INVALID_VALUE');
    return v;
  }

  private fail(t: DbcToken, message: string, code: DbcParseError['code'] = 'DBC_SYNTAX'): never {
    throw new DbcParseError(code, message, t.line, t.column);
  }
}

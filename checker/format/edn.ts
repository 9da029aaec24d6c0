// A small EDN reader for Jepsen and Knossos histories: maps, vectors, lists, sets, keywords,
// symbols, strings, characters, numbers, nil, booleans and tagged literals (a tag is dropped and
// its value kept, so `#jepsen.history.Op{...}` reads as a map). Written here rather than taken from
// a package because errors must name the line and column, and a history may be one huge vector.

/** A keyword, e.g. `:invoke`. Kept distinct from strings so `:ok` and `"ok"` differ. */
export class Keyword {
  constructor(readonly name: string) {}
  toString(): string {
    return `:${this.name}`;
  }
}

/** A symbol, e.g. `foo`. */
export class EdnSymbol {
  constructor(readonly name: string) {}
  toString(): string {
    return this.name;
  }
}

export type EdnValue = null | boolean | number | string | Keyword | EdnSymbol | EdnValue[] | Map<EdnValue, EdnValue> | Set<EdnValue>;

export class EdnSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    readonly detail: string,
  ) {
    super(`line ${line}, column ${column}: ${detail}`);
    this.name = 'EdnSyntaxError';
  }
}

const DELIMITERS = new Set(['(', ')', '[', ']', '{', '}', '"', ';']);

function isWhitespace(c: string): boolean {
  return c === ' ' || c === '\n' || c === '\t' || c === '\r' || c === ',' || c === '\f';
}

/** Reads EDN values one after another from a text, tracking lines for errors. */
export class EdnReader {
  private pos = 0;
  private line = 1;
  private lineStart = 0;

  constructor(private readonly text: string) {}

  /** The line the reader is at (1-based). */
  get currentLine(): number {
    return this.line;
  }

  private fail(detail: string): never {
    throw new EdnSyntaxError(this.line, this.pos - this.lineStart + 1, detail);
  }

  /** Skips whitespace, commas and comments; true if a value follows. */
  skipSpace(): boolean {
    const text = this.text;
    while (this.pos < text.length) {
      const c = text[this.pos];
      if (c === '\n') {
        this.pos++;
        this.line++;
        this.lineStart = this.pos;
      } else if (isWhitespace(c)) {
        this.pos++;
      } else if (c === ';') {
        while (this.pos < text.length && text[this.pos] !== '\n') this.pos++;
      } else if (c === '#' && text[this.pos + 1] === '_') {
        this.pos += 2;
        this.read();
      } else {
        return true;
      }
    }
    return false;
  }

  /** Peeks the next significant character (after whitespace), or '' at the end. */
  peek(): string {
    return this.skipSpace() ? this.text[this.pos] : '';
  }

  /** Consumes one expected character. */
  expect(c: string): void {
    if (this.peek() !== c) this.fail(`expected "${c}"`);
    this.pos++;
  }

  read(): EdnValue {
    if (!this.skipSpace()) this.fail('unexpected end of input, expected a value');
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        this.pos++;
        return this.readMap();
      case '[':
        this.pos++;
        return this.readSeq(']');
      case '(':
        this.pos++;
        return this.readSeq(')');
      case '"':
        return this.readString();
      case ':':
        this.pos++;
        return new Keyword(this.readToken());
      case '\\':
        return this.readChar();
      case '#':
        return this.readDispatch();
      case ')':
      case ']':
      case '}':
        this.fail(`unexpected "${c}"`);
      default:
        return this.readAtom();
    }
  }

  private readSeq(close: string): EdnValue[] {
    const items: EdnValue[] = [];
    for (;;) {
      if (!this.skipSpace()) this.fail(`unexpected end of input, expected "${close}"`);
      if (this.text[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.read());
    }
  }

  private readMap(): Map<EdnValue, EdnValue> {
    const map = new Map<EdnValue, EdnValue>();
    for (;;) {
      if (!this.skipSpace()) this.fail('unexpected end of input, expected "}"');
      if (this.text[this.pos] === '}') {
        this.pos++;
        return map;
      }
      const key = this.read();
      if (!this.skipSpace() || this.text[this.pos] === '}') this.fail('a map needs a value after each key');
      // Keywords are interned by name so maps can be looked up with `get`.
      map.set(key instanceof Keyword ? key.toString() : key, this.read());
    }
  }

  private readString(): string {
    const text = this.text;
    this.pos++;
    let out = '';
    for (;;) {
      if (this.pos >= text.length) this.fail('unterminated string');
      const c = text[this.pos++];
      if (c === '"') return out;
      if (c === '\n') {
        this.line++;
        this.lineStart = this.pos;
      }
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = text[this.pos++];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case 'u': {
          const hex = text.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail(`bad unicode escape "\\u${hex}"`);
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          this.fail(`unknown string escape "\\${e ?? ''}"`);
      }
    }
  }

  private readChar(): string {
    this.pos++;
    const token = this.readToken(true);
    const named: Record<string, string> = { newline: '\n', space: ' ', tab: '\t', return: '\r' };
    return named[token] ?? token;
  }

  private readDispatch(): EdnValue {
    this.pos++;
    const c = this.text[this.pos];
    if (c === '{') {
      this.pos++;
      return new Set(this.readSeq('}'));
    }
    // A tagged literal: drop the tag, keep the value (records read as maps, #inst as a string).
    this.readToken();
    return this.read();
  }

  private readToken(allowDelimiterFirst = false): string {
    const text = this.text;
    const start = this.pos;
    if (allowDelimiterFirst && this.pos < text.length) this.pos++;
    while (this.pos < text.length && !isWhitespace(text[this.pos]) && !DELIMITERS.has(text[this.pos])) this.pos++;
    if (this.pos === start) this.fail('expected a name');
    return text.slice(start, this.pos);
  }

  private readAtom(): EdnValue {
    const token = this.readToken();
    if (token === 'nil') return null;
    if (token === 'true') return true;
    if (token === 'false') return false;
    if (/^[+-]?\d/.test(token)) {
      const number = Number(token.replace(/[NM]$/, ''));
      if (Number.isNaN(number)) {
        const ratio = /^([+-]?\d+)\/(\d+)$/.exec(token);
        if (ratio) return Number(ratio[1]) / Number(ratio[2]);
        this.fail(`bad number "${token}"`);
      }
      return number;
    }
    return new EdnSymbol(token);
  }
}

/** Converts an EDN value to plain JSON-like data (keywords become their names, sets arrays). */
export function ednToPlain(value: EdnValue): unknown {
  if (value instanceof Keyword || value instanceof EdnSymbol) return value.name;
  if (Array.isArray(value)) return value.map(ednToPlain);
  if (value instanceof Set) return [...value].map(ednToPlain);
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[typeof k === 'string' && k.startsWith(':') ? k.slice(1) : String(ednToPlain(k))] = ednToPlain(v);
    return out;
  }
  return value;
}

/** Writes plain data as EDN: strings quoted, `keywordize` names become keywords. */
export function plainToEdn(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Keyword) return value.toString();
  if (Array.isArray(value)) return `[${value.map(plainToEdn).join(' ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `:${k} ${plainToEdn(v)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(String(value));
}

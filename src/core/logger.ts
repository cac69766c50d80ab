/**
 * A minimal logger port: the CLI writes to stderr, the extension to its output channel. Every
 * message passes through `redactSecrets` first, so a key pasted into an error never reaches a log.
 */

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const SECRET_PATTERNS: RegExp[] = [
  /\b(sk-(?:ant-|proj-)?[A-Za-z0-9_-]{8})[A-Za-z0-9_-]{8,}/g,
  // Google (AIza…), Groq (gsk_…), xAI (xai-…) and OpenRouter (sk-or-…, matched above) keys.
  /\b(AIza[A-Za-z0-9_-]{4})[A-Za-z0-9_-]{20,}/g,
  /\b((?:gsk_|xai-)[A-Za-z0-9]{4})[A-Za-z0-9_-]{16,}/g,
  /\b(Bearer\s+[A-Za-z0-9._-]{4})[A-Za-z0-9._-]{8,}/gi,
  /("?(?:x-api-key|api-key|authorization)"?\s*[:=]\s*"?[A-Za-z0-9._-]{0,4})[A-Za-z0-9._ -]{8,}/gi,
  // A key in a URL's query string (Gemini's ?key=, signed URLs' tokens).
  /([?&](?:key|api[-_]?key|access[-_]?token|token|sig|signature)=[^&#\s]{0,4})[^&#\s]{4,}/gi,
];

/** The password of a URL's user info ("https://user:pass@host"). */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*:)[^\s/?#@]*@/gi;

/**
 * Keeps a short prefix of anything that looks like a key and replaces the rest; a password in a
 * URL becomes `user:***@`.
 *
 * @example redactSecrets('https://me:hunter2@proxy.example/v1') // "https://me:***@proxy.example/v1"
 */
export function redactSecrets(text: string): string {
  const keysRedacted = SECRET_PATTERNS.reduce((out, pattern) => out.replace(pattern, '$1…[redacted]'), text);
  return keysRedacted.replace(URL_PASSWORD, '$1***@');
}

/** Line breaks and other control characters, which a client could use to forge log lines. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f\u2028\u2029]/g;

/**
 * A value a client chose (a model name, an upstream's error text) made safe for one log line:
 * control characters escaped, so a name with a line break cannot forge a line, and cut at `max`.
 *
 * @example logValue('gpt-4o\nERROR fake') // "gpt-4o\\nERROR fake"
 */
export function logValue(value: unknown, max = 300): string {
  const text = String(value).replace(CONTROL_CHARACTERS, (char) => (char === '\n' ? '\\n' : char === '\r' ? '\\r' : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A logger that writes redacted lines to a sink (stderr, an output channel, a test array). */
export function createLogger(write: (line: string) => void, level: 'debug' | 'info' | 'warn' | 'error' = 'info'): Logger {
  const order = { debug: 0, info: 1, warn: 2, error: 3 } as const;
  const emit = (at: keyof typeof order, message: string): void => {
    if (order[at] >= order[level]) write(`[${new Date().toISOString()}] ${at.toUpperCase()} ${redactSecrets(message)}`);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
  };
}

/** Discards everything; for tests and benchmarks that do not look at logs. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

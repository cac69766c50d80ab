/**
 * Deterministic, varied coding questions and ~2 KB answers for the benchmarks: the i-th question is
 * always the same text, and distinct indexes give distinct questions (a bijection onto templates ×
 * vocabulary), so a benchmark can fill a cache with N different entries and ask for misses it knows
 * were never stored.
 */

const TEMPLATES: readonly string[] = [
  'How do I {action} {object} in {lang} {context}?',
  'What is the best way to {action} {object} using {lang} {context}?',
  'Why does my attempt to {action} {object} fail in {lang} {context}?',
  'Can you show me how to {action} {object} with {lang} {context}?',
  'Is it possible to {action} {object} in {lang} {context}?',
  'What goes wrong when I {action} {object} in {lang} {context}?',
  'Explain how to {action} {object} in {lang} {context}.',
  'Write a {lang} function to {action} {object} {context}.',
  'Which library should I use to {action} {object} in {lang} {context}?',
  'How can I {action} {object} quickly in {lang} {context}?',
  'What are the pitfalls when you {action} {object} in {lang} {context}?',
  'Give me an example that shows how to {action} {object} in {lang} {context}.',
  'How would you test code that needs to {action} {object} in {lang} {context}?',
  'What is the idiomatic {lang} way to {action} {object} {context}?',
  'My {lang} program has to {action} {object} {context}; where do I start?',
  'Help me {action} {object} in {lang} {context}.',
];

const ACTIONS: readonly string[] = [
  'parse', 'validate', 'serialize', 'cache', 'stream', 'paginate', 'retry', 'log', 'profile', 'benchmark',
  'mock', 'debounce', 'throttle', 'batch', 'index', 'migrate', 'hash', 'compress', 'tokenize', 'render',
  'schedule', 'cancel', 'queue', 'format', 'lint', 'bundle', 'deploy', 'monitor', 'rate-limit', 'sanitize',
  'authenticate', 'authorize', 'memoize', 'refactor', 'document', 'localize', 'diff', 'patch', 'watch', 'replay',
];

const OBJECTS: readonly string[] = [
  'a large CSV file', 'nested JSON objects', 'HTTP requests', 'database queries', 'user sessions', 'image thumbnails',
  'log lines', 'configuration files', 'websocket messages', 'email addresses', 'time zones', 'currency amounts',
  'file uploads', 'background jobs', 'feature flags', 'API responses', 'search results', 'form inputs',
  'environment variables', 'unit tests', 'git commits', 'markdown documents', 'YAML manifests', 'SQL migrations',
  'protobuf messages', 'XML feeds', 'audio samples', 'PDF reports', 'cron expressions', 'UUIDs',
  'binary trees', 'linked lists', 'hash maps', 'priority queues', 'graph edges', 'matrix rows',
  'dates and times', 'command-line arguments', 'network packets', 'JWT tokens', 'OAuth callbacks', 'cookies',
  'Docker images', 'Kubernetes pods', 'S3 objects', 'Redis keys', 'Kafka events', 'GraphQL queries',
  'regular expressions', 'Unicode strings',
];

const LANGS: readonly string[] = [
  'Python', 'TypeScript', 'JavaScript', 'Go', 'Rust', 'Java', 'Kotlin', 'C#', 'C++', 'Ruby',
  'PHP', 'Swift', 'Scala', 'Elixir', 'Haskell', 'Dart', 'Lua', 'Julia', 'Clojure', 'Zig',
];

const CONTEXTS: readonly string[] = [
  'without blocking the event loop', 'on a machine with little memory', 'inside a Docker container',
  'behind a corporate proxy', 'in a serverless function', 'for millions of rows', 'in a multi-threaded service',
  'when the network is flaky', 'with strict type checking', 'in a legacy codebase', 'for a mobile app',
  'in a command-line tool', 'inside a CI pipeline', 'with zero downtime', 'under heavy load',
  'for an embedded device', 'in a browser extension', 'with good error messages', 'in a monorepo',
  'while keeping backwards compatibility', 'in a data pipeline', 'for a REST API', 'in a game loop',
  'with unit tests', 'across several processes', 'in a Jupyter notebook', 'on Windows', 'on macOS',
  'on an ARM server', 'with streaming input',
];

const RADIX = [TEMPLATES.length, ACTIONS.length, OBJECTS.length, LANGS.length, CONTEXTS.length] as const;

/** How many distinct questions the generator can produce. */
export const QUESTION_SPACE = RADIX.reduce((product, size) => product * size, 1);

/** Multiplier coprime with QUESTION_SPACE: spreads consecutive indexes over every part of the grammar. */
const SCRAMBLE = 2_654_435_761;

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

if (gcd(SCRAMBLE % QUESTION_SPACE, QUESTION_SPACE) !== 1) throw new Error('questions: SCRAMBLE must be coprime with the question space');

/**
 * The `index`-th question (0 ≤ index < QUESTION_SPACE). Different indexes give different texts.
 *
 * @example questionText(0) // "How do I parse a large CSV file in Python without blocking the event loop?"
 */
export function questionText(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= QUESTION_SPACE) throw new RangeError(`question index must be an integer in [0, ${QUESTION_SPACE})`);
  // BigInt keeps the product exact: index × SCRAMBLE passes 2^53.
  let code = Number((BigInt(index) * BigInt(SCRAMBLE)) % BigInt(QUESTION_SPACE));
  const digits: number[] = [];
  for (const size of RADIX) {
    digits.push(code % size);
    code = Math.floor(code / size);
  }
  const [template, action, object, lang, context] = digits as [number, number, number, number, number];
  return TEMPLATES[template]!
    .replace('{action}', ACTIONS[action]!)
    .replace('{object}', OBJECTS[object]!)
    .replace('{lang}', LANGS[lang]!)
    .replace('{context}', CONTEXTS[context]!);
}

/**
 * The same question as a user would retype it: other letter case, no final punctuation, doubled
 * spaces. The same words, so a semantic cache that is working finds the original.
 */
export function retypedQuestion(index: number): string {
  return questionText(index).toLowerCase().replace(/[?.]$/, '').replace(/ /g, '  ');
}

const FILLER =
  'Start by reading the input in small pieces so memory stays flat, check each piece before it is used, and keep ' +
  'the error messages specific enough that the caller knows what to fix. Measure before and after every change, ' +
  'write a test that fails without the fix, and prefer the standard library where it already does the job. ';

/**
 * A plausible assistant answer of about `bytes` characters for question `index`.
 *
 * @example answerText(7, 2048).length // ≥ 2048
 */
export function answerText(index: number, bytes = 2048): string {
  let text = `Here is how to approach it (answer ${index}): ${questionText(index)}\n\n`;
  let step = 1;
  while (text.length < bytes) text += `${step++}. ${FILLER}\n`;
  return text;
}

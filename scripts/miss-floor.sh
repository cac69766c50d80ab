#!/bin/bash
# How far `isartor serve` is from the floor on a miss (issue 15): process CPU ticks (1/100 s, from
# /proc/<pid>/stat) and requests/s for 2,000 misses at c=1 and 3,000 at c=32, each after 3,000
# unmeasured ones, for the bench's bare pass-through, scripts/min-caching-proxy.mjs, and serve
# with both caches off, with L1a only and as shipped. All share one fake upstream; targets run one
# at a time, in ROUNDS interleaved rounds.
# Usage: scripts/miss-floor.sh REPO [ROUNDS]   (REPO: a built checkout with dist/cli.js)
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$1; ROUNDS=${2:-2}
cd "$REPO" || exit 2
OUT=$(mktemp -d)
trap 'kill $FPID 2>/dev/null; rm -rf "$OUT"' EXIT
echo '{"semantic":{"enabled":false},"exact":{"enabled":false}}' > "$OUT/no-caches.json"
echo '{"semantic":{"enabled":false}}' > "$OUT/l1a-only.json"
node bin/isartor.js bench overhead --child fake-upstream > "$OUT/fake.log" 2>&1 & FPID=$!
for _ in $(seq 50); do grep -q 'http://' "$OUT/fake.log" && break; sleep 0.2; done
fake=$(grep -o 'http://[^ ]*' "$OUT/fake.log" | head -1)

start() { # target name → PID, URL
  local log="$OUT/$1.log" config=""
  case $1 in
    pass-through) node bin/isartor.js bench overhead --child pass-through --upstream "$fake" > "$log" 2>&1 & PID=$! ;;
    min-proxy) node "$HERE/min-caching-proxy.mjs" "$fake" "$OUT/min.log.bin" > "$log" 2>&1 & PID=$! ;;
    serve*)
      [ "$1" = serve-no-caches ] && config="$OUT/no-caches.json"
      [ "$1" = serve-l1a-only ] && config="$OUT/l1a-only.json"
      mkdir -p "$OUT/data-$1-$r"
      # No ISARTOR_CONFIG at all for the shipped defaults (an empty one names no file).
      env ${config:+ISARTOR_CONFIG=$config} node bin/isartor.js serve --port 0 --data-dir "$OUT/data-$1-$r" --upstream "$fake/v1" --anthropic-upstream "$fake" > "$log" 2>&1 & PID=$! ;;
  esac
  for _ in $(seq 100); do grep -q 'http://127' "$log" && break; sleep 0.1; done
  URL=$(grep -o 'http://127[^ ]*' "$log" | head -1)
}
ticks() { awk '{print $14+$15}' "/proc/$PID/stat"; }
rps() { grep -o '"rps":[0-9]*' <<< "$1" | cut -d: -f2; }

for r in $(seq "$ROUNDS"); do
  for target in pass-through min-proxy serve-no-caches serve-l1a-only serve; do
    start $target
    node "$HERE/miss-load.mjs" "$URL" 3000 8 0 > /dev/null
    a=$(ticks); c1=$(node "$HERE/miss-load.mjs" "$URL" 2000 1 10000)
    b=$(ticks); c32=$(node "$HERE/miss-load.mjs" "$URL" 3000 32 20000)
    c=$(ticks)
    printf 'round %s %-16s c=1: %4d ticks %5s req/s | c=32: %4d ticks %5s req/s\n' "$r" "$target" $((b - a)) "$(rps "$c1")" $((c - b)) "$(rps "$c32")"
    kill $PID; wait $PID 2>/dev/null
  done
done

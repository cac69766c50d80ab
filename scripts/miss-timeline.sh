#!/bin/bash
# Where a miss's latency goes at concurrency 1 (issue 15): the phases of scripts/miss-timeline.cjs
# (request to upstream write, upstream round trip, upstream data to client write) for the bench's
# bare pass-through, scripts/min-caching-proxy.mjs, and serve with both caches off, with L1a only
# and as shipped. Each gets 3,000 unmeasured misses at c=8, then 3,000 measured at c=1. All share
# one fake upstream; targets run one at a time, in ROUNDS interleaved rounds.
# Usage: [TARGETS="serve ..."] scripts/miss-timeline.sh REPO [ROUNDS]   (REPO: a built checkout with dist/cli.js)
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
probe=(--require "$HERE/miss-timeline.cjs")

for r in $(seq "$ROUNDS"); do
  for target in ${TARGETS:-pass-through min-proxy serve-no-caches serve-l1a-only serve}; do
    log="$OUT/$target-$r.log"; config=""
    case $target in
      pass-through) node "${probe[@]}" bin/isartor.js bench overhead --child pass-through --upstream "$fake" > "$log" 2>&1 & PID=$! ;;
      min-proxy) node "${probe[@]}" "$HERE/min-caching-proxy.mjs" "$fake" "$OUT/min.log.bin" > "$log" 2>&1 & PID=$! ;;
      serve*)
        [ "$target" = serve-no-caches ] && config="$OUT/no-caches.json"
        [ "$target" = serve-l1a-only ] && config="$OUT/l1a-only.json"
        mkdir -p "$OUT/data-$target-$r"
        env ${config:+ISARTOR_CONFIG=$config} node "${probe[@]}" bin/isartor.js serve --port 0 --data-dir "$OUT/data-$target-$r" --upstream "$fake/v1" --anthropic-upstream "$fake" > "$log" 2>&1 & PID=$! ;;
    esac
    for _ in $(seq 100); do grep -q 'http://127' "$log" && break; sleep 0.1; done
    URL=$(grep -o 'http://127[^ ]*' "$log" | head -1)
    node "$HERE/miss-load.mjs" "$URL" 3000 8 0 > /dev/null
    rps=$(node "$HERE/miss-load.mjs" "$URL" 3000 1 10000 | grep -o '"rps":[0-9]*' | cut -d: -f2)
    kill -TERM $PID; wait $PID 2>/dev/null
    echo "round $r $target ($rps req/s at c=1):"
    grep '^timeline' "$log" | sed 's/^timeline /  /'
    rm -f "$OUT/min.log.bin"
  done
done

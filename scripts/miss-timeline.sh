#!/bin/bash
# Where a miss's latency goes at concurrency 1 (issue 15): the phases of scripts/miss-timeline.cjs
# (request to upstream write, upstream round trip, upstream data to client write) for the bench's
# bare pass-through, scripts/min-caching-proxy.mjs, and serve with both caches off, with L1a only
# and as shipped. Each gets 3,000 unmeasured misses at c=8, then 3,000 measured at c=1. All share
# one fake upstream; targets run one at a time, in ROUNDS interleaved rounds.
# Usage: [TARGETS="serve ..."] scripts/miss-timeline.sh REPO [ROUNDS]   (REPO: a built checkout with dist/cli.js)
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${2:-2}
. "$HERE/miss-targets.sh"
begin_targets "$1"

for r in $(seq "$ROUNDS"); do
  for target in ${TARGETS:-pass-through min-proxy serve-no-caches serve-l1a-only serve}; do
    start_target "$target" "$OUT" "$r" --require "$HERE/miss-timeline.cjs"
    node "$HERE/miss-load.mjs" "$URL" 3000 8 0 > /dev/null
    rps=$(node "$HERE/miss-load.mjs" "$URL" 3000 1 10000 | grep -o '"rps":[0-9]*' | cut -d: -f2)
    kill -TERM $PID; wait $PID 2>/dev/null
    echo "round $r $target ($rps req/s at c=1):"
    grep '^timeline' "$OUT/$target-$r.log" | sed 's/^timeline /  /'
  done
done

#!/bin/bash
# How far `isartor serve` is from the floor on a miss (issue 15): process CPU ticks (1/100 s, from
# /proc/<pid>/stat) and requests/s for 2,000 misses at c=1 and 3,000 at c=32, each after 3,000
# unmeasured ones, for the bench's bare pass-through, scripts/min-caching-proxy.mjs, and serve
# with both caches off, with L1a only and as shipped. All share one fake upstream; targets run one
# at a time, in ROUNDS interleaved rounds.
# Usage: scripts/miss-floor.sh REPO [ROUNDS]   (REPO: a built checkout with dist/cli.js)
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${2:-2}
. "$HERE/miss-targets.sh"
begin_targets "$1"

ticks() { awk '{print $14+$15}' "/proc/$PID/stat"; }
rps() { grep -o '"rps":[0-9]*' <<< "$1" | cut -d: -f2; }

for r in $(seq "$ROUNDS"); do
  for target in pass-through min-proxy serve-no-caches serve-l1a-only serve; do
    start_target $target "$OUT" "$r"
    node "$HERE/miss-load.mjs" "$URL" 3000 8 0 > /dev/null
    a=$(ticks); c1=$(node "$HERE/miss-load.mjs" "$URL" 2000 1 10000)
    b=$(ticks); c32=$(node "$HERE/miss-load.mjs" "$URL" 3000 32 20000)
    c=$(ticks)
    printf 'round %s %-16s c=1: %4d ticks %5s req/s | c=32: %4d ticks %5s req/s\n' "$r" "$target" $((b - a)) "$(rps "$c1")" $((c - b)) "$(rps "$c32")"
    kill $PID; wait $PID 2>/dev/null
  done
done

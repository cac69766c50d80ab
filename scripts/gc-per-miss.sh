#!/bin/bash
# What a miss leaves to the main thread's garbage collector (issue 15), from V8's own accounting
# (`--trace-gc-nvp`): bytes allocated, bytes still alive at the next scavenge (copied within the
# young generation) and bytes promoted to the old one, per miss, with the scavenges' and full
# collections' pauses. A scavenge's work grows with what survives it, so objects a request keeps
# alive after its answer (for a store write, a worker's reply) cost more than objects it drops.
# These counts move far less with the machine's speed than CPU times do.
# Usage: [N=6000] [C=32] [CONFIG=file] scripts/gc-per-miss.sh REPO   (REPO: a built checkout)
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$1; N=${N:-6000}
OUT=$(mktemp -d)
cd "$REPO" || exit 2
. "$HERE/serve-on-fake-upstream.sh"
ISARTOR_CONFIG=$CONFIG start_serve_on_fake "$OUT" "" --trace-gc-nvp
node "$HERE/miss-load.mjs" "$URL" 4000 8 0 > /dev/null
node "$HERE/miss-load.mjs" "$URL" 1000 "${C:-32}" 4000 > /dev/null
sleep 0.3
skip=$(wc -l < "$OUT/serve.log")
load=$(node "$HERE/miss-load.mjs" "$URL" "$N" "${C:-32}" 5000)
sleep 0.3
stop_serve_on_fake
# Each line names its isolate; the main thread's is the one with the most collections.
main=$(grep -o '^\[[0-9]*:0x[0-9a-f]*\]' "$OUT/serve.log" | sort | uniq -c | sort -rn | head -1 | awk '{print $2}')
tail -n +"$((skip + 1))" "$OUT/serve.log" | grep -F "$main" | awk -v n="$N" -v load="$load" '
  { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
  / gc=s / { scavenges++; allocated += v["allocated"]; survived += v["new_space_survived"]; promoted += v["promoted"]; scavengeMs += v["pause"] }
  / gc=mc / { fulls++; fullMs += v["pause"] }
  END {
    printf "per miss: allocated %.0f B, survived a scavenge %.0f B, promoted %.0f B\n", allocated / n, survived / n, promoted / n
    printf "main thread over %d misses: %d scavenges (%.0f ms), %d full collections (%.0f ms)\n", n, scavenges, scavengeMs, fulls, fullMs
    print "load: " load
  }'
rm -rf "$OUT"

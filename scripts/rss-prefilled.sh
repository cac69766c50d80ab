#!/bin/bash
# VmRSS of `isartor serve` on a copy of a filled data dir (issue 15): 10 s after it listens, after
# 300 misses, and after 2,000 misses plus 1,000 L1a hits at c=32 (miss-load.mjs, fake upstream).
# Usage: scripts/rss-prefilled.sh REPO PREFILL OUTDIR   (REPO built; PREFILL from `bench scale --child fill`)
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$1; PREFILL=$2; OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT"
cd "$REPO" || exit 2
. "$HERE/serve-on-fake-upstream.sh"
start_serve_on_fake "$OUT" "$PREFILL"
sleep 10
echo "opened (no request yet): $(grep VmRSS /proc/$SPID/status)"
node "$HERE/miss-load.mjs" "$URL" 300 8 0 > /dev/null
sleep 5
echo "after 300 warm-up misses: $(grep VmRSS /proc/$SPID/status)"
node "$HERE/miss-load.mjs" "$URL" 2000 32 1000
node "$HERE/miss-load.mjs" "$URL" 1000 32 1000
sleep 3
echo "after 2000 misses + 1000 L1a hits: $(grep -E 'VmRSS|VmHWM' /proc/$SPID/status | tr '\n' ' ')"
grep -E 'RssAnon|RssFile' /proc/$SPID/status | tr '\n' ' '; echo
stop_serve_on_fake

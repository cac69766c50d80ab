#!/bin/bash
# VmRSS of `isartor serve` on a copy of a filled data dir (issue 15): 10 s after it listens, after
# 300 misses, and after 2,000 misses plus 1,000 L1a hits at c=32 (miss-load.mjs, fake upstream).
# Usage: scripts/rss-prefilled.sh REPO PREFILL OUTDIR   (REPO built; PREFILL from `bench scale --child fill`)
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$1; PREFILL=$2; OUT=$3
rm -rf "$OUT"; mkdir -p "$OUT"
cd "$REPO" || exit 2
node bin/isartor.js bench overhead --child fake-upstream > "$OUT/fake.log" 2>&1 &
FPID=$!
for i in $(seq 50); do grep -q 'http://' "$OUT/fake.log" && break; sleep 0.2; done
FAKE=$(grep -o 'http://[^ ]*' "$OUT/fake.log" | head -1)
DATA=$(mktemp -d); cp -r "$PREFILL/." "$DATA/"
node bin/isartor.js serve --port 0 --data-dir "$DATA" --upstream "$FAKE/v1" --anthropic-upstream "$FAKE" > "$OUT/serve.log" 2>&1 &
SPID=$!
for i in $(seq 100); do grep -q listening "$OUT/serve.log" && break; sleep 0.2; done
sleep 10
echo "opened (no request yet): $(grep VmRSS /proc/$SPID/status)"
URL=$(grep -o 'http://[^ ]*' "$OUT/serve.log" | head -1)
node "$HERE/miss-load.mjs" "$URL" 300 8 0 > /dev/null
sleep 5
echo "after 300 warm-up misses: $(grep VmRSS /proc/$SPID/status)"
node "$HERE/miss-load.mjs" "$URL" 2000 32 1000
node "$HERE/miss-load.mjs" "$URL" 1000 32 1000
sleep 3
echo "after 2000 misses + 1000 L1a hits: $(grep -E 'VmRSS|VmHWM' /proc/$SPID/status | tr '\n' ' ')"
grep -E 'RssAnon|RssFile' /proc/$SPID/status | tr '\n' ' '; echo
kill -TERM $SPID; wait $SPID
kill $FPID; wait $FPID 2>/dev/null
rm -rf "$DATA"

#!/bin/bash
# How much of a miss's garbage `isartor serve` promotes to the old generation (issue 15): what
# outlives young-generation collections is what the full collections, and their pauses, are for.
# Runs serve under node's --trace-gc-nvp, sends WARM misses at c=C unmeasured, then N at c=C, and
# prints per isolate (the main thread, the L1b worker) its collections, full ones among them, KB
# promoted per miss and ms of collection pauses per 1,000 misses over the measured ones.
# Usage: [PREFILL=DIR] [N=8000] [C=32] [WARM=10000] [STREAM=1] scripts/miss-promotion.sh REPO OUTDIR [node flags...]
# REPO is a built checkout (dist/cli.js); PREFILL, a data dir filled with `bench scale --child fill`,
# is copied first; ISARTOR_CONFIG in the environment reaches serve (to switch layers off).
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$1; OUT=$2; shift 2
N=${N:-8000}
rm -rf "$OUT"; mkdir -p "$OUT"
cd "$REPO" || exit 2
. "$HERE/serve-on-fake-upstream.sh"
start_serve_on_fake "$OUT" "$PREFILL" --trace-gc-nvp "$@"
[ -n "$PREFILL" ] && sleep 8 # let a full cache finish opening
node "$HERE/miss-load.mjs" "$URL" "${WARM:-10000}" "${C:-32}" 0 > /dev/null
before=$(wc -l < "$OUT/serve.log")
node "$HERE/miss-load.mjs" "$URL" "$N" "${C:-32}" 1000000
tail -n +"$((before + 1))" "$OUT/serve.log" > "$OUT/measured.log"
stop_serve_on_fake
# --trace-gc-nvp writes one line per collection: [pid:isolate] ... pause=ms ... gc=s|mc|... promoted=bytes
awk -v n="$N" '
  match($0, /^\[[0-9]+:0x[0-9a-f]+\]/) && /promoted=/ {
    iso = substr($0, RSTART, RLENGTH); gcs[iso]++
    if (match($0, / gc=[a-z]+/) && substr($0, RSTART + 4, RLENGTH - 4) != "s") full[iso]++
    if (match($0, / promoted=[0-9]+/)) promoted[iso] += substr($0, RSTART + 10, RLENGTH - 10)
    if (match($0, / pause=[0-9.]+/)) pause[iso] += substr($0, RSTART + 7, RLENGTH - 7)
  }
  END { for (iso in gcs) printf "%s collections %d, full %d, promoted %.2f KB/miss, pauses %.1f ms per 1,000 misses\n", iso, gcs[iso], full[iso], promoted[iso] / n / 1024, pause[iso] * 1000 / n }
' "$OUT/measured.log"

#!/bin/bash
# CPU per thread of `isartor serve` over a run of misses (issue 15), from /proc/<pid>/task/*/stat:
# the proxy's main thread, the semantic worker, V8's helper threads and libuv's pool apart.
# Usage: [PREFILL=DIR] [N=3000] [C=32] [WARM=300] [WC=8] [NS=1] [STREAM=1] scripts/miss-thread-cpu.sh REPO OUTDIR [node flags...]
# REPO is a built checkout (dist/cli.js); PREFILL, a data dir filled with `bench scale --child fill`,
# is copied first. Prints the load generator's figures, then CPU ticks (1/100 s) per thread, or with
# NS=1 each thread's on-CPU time per miss in microseconds (from /proc/<pid>/task/*/schedstat).
# WARM misses (at c=WC, default 8) come first and are not counted. With the default 300, V8's helper threads
# spend most of the measured run compiling (TurboFan) rather than collecting garbage; WARM=4000
# measures the steady state.
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$1; OUT=$2; shift 2
rm -rf "$OUT"; mkdir -p "$OUT"
cd "$REPO" || exit 2
. "$HERE/serve-on-fake-upstream.sh"
start_serve_on_fake "$OUT" "$PREFILL" "$@"
[ -n "$PREFILL" ] && sleep 8 # let a full cache finish opening
node "$HERE/miss-load.mjs" "$URL" "${WARM:-300}" "${WC:-8}" 0 > /dev/null # warm-up
threads() {
  for t in /proc/$SPID/task/*; do
    if [ -n "$NS" ]; then cpu=$(cut -d' ' -f1 "$t/schedstat"); else cpu=$(awk '{print $14+$15}' "$t/stat"); fi
    echo "$(basename "$t") $cpu $(tr " " _ < "$t/comm")"
  done | sort
}
threads > "$OUT/threads_before.txt"
node "$HERE/miss-load.mjs" "$URL" "${N:-3000}" "${C:-32}" "$(( ${WARM:-300} > 1000 ? ${WARM:-300} : 1000 ))" | tee "$OUT/load.txt"
threads > "$OUT/threads_after.txt"
grep VmRSS /proc/$SPID/status
if [ -n "$NS" ]; then
  join "$OUT/threads_before.txt" "$OUT/threads_after.txt" | awk -v n="${N:-3000}" '{d=($4-$2)/n/1000; t+=d; if (d>=1) printf "tid %s (%s): %.0f us/miss\n", $1, $3, d} END {printf "total: %.0f us/miss\n", t}'
else
  join "$OUT/threads_before.txt" "$OUT/threads_after.txt" | awk '{d=$4-$2; t+=d; if (d>0) printf "tid %s (%s): %d\n", $1, $3, d} END {print "total:", t}'
fi
stop_serve_on_fake

#!/bin/bash
# Two builds of `isartor serve` under the same load at the same time, for before/after CPU ratios
# (issue 15). On a shared machine whose speed swings by up to 2x within minutes, builds measured
# one after the other differ by the swing more than by the change; measured side by side, both
# meet the same swing. Each round: a fake upstream and a serve on a fresh data dir per build, 4,000
# misses at c=8 and 1,000 at C unmeasured, then N misses at C, each build with its own load
# generator; CPU per miss from every thread's on-CPU nanoseconds (/proc/<pid>/task/*/schedstat)
# and from the main thread's alone.
# Usage: [N=4000] [C=32] [ROUNDS=3] [CONFIG_A=file] [CONFIG_B=file] [STREAM=1] scripts/ab-simultaneous.sh A B
# A and B are built checkouts (dist/cli.js); CONFIG_A/B, an ISARTOR_CONFIG file for that side.
HERE=$(cd "$(dirname "$0")" && pwd)
N=${N:-4000}; C=${C:-32}
SIDES=(A B); DIRS=("$(cd "$1" && pwd)" "$(cd "$2" && pwd)"); CONFIGS=("$CONFIG_A" "$CONFIG_B")
process_ns() { local sum=0 task; for task in /proc/"$1"/task/*; do sum=$((sum + $(cut -d' ' -f1 "$task/schedstat"))); done; echo "$sum"; }
main_ns() { cut -d' ' -f1 "/proc/$1/task/$1/schedstat"; }
# Runs the miss load against both sides at once and waits for both.
load_both() { # count concurrency offset outfile-prefix
  node "$HERE/miss-load.mjs" "${URL[0]}" "$1" "$2" "$3" > "$4.A" & local a=$!
  node "$HERE/miss-load.mjs" "${URL[1]}" "$1" "$2" "$3" > "$4.B" & local b=$!
  wait "$a" "$b"
}
for round in $(seq "${ROUNDS:-3}"); do
  OUT=$(mktemp -d)
  for i in 0 1; do
    cd "${DIRS[$i]}" || exit 2
    node bin/isartor.js bench overhead --child fake-upstream > "$OUT/fake$i.log" 2>&1 & FAKE[i]=$!
    for _ in $(seq 50); do grep -q 'http://' "$OUT/fake$i.log" && break; sleep 0.1; done
    upstream=$(grep -o 'http://[^ ]*' "$OUT/fake$i.log" | head -1)
    mkdir "$OUT/data$i"
    env ${CONFIGS[$i]:+ISARTOR_CONFIG=${CONFIGS[$i]}} node bin/isartor.js serve --port 0 --data-dir "$OUT/data$i" --upstream "$upstream/v1" --anthropic-upstream "$upstream" > "$OUT/serve$i.log" 2>&1 & SERVE[i]=$!
  done
  for i in 0 1; do
    for _ in $(seq 100); do grep -q 'http://127' "$OUT/serve$i.log" && break; sleep 0.1; done
    URL[i]=$(grep -o 'http://127[^ ]*' "$OUT/serve$i.log" | head -1)
  done
  load_both 4000 8 0 "$OUT/warm"
  load_both 1000 "$C" 4000 "$OUT/warm"
  for i in 0 1; do BEFORE[i]=$(process_ns "${SERVE[$i]}"); MAIN_BEFORE[i]=$(main_ns "${SERVE[$i]}"); done
  load_both "$N" "$C" 100000 "$OUT/load"
  line="round $round"
  for i in 0 1; do
    process=$(( ($(process_ns "${SERVE[$i]}") - BEFORE[i]) / N / 1000 ))
    main=$(( ($(main_ns "${SERVE[$i]}") - MAIN_BEFORE[i]) / N / 1000 ))
    rps=$(grep -o '"rps":[0-9]*' "$OUT/load.${SIDES[$i]}" | cut -d: -f2)
    line="$line | ${SIDES[$i]}: process $process us/miss, main thread $main us/miss, $rps req/s"
  done
  echo "$line"
  for i in 0 1; do kill "${SERVE[$i]}" "${FAKE[$i]}"; wait "${SERVE[$i]}" "${FAKE[$i]}" 2>/dev/null; done
  rm -rf "$OUT"
done

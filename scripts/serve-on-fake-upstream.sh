# Sourced by the issue-15 measuring scripts: starts the bench's fake upstream and `isartor serve`
# on a fresh data dir (a copy of PREFILL when given) that forwards to it.
#   start_serve_on_fake OUTDIR PREFILL [node flags...]   sets FPID, SPID, DATA and URL; run from a built checkout
#   stop_serve_on_fake                                   stops both and removes the data dir
start_serve_on_fake() {
  local out=$1 prefill=$2; shift 2
  node bin/isartor.js bench overhead --child fake-upstream > "$out/fake.log" 2>&1 &
  FPID=$!
  for _ in $(seq 50); do grep -q 'http://' "$out/fake.log" && break; sleep 0.2; done
  local fake; fake=$(grep -o 'http://[^ ]*' "$out/fake.log" | head -1)
  DATA=$(mktemp -d); [ -n "$prefill" ] && cp -r "$prefill/." "$DATA/"
  node "$@" bin/isartor.js serve --port 0 --data-dir "$DATA" --upstream "$fake/v1" --anthropic-upstream "$fake" > "$out/serve.log" 2>&1 &
  SPID=$!
  # A filled data dir takes a while to open.
  for _ in $(seq 100); do grep -q listening "$out/serve.log" && break; sleep 0.2; done
  URL=$(grep -o 'http://[^ ]*' "$out/serve.log" | head -1)
}

stop_serve_on_fake() {
  kill -TERM "$SPID"; wait "$SPID"
  kill "$FPID"; wait "$FPID" 2>/dev/null
  rm -rf "$DATA"
}

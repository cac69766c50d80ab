# Sourced by scripts/miss-floor.sh and scripts/miss-timeline.sh: the proxies they compare on a
# miss (issue 15), each started on one shared fake upstream.
#   begin_targets REPO                cd to REPO, make OUT (removed at exit, the fake upstream
#                                     stopped) and start the fake upstream in it
#   start_fake OUT                    starts the bench's fake upstream; sets FPID and FAKE
#   start_target NAME OUT ROUND [node flags...]
#                                     starts pass-through | min-proxy | serve-no-caches |
#                                     serve-l1a-only | serve; sets PID and URL
# Run from a built checkout (dist/cli.js); OUT is a scratch folder.
MISS_TARGETS_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

start_fake() {
  local out=$1
  echo '{"semantic":{"enabled":false},"exact":{"enabled":false}}' > "$out/no-caches.json"
  echo '{"semantic":{"enabled":false}}' > "$out/l1a-only.json"
  node bin/isartor.js bench overhead --child fake-upstream > "$out/fake.log" 2>&1 & FPID=$!
  for _ in $(seq 50); do grep -q 'http://' "$out/fake.log" && break; sleep 0.2; done
  FAKE=$(grep -o 'http://[^ ]*' "$out/fake.log" | head -1)
}

begin_targets() {
  cd "$1" || exit 2
  OUT=$(mktemp -d)
  trap 'kill $FPID 2>/dev/null; rm -rf "$OUT"' EXIT
  start_fake "$OUT"
}

start_target() {
  local name=$1 out=$2 round=$3 config=""; shift 3
  local log="$out/$name-$round.log"
  case $name in
    pass-through) node "$@" bin/isartor.js bench overhead --child pass-through --upstream "$FAKE" > "$log" 2>&1 & PID=$! ;;
    min-proxy) node "$@" "$MISS_TARGETS_HERE/min-caching-proxy.mjs" "$FAKE" "$out/min-$round.log.bin" > "$log" 2>&1 & PID=$! ;;
    serve*)
      [ "$name" = serve-no-caches ] && config="$out/no-caches.json"
      [ "$name" = serve-l1a-only ] && config="$out/l1a-only.json"
      mkdir -p "$out/data-$name-$round"
      # No ISARTOR_CONFIG at all for the shipped defaults (an empty one names no file).
      env ${config:+ISARTOR_CONFIG=$config} node "$@" bin/isartor.js serve --port 0 --data-dir "$out/data-$name-$round" --upstream "$FAKE/v1" --anthropic-upstream "$FAKE" > "$log" 2>&1 & PID=$! ;;
  esac
  for _ in $(seq 100); do grep -q 'http://127' "$log" && break; sleep 0.1; done
  URL=$(grep -o 'http://127[^ ]*' "$log" | head -1)
}

#!/usr/bin/env bash
# A durable Spout's restart: fill 1,000 topics with 1,000 retained messages each (1,000,000 in all), note the server's
# memory, stop it with SIGTERM, start it again on the same data directory, and time how long until it listens; then its
# memory again. Prints one line of figures.
#
#   bench/restart.sh [BINARY]        (default .build/release/spout)
#   RESTART_JSON=FILE                also append the figures to FILE as a JSON line (for bench/report.py)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/spout}
BENCH=.build/release/spout-bench
PORT=8291
DATA=$(mktemp -d /tmp/spout-restart.XXXXXX)
trap 'kill "${PID:-}" 2>/dev/null || true; rm -rf "$DATA"' EXIT
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
start() {
    "$BIN" serve --port "$PORT" --data-dir "$DATA" 2>>"$DATA.log" &
    PID=$!
    for _ in $(seq 600); do grep -q "listening on" "$DATA.log" 2>/dev/null && return 0; sleep 0.01; done
    echo "did not listen" >&2
    exit 1
}
start
# spout-bench creates the topics, and its subscriber keeps the publishers honest; retention is 1,000 messages each.
"$BENCH" pubsub --label fill --server-pid "$PID" --sub-url "http://127.0.0.1:$PORT/topics/{topic}/events" \
    --pub-url "http://127.0.0.1:$PORT/topics/{topic}/messages" --create-url "http://127.0.0.1:$PORT/topics" \
    --create-body '{"name":"{topic}","retention":{"messages":1000}}' --subs 1 --topics 1000 --window 1024 --messages 1000000 >/dev/null
before=$(rss "$PID")
kill "$PID"
wait "$PID" || true
: >"$DATA.log"
started=$(date +%s.%N)
start
ready=$(date +%s.%N)
after=$(rss "$PID")
line=$(grep -o "store .* back in [0-9.]* s" "$DATA.log" || true)
disk=$(du -sh "$DATA" | cut -f1)
if [ -n "${RESTART_JSON:-}" ]; then
    printf '{"tool":"restart.sh","scenario":"restart","topics":1000,"messages":1000000,"ready_s":%.3f,"rss_kb_before":%s,"rss_kb_after":%s,"disk":"%s"}\n' \
        "$(awk "BEGIN { print $ready - $started }")" "$before" "$after" "$disk" >>"$RESTART_JSON"
fi
printf 'restart with 1,000 topics and 1,000,000 retained messages: listening after %.2f s; RSS %s MB before the restart, %s MB after (%s); on disk %s\n' \
    "$(awk "BEGIN { print $ready - $started }")" "$((before / 1024))" "$((after / 1024))" "$line" "$disk"

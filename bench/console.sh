#!/usr/bin/env bash
# spout publish from standard input against curl: N lines through `spout publish` (one request a line, and --batch
# 100), through curl in a loop (one process and request a line), and through curl with the batch as one JSON array
# body per request. Prints lines/s for each and checks that every line arrived (the topic's published count).
#
#   bench/console.sh [LINES]      (default 20000; curl's loop gets LINES/10, it is that slow)
#   CONSOLE_JSON=file             also append one JSON line a measure there (./spout.sh bench does, for report.py)
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-20000}
BIN=.build/release/spout
PORT=8295
DATA=$(mktemp -d /tmp/spout-console.XXXXXX)
trap 'kill "${PID:-}" 2>/dev/null || true; rm -rf "$DATA"' EXIT
"$BIN" serve --port "$PORT" --data-dir "$DATA/data" 2>"$DATA/log" &
PID=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
URL=http://127.0.0.1:$PORT
published() { curl -s "$URL/topics/$1" | sed -E 's/.*"published":([0-9]+).*/\1/'; }
measure() { # measure NAME COUNT COMMAND…: runs the command, prints lines/s, checks the count
    local name=$1 count=$2 topic started ended
    shift 2
    topic=c$RANDOM$RANDOM
    curl -s -d "{\"name\":\"$topic\",\"retention\":{\"messages\":1000000,\"bytes\":268435456}}" "$URL/topics" >/dev/null
    started=$(date +%s.%N)
    TOPIC=$topic COUNT=$count "$@"
    ended=$(date +%s.%N)
    got=$(published "$topic")
    rate=$(awk "BEGIN { print $count / ($ended - $started) }")
    printf '%-34s %8d lines %10.0f lines/s  %s\n' "$name" "$count" "$rate" \
        "$([ "$got" = "$count" ] && echo "all arrived" || echo "LOST: $got of $count arrived")"
    if [ -n "${CONSOLE_JSON:-}" ]; then
        printf '{"tool":"console.sh","scenario":"console","target":"%s","lines":%d,"lines_per_s":%s,"arrived":%d}\n' \
            "$name" "$count" "$rate" "${got:-0}" >>"$CONSOLE_JSON"
    fi
}
spout_publish() { seq 1 "$COUNT" | "$BIN" publish --server "$URL" "$@" "$TOPIC"; }
curl_loop() { for i in $(seq 1 "$COUNT"); do curl -s -H 'Content-Type: text/plain' -d "$i" "$URL/topics/$TOPIC/messages" >/dev/null; done; }
curl_batch() {
    seq 1 "$COUNT" | awk -v n=100 '{ b = b (b == "" ? "" : ",") "{\"data\":\"" $0 "\"}" } NR % n == 0 { print "[" b "]"; b = "" } END { if (b != "") print "[" b "]" }' |
        while read -r body; do curl -s -H 'Content-Type: application/json' -d "$body" "$URL/topics/$TOPIC/messages" >/dev/null; done
}
measure "spout publish (a request a line)" "$LINES" spout_publish
measure "spout publish --batch 100" "$LINES" spout_publish --batch 100
measure "curl in a loop (a request a line)" "$((LINES / 10))" curl_loop
measure "curl, 100 lines a request" "$LINES" curl_batch

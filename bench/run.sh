#!/usr/bin/env bash
# Spout's benchmark: the same scenarios against Spout and nginx+nchan, in one run, then BENCHMARKS.md and its chart.
# Started by `./spout.sh bench`, which installs nginx+nchan and matplotlib and builds the release binaries first.
#
#   REPS=3            repetitions (default 1); the servers take turns going first
#   QUICK=1           fewer messages and shorter holds: about 5 minutes
#   REFEREE=0         skip the neutral load generator (../shared/bench/compare.sh) that checks spout-bench's figures
#   BENCH_OUT=dir     where the JSON lines go (default /tmp/spout-bench-results/<date>)
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=${REPS:-1}
QUICK=${QUICK:-0}
OUT=${BENCH_OUT:-/tmp/spout-bench-results/$(date +%Y%m%d-%H%M%S)}
WORK=$OUT/work
SPOUT_PORT=8181
MEMORY_PORT=8182
AUTH_PORT=8183
TLS_PORT=8184
HUB_PORT=8193
# The batched C hub of the neutral kit: one epoll thread, events of one wait coalesced into one write per subscriber.
HUB_SOURCE=../shared/bench/ideal_fanout.c
NCHAN_PORT=8191
NCHAN_TLS_PORT=8192
BIN=$PWD/.build/release
mkdir -p "$OUT" "$WORK/nchan/tmp"
ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)
PIDS=()

stop() { # stop <pid>: TERM, then KILL after 5 s
    kill "$1" 2>/dev/null || return 0
    for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$1" 2>/dev/null || true
}
cleanup() { for pid in "${PIDS[@]}"; do stop "$pid"; done; }
trap cleanup EXIT

wait_port() { # wait_port <port>
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on 127.0.0.1:$1" >&2
    return 1
}

start_spout() { # start_spout [FLAGS…]: sets SPOUT_PID
    # A fresh data directory each time: Spout as shipped (durable), with nothing left from an earlier run.
    "$BIN/spout" serve --port "$SPOUT_PORT" --data-dir "$(mktemp -d "$WORK/data.XXXXXX")" "$@" 2>>"$WORK/spout.log" &
    SPOUT_PID=$!
    PIDS+=("$SPOUT_PID")
    wait_port "$SPOUT_PORT"
}

start_memory() { # sets MEMORY_PID: the same binary with --in-memory, for the durability ratios
    "$BIN/spout" serve --port "$MEMORY_PORT" --in-memory 2>>"$WORK/spout-memory.log" &
    MEMORY_PID=$!
    PIDS+=("$MEMORY_PID")
    wait_port "$MEMORY_PORT"
}

start_auth() { # sets AUTH_PID and TOKEN: the same binary, durable, checking tokens (HS256) on every request
    head -c 48 /dev/urandom | base64 >"$WORK/auth-secret"
    TOKEN=$("$BIN/spout" token --secret "$WORK/auth-secret" --publish '*' --subscribe '*' --admin --ttl 12h)
    "$BIN/spout" serve --port "$AUTH_PORT" --data-dir "$(mktemp -d "$WORK/data.XXXXXX")" --auth-secret "$WORK/auth-secret" \
        2>>"$WORK/spout-auth.log" &
    AUTH_PID=$!
    PIDS+=("$AUTH_PID")
    wait_port "$AUTH_PORT"
}

# One certificate for both servers' HTTPS: ECDSA P-256, made for this run.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/tls-key.pem" -out "$WORK/tls-cert.pem" \
    -days 2 -subj /CN=127.0.0.1 2>/dev/null

start_tls() { # sets TLS_PID: the same binary, durable, serving HTTPS (libmicrohttpd's GnuTLS)
    "$BIN/spout" serve --port "$TLS_PORT" --data-dir "$(mktemp -d "$WORK/data.XXXXXX")" \
        --tls-cert "$WORK/tls-cert.pem" --tls-key "$WORK/tls-key.pem" 2>>"$WORK/spout-tls.log" &
    TLS_PID=$!
    PIDS+=("$TLS_PID")
    wait_port "$TLS_PORT"
}

start_hub() { # sets HUB_PID, if the kit's hub is there: what one core can do, the bound for fan-out
    [ -f "$HUB_SOURCE" ] || return 0
    cc -O2 -o "$WORK/ideal_fanout" "$HUB_SOURCE"
    "$WORK/ideal_fanout" "$HUB_PORT" 3600 1 2>>"$WORK/hub.log" &
    HUB_PID=$!
    PIDS+=("$HUB_PID")
    wait_port "$HUB_PORT"
}

start_nchan() { # sets NCHAN_PID (the nginx master; its workers are measured with it)
    local module user=""
    module=$(find /usr/lib/nginx/modules -name 'ngx_nchan_module.so' | head -1)
    [ -n "$module" ] || { echo "nchan is not installed: run ./spout.sh bench" >&2; exit 1; }
    [ "$(id -u)" = 0 ] && user="user root;"
    sed -e "s#@MODULE@#$module#" -e "s#@USER@#$user#" -e "s#@NOFILE@#$NOFILE#" \
        -e "s#@CONNECTIONS@#$((NOFILE - 1000))#" -e "s#@PORT@#$NCHAN_PORT#" -e "s#@TLS_PORT@#$NCHAN_TLS_PORT#" \
        -e "s#@CERT@#$WORK/tls-cert.pem#" -e "s#@KEY@#$WORK/tls-key.pem#" bench/nchan.conf >"$WORK/nchan/nchan.conf"
    nginx -p "$WORK/nchan/" -e "$WORK/nchan/error.log" -c "$WORK/nchan/nchan.conf" &
    NCHAN_PID=$!
    PIDS+=("$NCHAN_PID")
    wait_port "$NCHAN_PORT"
}

# target <name>: the spout-bench flags that point at one server
target() {
    case "$1" in
        spout) echo "--label spout --server-pid $SPOUT_PID --sub-url http://127.0.0.1:$SPOUT_PORT/topics/{topic}/events" \
            "--pub-url http://127.0.0.1:$SPOUT_PORT/topics/{topic}/messages --create-url http://127.0.0.1:$SPOUT_PORT/topics" ;;
        spout-ndjson) echo "--label spout-ndjson --server-pid $SPOUT_PID --sub-url http://127.0.0.1:$SPOUT_PORT/topics/{topic}/events?format=ndjson" \
            "--pub-url http://127.0.0.1:$SPOUT_PORT/topics/{topic}/messages --create-url http://127.0.0.1:$SPOUT_PORT/topics" ;;
        # The token in the query (`access_token`, as EventSource sends it), so each request is verified as a browser's is.
        spout-auth) echo "--label spout-auth --server-pid $AUTH_PID --sub-url http://127.0.0.1:$AUTH_PORT/topics/{topic}/events?access_token=$TOKEN" \
            "--pub-url http://127.0.0.1:$AUTH_PORT/topics/{topic}/messages?access_token=$TOKEN" \
            "--create-url http://127.0.0.1:$AUTH_PORT/topics?access_token=$TOKEN" ;;
        spout-memory) echo "--label spout-memory --server-pid $MEMORY_PID --sub-url http://127.0.0.1:$MEMORY_PORT/topics/{topic}/events" \
            "--pub-url http://127.0.0.1:$MEMORY_PORT/topics/{topic}/messages --create-url http://127.0.0.1:$MEMORY_PORT/topics" ;;
        spout-tls) echo "--label spout-tls --server-pid $TLS_PID --sub-url https://127.0.0.1:$TLS_PORT/topics/{topic}/events" \
            "--pub-url https://127.0.0.1:$TLS_PORT/topics/{topic}/messages --create-url https://127.0.0.1:$TLS_PORT/topics" ;;
        nchan-tls) echo "--label nchan-tls --server-pid $NCHAN_PID --sub-url https://127.0.0.1:$NCHAN_TLS_PORT/sub/{topic}" \
            "--pub-url https://127.0.0.1:$NCHAN_TLS_PORT/pub?id={topic}" ;;
        hub) echo "--label hub --server-pid $HUB_PID --sub-url http://127.0.0.1:$HUB_PORT/sub/{topic}" \
            "--pub-url http://127.0.0.1:$HUB_PORT/pub?id={topic}" ;;
        nchan) echo "--label nchan --server-pid $NCHAN_PID --sub-url http://127.0.0.1:$NCHAN_PORT/sub/{topic}" \
            "--pub-url http://127.0.0.1:$NCHAN_PORT/pub?id={topic}" ;;
    esac
}

# The scenarios of ../shared/bench, so that the referee measures the same thing: 16 publishers, 100-byte messages.
if [ "$QUICK" = 1 ]; then M=(80000 30000 3500 200 200000); HOLD=3; else M=(200000 40000 5000 250 300000); HOLD=10; fi
SCENARIOS=(
    "--subs 1 --window 1024 --rate 20000 --messages ${M[0]}"
    "--subs 100 --window 512 --messages ${M[1]}"
    "--subs 1000 --window 64 --messages ${M[2]}"
    "--subs 5000 --window 16 --messages ${M[3]}"
    "--subs 1 --topics 1000 --window 1024 --messages ${M[4]}"
)

# The scenarios on which durable Spout is also measured against itself in memory (S=1 @ 20,000/s, fan-out to 1,000,
# 1,000 topics).
DURABILITY=("${SCENARIOS[0]}" "${SCENARIOS[2]}" "${SCENARIOS[4]}")
# The scenario on which durable Spout is also read as NDJSON (`?format=ndjson`) rather than SSE: fan-out to 1,000.
NDJSON=("${SCENARIOS[2]}")
# The scenarios on which durable Spout also runs with tokens checked on every request (fan-out to 1,000, 1,000 topics).
AUTH=("${SCENARIOS[2]}" "${SCENARIOS[4]}")
# The scenario on which both servers also serve HTTPS, each with its own TLS stack: fan-out to 1,000.
TLS=("${SCENARIOS[2]}")
# The scenarios the batched C hub runs too (S=1 @ 20,000/s, fan-out to 1,000 and 5,000, 1,000 topics).
HUB=("${SCENARIOS[0]}" "${SCENARIOS[2]}" "${SCENARIOS[3]}" "${SCENARIOS[4]}")

echo "== pub/sub: Spout (durable, as shipped) and nginx+nchan, Spout --in-memory where durability is measured, Spout read as NDJSON on fan-out, and both servers over HTTPS on fan-out to 1,000; $REPS rep(s); results in $OUT"
start_spout
start_memory
start_auth
start_tls
start_nchan
HUB_PID=
start_hub
for rep in $(seq "$REPS"); do
    if [ $((rep % 2)) = 1 ]; then order="nchan spout spout-ndjson spout-auth spout-memory nchan-tls spout-tls hub"
    else order="hub spout-tls nchan-tls spout-memory spout-auth spout-ndjson spout nchan"; fi
    for scenario in "${SCENARIOS[@]}"; do
        for server in $order; do
            if [ "$server" = spout-memory ] && [[ " ${DURABILITY[*]} " != *" $scenario "* ]]; then continue; fi
            if [ "$server" = spout-ndjson ] && [[ " ${NDJSON[*]} " != *" $scenario "* ]]; then continue; fi
            if [ "$server" = spout-auth ] && [[ " ${AUTH[*]} " != *" $scenario "* ]]; then continue; fi
            if [[ "$server" = *-tls ]] && [[ " ${TLS[*]} " != *" $scenario "* ]]; then continue; fi
            if [ "$server" = hub ] && { [ -z "$HUB_PID" ] || [[ " ${HUB[*]} " != *" $scenario "* ]]; }; then continue; fi
            # shellcheck disable=SC2046,SC2086
            timeout 400 "$BIN/spout-bench" pubsub $(target "$server") $scenario --rep "$rep" --json "$OUT/pubsub.jsonl" ||
                echo "   ($server: $scenario failed)"
        done
    done
done
stop "$SPOUT_PID"
stop "$MEMORY_PID"
stop "$AUTH_PID"
stop "$TLS_PID"
stop "$NCHAN_PID"
[ -z "$HUB_PID" ] || stop "$HUB_PID"

echo "== --fsync always: 16 publishers, one topic, one subscriber, closed loop; messages per group commit from /metrics"
if [ "$QUICK" = 1 ]; then FSYNC_MESSAGES=50000; else FSYNC_MESSAGES=200000; fi
start_spout --fsync always
for rep in $(seq "$REPS"); do
    # shellcheck disable=SC2046
    timeout 400 "$BIN/spout-bench" pubsub $(target spout | sed 's/--label spout/--label spout-fsync-always/') \
        --metrics-url "http://127.0.0.1:$SPOUT_PORT/metrics" --subs 1 --window 512 --messages "$FSYNC_MESSAGES" \
        --rep "$rep" --json "$OUT/pubsub.jsonl" || echo "   (spout --fsync always failed)"
done
stop "$SPOUT_PID"

echo "== restart: 1,000 topics and 1,000,000 retained messages (bench/restart.sh)"
RESTART_JSON=$OUT/restart.jsonl bench/restart.sh "$BIN/spout" || echo "   (restart failed)"

echo "== idle subscribers, a fresh server for each run"
for n in 10000 19000; do
    n=$((n < NOFILE - 1000 ? n : NOFILE - 1000))
    for server in nchan spout; do
        if [ "$server" = spout ]; then start_spout; pid=$SPOUT_PID; else start_nchan; pid=$NCHAN_PID; fi
        # shellcheck disable=SC2046
        timeout 400 "$BIN/spout-bench" idle $(target "$server") --subs "$n" --hold "$HOLD" --json "$OUT/idle.jsonl" ||
            echo "   ($server: idle $n failed)"
        stop "$pid"
    done
done

echo "== churn: streams opened and dropped (FIN and RST in turn) beside an idle keep-alive client; Spout's sockets must come back"
if [ "$QUICK" = 1 ]; then CHURN=2000; else CHURN=10000; fi
start_spout
# shellcheck disable=SC2046
timeout 400 "$BIN/spout-bench" churn $(target spout) --streams "$CHURN" --json "$OUT/churn.jsonl" ||
    echo "   (spout: churn $CHURN failed: its sockets did not come back)"
stop "$SPOUT_PID"

echo "== history: pages of 1,000 retained messages, one after another; long-poll with 1,000 pollers, and 10,000 waiting"
if [ "$QUICK" = 1 ]; then HISTORY=20000; else HISTORY=100000; fi
start_spout
timeout 400 "$BIN/spout-bench" history --server "http://127.0.0.1:$SPOUT_PORT" --server-pid "$SPOUT_PID" \
    --messages "$HISTORY" --limit 1000 --seconds "$HOLD" --json "$OUT/history.jsonl" || echo "   (spout: history failed)"
timeout 400 "$BIN/spout-bench" longpoll --server "http://127.0.0.1:$SPOUT_PORT" --server-pid "$SPOUT_PID" \
    --pollers 1000 --messages "$((HISTORY / 100))" --json "$OUT/history.jsonl" || echo "   (spout: long-poll failed)"
stop "$SPOUT_PID"
# 10,000 waiting long-polls on a fresh server: what each costs while parked (issue 14: the same as an idle subscriber).
start_spout
timeout 400 "$BIN/spout-bench" longpoll --server "http://127.0.0.1:$SPOUT_PORT" --server-pid "$SPOUT_PID" \
    --pollers $((10000 < NOFILE - 1000 ? 10000 : NOFILE - 1000)) --messages 5 --json "$OUT/history.jsonl" ||
    echo "   (spout: 10,000 long-polls failed)"
stop "$SPOUT_PID"

echo "== console: spout publish from standard input, against curl in a loop and curl with a batch body (bench/console.sh)"
if [ "$QUICK" = 1 ]; then CONSOLE=20000; else CONSOLE=50000; fi
CONSOLE_JSON=$OUT/console.jsonl bench/console.sh "$CONSOLE" || echo "   (console failed)"

echo "== tails: as fast as a writer can go, to 1, 10 and 100 viewers, and tail -F to a pipe"
if [ "$QUICK" = 1 ]; then LINES=(1000000 500000 100000); else LINES=(2000000 1000000 200000); fi
"$BIN/spout-bench" tail-floor --lines "${LINES[0]}" --json "$OUT/tail.jsonl"
for i in 0 1 2; do
    viewers=$((10 ** i))
    "$BIN/spout-bench" tail --viewers "$viewers" --rate 0 --lines "${LINES[$i]}" --json "$OUT/tail.jsonl"
done
"$BIN/spout-bench" tail --viewers 100 --rate 50000 --seconds "$HOLD" --json "$OUT/tail.jsonl"

echo "== threading: Lock and Queue against a raw pthread mutex, a pthread condition-variable queue, and CPython"
"$BIN/spout-bench" threading --json "$OUT/threading.jsonl" || echo "   (threading failed)"

if [ "${REFEREE:-1}" = 1 ] && [ -x ../shared/bench/compare.sh ]; then
    echo "== referee: ../shared/bench/compare.sh (ssebench) against the same binary"
    mkdir -p "$OUT/referee"
    BENCH_WORK=$WORK/referee LABEL=spout QUICK=$QUICK REPS=$REPS \
        SUB_URL="http://127.0.0.1:$SPOUT_PORT/topics/{topic}/events" \
        PUB_URL="http://127.0.0.1:$SPOUT_PORT/topics/{topic}/messages" \
        START_CMD="exec $BIN/spout serve --port {port} --data-dir \$(mktemp -d $WORK/referee-data.XXXXXX)" \
        ../shared/bench/compare.sh --create-url "http://127.0.0.1:$SPOUT_PORT/topics" \
        --create-body-template '{"name":"{topic}"}' | tee "$OUT/referee/compare.log"
    results=$(ls -d "$WORK"/referee/results/compare-* | tail -1)
    cp "$results"/table.md "$results"/*.jsonl "$OUT/referee/"
fi

cat >"$OUT/meta.json" <<META
{"date": "$(date -u +%Y-%m-%dT%H:%MZ)", "commit": "$(git rev-parse --short HEAD)",
 "machine": "$(nproc) cores, $(uname -r), $(nginx -v 2>&1 | cut -d/ -f2)",
 "command": "REPS=$REPS QUICK=$QUICK ./spout.sh bench"}
META
.venv-bench/bin/python bench/report.py "$OUT" --markdown BENCHMARKS.md --chart docs/benchmarks.png
echo "BENCHMARKS.md and docs/benchmarks.png written from $OUT"

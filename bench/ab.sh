#!/usr/bin/env bash
# A against B: two Spout builds (or one build with two sets of flags) on the scenarios that guard the streaming path,
# taking turns, in one run. Prints each figure and the medians side by side.
#
#   bench/ab.sh "LABEL_A=BINARY [FLAGS…]" "LABEL_B=BINARY [FLAGS…]"
#   REPS=3 (default)  QUICK=1 for fewer messages  PIN=1 to run the server on CPU 0 and the load generator on CPU 1
#   TLS=1 serves both over HTTPS (a fresh self-signed P-256 certificate)
#   (on this 2-core machine, unpinned runs of one build vary by 10-20%)
#
# Scenarios: fan-out to 1,000 subscribers, 1,000 topics × 1 subscriber, 1 subscriber at 20,000 msg/s (p99), and
# 10,000 idle subscribers (KB each, a fresh server per run).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# = 2 ] || { sed -n 2,9p "$0" >&2; exit 2; }
REPS=${REPS:-3}
QUICK=${QUICK:-0}
PORT=8281
BENCH=$PWD/.build/release/spout-bench
SERVER_CPU=()
CLIENT_CPU=()
if [ "${PIN:-0}" = 1 ]; then SERVER_CPU=(taskset -c 0); CLIENT_CPU=(taskset -c 1); fi
OUT=${BENCH_OUT:-/tmp/spout-ab/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)"
SCHEME=http
TLS_FLAGS=()
if [ "${TLS:-0}" = 1 ]; then
    SCHEME=https
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$OUT/key.pem" -out "$OUT/cert.pem" \
        -days 2 -subj /CN=localhost 2>/dev/null
    TLS_FLAGS=(--tls-cert "$OUT/cert.pem" --tls-key "$OUT/key.pem")
fi
if [ "$QUICK" = 1 ]; then M=(2000 100000 80000); else M=(5000 300000 200000); fi

run_server() { # run_server "LABEL=BINARY FLAGS…": starts it, sets PID and LABEL
    local spec=$1 parts data
    LABEL=${spec%%=*}
    read -r -a parts <<<"${spec#*=}"
    # A fresh data directory for each start, unless the flags keep everything in memory.
    data=()
    # (A build from before the store has no --data-dir, and keeps everything in memory anyway.)
    if [[ " ${parts[*]} " != *" --in-memory "* ]] && "${parts[0]}" serve --help 2>&1 | grep -q -- --data-dir; then
        data=(--data-dir "$(mktemp -d "$OUT/data.XXXXXX")")
    fi
    "${SERVER_CPU[@]}" "${parts[0]}" serve "${parts[@]:1}" "${data[@]}" "${TLS_FLAGS[@]}" --port "$PORT" 2>>"$OUT/$LABEL.log" &
    PID=$!
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0; sleep 0.1; done
    echo "$LABEL did not listen" >&2
    exit 1
}
stop_server() { kill "$PID"; wait "$PID" 2>/dev/null || true; }
urls() {
    echo "--label $LABEL --server-pid $PID --sub-url $SCHEME://127.0.0.1:$PORT/topics/{topic}/events" \
        "--pub-url $SCHEME://127.0.0.1:$PORT/topics/{topic}/messages --create-url $SCHEME://127.0.0.1:$PORT/topics"
}

for rep in $(seq "$REPS"); do
    if [ $((rep % 2)) = 1 ]; then order=("$1" "$2"); else order=("$2" "$1"); fi
    for spec in "${order[@]}"; do
        run_server "$spec"
        # shellcheck disable=SC2046
        for scenario in "--subs 1000 --window 64 --messages ${M[0]}" "--subs 1 --topics 1000 --window 1024 --messages ${M[1]}" \
            "--subs 1 --window 1024 --rate 20000 --messages ${M[2]}"; do
            # shellcheck disable=SC2086
            "${CLIENT_CPU[@]}" "$BENCH" pubsub $(urls) $scenario --rep "$rep" --json "$OUT/pubsub.jsonl" >/dev/null
        done
        stop_server
        run_server "$spec"
        # shellcheck disable=SC2046
        "${CLIENT_CPU[@]}" "$BENCH" idle $(urls) --subs 10000 --hold 3 --rep "$rep" --json "$OUT/idle.jsonl" >/dev/null
        stop_server
    done
done
python3 - "$OUT" "${1%%=*}" "${2%%=*}" <<'PY'
import json, statistics, sys, collections
out = sys.argv[1]
rows = collections.defaultdict(list)
for name in ("pubsub", "idle"):
    for line in open(f"{out}/{name}.jsonl"):
        r = json.loads(line)
        p = r["params"]
        if r["scenario"] == "idle":
            key = "10,000 idle"
        elif int(p.get("topics", 1)) == 1000:
            key = "1,000 topics × 1"
        elif int(p.get("subs", 0)) == 1000:
            key = "fan-out 1,000"
        else:
            key = "1 sub @ 20k/s"
        rows[(key, r["target"])].append(r)
labels = sys.argv[2:4]
def figure(key, rs):
    if key == "10,000 idle": return statistics.median(r["server"]["kb_per_sub"] for r in rs), "KiB/sub", False
    if key == "1 sub @ 20k/s": return statistics.median(r["latency_us"]["p99"] for r in rs), "µs p99", False
    if key == "1,000 topics × 1": return statistics.median(r["publish_rps"] for r in rs), "pub/s", True
    return statistics.median(r["delivered_eps"] for r in rs), "events/s", True
print(f"| scenario | {' | '.join(labels)} | {labels[1]} / {labels[0]} |")
print("|---|" + "---|" * (len(labels) + 1))
for key in ["fan-out 1,000", "1,000 topics × 1", "1 sub @ 20k/s", "10,000 idle"]:
    if not all(rows[(key, label)] for label in labels): continue
    values = [figure(key, rows[(key, label)]) for label in labels]
    unit = values[0][1]
    bad = sum(r["lost"] + r["dup"] + r["out_of_order"] + r["errors"] for label in labels for r in rows[(key, label)])
    cells = " | ".join(f"{v:,.2f} {unit}" if v < 100 else f"{v:,.0f} {unit}" for v, _, _ in values)
    note = f" (lost, duplicated, out of order or failed: {bad})" if bad else ""
    print(f"| {key} | {cells} | {values[1][0] / values[0][0]:.2f}×{note} |")
print(f"\n(medians of {len(rows[('fan-out 1,000', labels[0])])} run(s) each, in {out})")
PY

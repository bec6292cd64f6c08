#!/usr/bin/env python3
"""Benchmark report: tables in BENCHMARKS.md and a chart PNG from one results directory.

    python3 bench/report.py RESULTS_DIR [--markdown BENCHMARKS.md] [--chart docs/benchmarks.png]

Reads, in RESULTS_DIR:
  *.jsonl           spout-bench runs, one JSON object a line (scenarios fanout, topics, idle, churn, tail,
                    tail-floor)
  referee/table.md  optional: ssebench's compare.sh table, copied verbatim
  referee/*.jsonl   optional: ssebench runs (label "nchan" is nchan, any other label is Spout), for an
                    agreement table between the two load generators
  meta.json         optional: {"date", "commit", "machine", "command"}

Writes the generated tables between the lines <!-- bench:begin --> and <!-- bench:end --> of the
markdown file (the rest of the file is kept byte for byte) and a 1-3 panel chart PNG. Several reps of
one row are summarised by their median, with (min–max) of the headline figure. Standard library plus
matplotlib. Exit status 2 on bad input.
"""
import argparse
import glob
import json
import os
import statistics
import sys

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
NCHAN_GREY, SPOUT_TEAL, TAIL_GREY = "#8a8f98", "#0f9d8a", "#3b3f45"
# Issue 14's targets against nchan, durable Spout as shipped.
PUBSUB_TARGETS = [("fanout S=1000", "eps", 5.0), ("fanout S=5000", "eps", 5.0),
                  ("fanout S=1 @ 20000/s", "p99", 0.8), ("topics T=1000", "eps", 2.0), ("topics T=1000", "p99", 1.0)]
IDLE_KB_TARGET = 8.0


class BadInput(Exception):
    pass


# ---------------------------------------------------------------- reading and grouping
def load_jsonl(pattern):
    runs = []
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    runs.append(json.loads(line))
                except ValueError:
                    print("report.py: skipping malformed line %s:%d" % (path, number), file=sys.stderr)
    return runs


def row_of(run):
    """(sort key, row label, scenario, rate) of a run, or None for an unknown scenario."""
    scenario, p = run.get("scenario"), run.get("params") or {}
    rate = int(round(p.get("rate") or 0))
    at = " @ %d/s" % rate if rate > 0 else ""
    if scenario == "fanout":
        return (0, p.get("subs", 0), rate), "fanout S=%s%s" % (p.get("subs"), at), scenario, rate
    if scenario == "topics":
        return (1, p.get("topics", 0), 0), "topics T=%s" % p.get("topics"), scenario, 0
    if scenario == "idle":
        return (2, p.get("subs", 0), 0), "idle N=%s" % p.get("subs"), scenario, 0
    if scenario == "churn":
        return (3, p.get("streams", 0), 0), "churn N=%s" % p.get("streams"), scenario, 0
    if scenario == "tail":
        return (4, p.get("viewers", 0), rate), "tail K=%s%s" % (p.get("viewers"), at), scenario, rate
    if scenario == "tail-floor":
        return (5, 0, 0), "tail -F to a pipe", scenario, 0
    if scenario == "history":
        return (6, p.get("limit", 0), 0), "history, pages of %s" % p.get("limit"), scenario, 0
    if scenario == "longpoll":
        return (7, p.get("pollers", 0), 0), "long-poll, %s pollers" % p.get("pollers"), scenario, 0
    return None


def target_of(run):
    if run.get("target"):
        return run["target"]
    return "nchan" if run.get("label") == "nchan" else "spout"  # ssebench names servers by label


def group(runs):
    """{row label: {"sort", "scenario", "rate", "by": {target: [runs]}}} in report order."""
    rows = {}
    for run in runs:
        found = row_of(run)
        if found is None:
            continue
        sort, label, scenario, rate = found
        row = rows.setdefault(label, {"sort": sort, "scenario": scenario, "rate": rate, "by": {}})
        row["by"].setdefault(target_of(run), []).append(run)
    return dict(sorted(rows.items(), key=lambda item: item[1]["sort"]))


# ---------------------------------------------------------------- figures and formatting
def values(runs, *path):
    out = []
    for run in runs:
        value = run
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append(value)
    return out


def median(runs, *path):
    found = values(runs, *path)
    return statistics.median(found) if found else None


def num(x):
    """1234567 -> 1.23M, 45678 -> 45.7k, small numbers as integers."""
    if x is None:
        return "–"
    if abs(x) >= 1e6:
        return "%.2fM" % (x / 1e6)
    if abs(x) >= 1e4:
        return "%.1fk" % (x / 1e3)
    if abs(x) >= 10 or x == int(x):
        return "%d" % round(x)
    return "%.1f" % x


def with_spread(found, fmt=num):
    """Median, and (min–max) in small text when there are several values."""
    if not found:
        return "–"
    text = fmt(statistics.median(found))
    if len(found) > 1:
        low, high = fmt(min(found)), fmt(max(found))
        if low[-1:] == high[-1:] and low[-1:] in ("k", "M"):
            low = low[:-1]
        text += " <small>(%s–%s)</small>" % (low, high)
    return text


def short(x):
    """Bar and axis labels: 20k, 453k, 1.9M, 6.2."""
    if x >= 1e6:
        return "%.1fM" % (x / 1e6)
    if x >= 1e3:
        return "%.0fk" % (x / 1e3)
    return "%.0f" % x if x >= 10 or x == int(x) else "%.1f" % x


def ratio(a, b):
    return "%.2f×" % (a / b) if a is not None and b else "–"


def loss(runs):
    if not values(runs, "lost"):
        return "–"
    lost, dup, ooo = (sum(values(runs, key)) for key in ("lost", "dup", "out_of_order"))
    errors = sum(values(runs, "errors"))
    if lost == dup == ooo == errors == 0:
        return "0"
    return "⚠ %d/%d/%d" % (lost, dup, ooo) + (" +%d err" % errors if errors else "")


def kb(x):
    return "%.2f" % x


def count(x):
    return "–" if x is None else "%d" % x


def all_runs(row):
    return [run for runs in row["by"].values() for run in runs]


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


# ---------------------------------------------------------------- markdown sections
def pubsub_cells(runs, by_p99):
    """The events/s and the p50 / p99 cells of one server; the headline one gets (min–max)."""
    events = values(runs, "delivered_eps") or values(runs, "publish_rps")
    p50, p99 = median(runs, "latency_us", "p50"), values(runs, "latency_us", "p99")
    if by_p99:
        return num(median(runs, "delivered_eps")), "%s / %s" % (num(p50), with_spread(p99))
    return with_spread(events), "%s / %s" % (num(p50), num(statistics.median(p99)) if p99 else "–")


def pubsub_section(rows):
    body = []
    for label, row in rows.items():
        if row["scenario"] not in ("fanout", "topics"):
            continue
        nchan, spout = row["by"].get("nchan", []), row["by"].get("spout", [])
        if not nchan and not spout:
            continue  # a row of the durability runs only
        by_p99 = row["rate"] > 0  # a fixed rate: both servers deliver it, latency is the headline
        if by_p99:
            rel = ratio(median(spout, "latency_us", "p99"), median(nchan, "latency_us", "p99")) + " p99"
        else:
            rel = ratio(median(spout, "delivered_eps"), median(nchan, "delivered_eps"))
        n_events, n_latency = pubsub_cells(nchan, by_p99)
        s_events, s_latency = pubsub_cells(spout, by_p99)
        body.append([label, n_events, s_events, rel, n_latency, s_latency,
                     num(median(spout, "server", "cpu_pct")), num(median(nchan, "server", "cpu_pct")),
                     loss(nchan), loss(spout)])
    if not body:
        return []
    return (["## Pub/sub: Spout vs nginx+nchan", ""] +
            table(["row", "nchan events/s", "Spout events/s", "Spout/nchan", "nchan p50/p99 µs",
                   "Spout p50/p99 µs", "Spout CPU %", "nchan CPU %", "nchan lost/dup/ooo",
                   "Spout lost/dup/ooo"], body) +
            ["", "Medians over the reps, (min–max) of the headline figure in small text. Ratio = Spout / nchan "
             "events/s: above 1 is better for Spout. Rows with a fixed rate (fanout S=1 @ 20000/s) publish the "
             "same rate to both servers, so their events/s are equal by design: their headline is p99 latency, "
             "ratio = Spout p99 / nchan p99, lower is better. topics: one subscriber per topic, so events/s = "
             "publishes/s. CPU % is % of one core; lost/dup/ooo are summed over the reps (⚠ when not 0).", ""])


def idle_section(rows):
    body = []
    for label, row in rows.items():
        if row["scenario"] != "idle":
            continue
        nchan, spout = row["by"].get("nchan", []), row["by"].get("spout", [])
        connected = "%s / %s" % (count(median(nchan, "subs_connected")), count(median(spout, "subs_connected")))
        body.append([label.split()[1], with_spread(values(nchan, "server", "kb_per_sub"), kb),
                     with_spread(values(spout, "server", "kb_per_sub"), kb),
                     ratio(median(spout, "server", "kb_per_sub"), median(nchan, "server", "kb_per_sub")),
                     connected])
    if not body:
        return []
    return (["## Idle subscribers", ""] +
            table(["N", "nchan KB/sub", "Spout KB/sub", "Spout/nchan", "connected nchan / Spout"], body) +
            ["", "Server memory (RSS) per connected idle subscriber; lower is better.", ""])


def churn_section(rows):
    body = []
    for label, row in rows.items():
        if row["scenario"] != "churn":
            continue
        for run in row["by"].get("spout", []):
            sockets = run.get("sockets") or {}
            back = sockets.get("settled", 1) <= sockets.get("before", 0)
            body.append([label.split("=")[1], count(sockets.get("before")), count(sockets.get("after_churn")),
                         count(sockets.get("settled")), "%.2f" % sockets.get("settle_s", 0),
                         "✅" if back and not run.get("errors") else "❌"])
    if not body:
        return []
    return (["## Socket churn", ""] +
            table(["streams", "Spout sockets before", "right after", "settled", "settled in s", "back"], body) +
            ["", "Streams opened and dropped one after another, FIN and RST in turn, while one idle keep-alive "
             "client stays connected; the server's socket descriptors from /proc/PID/fd.", ""])


def targets_section(rows):
    body = []
    for label, kind, goal in PUBSUB_TARGETS:
        by = rows.get(label, {}).get("by", {})
        field = ("latency_us", "p99") if kind == "p99" else ("delivered_eps",)
        spout, nchan = median(by.get("spout", []), *field), median(by.get("nchan", []), *field)
        value = spout / nchan if spout is not None and nchan else None
        met = value is not None and (value <= goal if kind == "p99" else value >= goal)
        what = "Spout p99 / nchan p99 ≤ %.1f" % goal if kind == "p99" else "Spout / nchan events/s ≥ %.1f" % goal
        body.append([label, what, "–" if value is None else "%.2f×" % value, mark(value, met)])
    idle = [label for label, row in rows.items() if row["scenario"] == "idle"] or ["idle N=10000", "idle N=19000"]
    for label in idle:
        value = median(rows.get(label, {}).get("by", {}).get("spout", []), "server", "kb_per_sub")
        met = value is not None and value <= IDLE_KB_TARGET
        body.append([label, "Spout KB/sub ≤ %d" % IDLE_KB_TARGET, "–" if value is None else kb(value),
                     mark(value, met)])
    for label, row in rows.items():
        if row["scenario"] == "longpoll" and row["by"].get("spout") and \
                (median(row["by"]["spout"], "params", "pollers") or 0) >= 10000:
            value = median(row["by"]["spout"], "server", "kb_per_sub")
            body.append([label + ", waiting", "Spout KB/poller ≤ %d" % IDLE_KB_TARGET,
                         "–" if value is None else kb(value), mark(value, value is not None and value <= IDLE_KB_TARGET)])
    return ["## Targets", ""] + table(["row", "target", "measured", "met"], body) + [""]


# The durability targets: (row, kind, goal) of Spout durable (as shipped) against Spout --in-memory in the same run.
DURABLE_TARGETS = [("fanout S=1 @ 20000/s", "p99+", 1000.0), ("fanout S=1000", "ratio", 0.9),
                   ("topics T=1000", "ratio", 0.8)]
FSYNC_ALWAYS_TARGET = 20000.0
RESTART_TARGET_S = 2.0


def durability_section(rows, results_dir):
    body = []
    for label, kind, goal in DURABLE_TARGETS:
        by = rows.get(label, {}).get("by", {})
        durable, memory = by.get("spout", []), by.get("spout-memory", [])
        if not durable or not memory:
            continue
        if kind == "p99+":
            d, m = median(durable, "latency_us", "p99"), median(memory, "latency_us", "p99")
            value = d - m if d is not None and m is not None else None
            body.append([label, "%s / %s µs" % (num(d), num(m)), "p99 +%s µs" % num(value),
                         "≤ +%d µs" % goal, mark(value, value is not None and value <= goal)])
        else:
            d, m = median(durable, "delivered_eps"), median(memory, "delivered_eps")
            value = d / m if d and m else None
            body.append([label, "%s / %s events/s" % (num(d), num(m)), "–" if value is None else "%.2f×" % value,
                         "≥ %.1f×" % goal, mark(value, value is not None and value >= goal)])
    for label, row in rows.items():
        runs = row["by"].get("spout-fsync-always", [])
        if runs:
            rps = median(runs, "publish_rps")
            per = median(runs, "store", "writes_per_commit")
            body.append(["--fsync always, %s publishers" % count(median(runs, "params", "pubs")),
                         "%s publishes/s, %s per commit" % (num(rps), "–" if per is None else "%.1f" % per),
                         "–", "≥ %s publishes/s" % num(FSYNC_ALWAYS_TARGET),
                         mark(rps, rps is not None and rps >= FSYNC_ALWAYS_TARGET)])
    restarts = [run for run in load_jsonl(os.path.join(results_dir, "restart.jsonl")) if run.get("scenario") == "restart"]
    if restarts:
        seconds = median(restarts, "ready_s")
        before, after = median(restarts, "rss_kb_before"), median(restarts, "rss_kb_after")
        body.append(["restart, %s topics, %s messages" % (count(median(restarts, "topics")),
                                                           count(median(restarts, "messages"))),
                     "ready in %.2f s; RSS %s → %s MB; %s on disk" % (
                         seconds, count((before or 0) // 1024), count((after or 0) // 1024),
                         restarts[-1].get("disk", "?")),
                     "–", "< %.0f s, RSS after ≤ before" % RESTART_TARGET_S,
                     mark(seconds, seconds is not None and seconds < RESTART_TARGET_S and (after or 0) <= (before or 0))])
    if not body:
        return []
    return (["## Durability", ""] +
            table(["row", "durable / in memory", "ratio", "target", "met"], body) +
            ["", "Spout as shipped (durable: SQLite in WAL mode, `--fsync interval`) against the same binary with "
             "`--in-memory`, on the same scenarios in the same run; the pub/sub table above is durable Spout beside "
             "nchan, which has no durable mode of its own without Redis. `--fsync always` waits for the disk in "
             "each group commit: closed-loop publishers to one topic with one subscriber, and the messages each "
             "commit carried (from `/metrics`). The restart is `bench/restart.sh`: 1,000 topics filled with "
             "1,000 retained messages each, SIGTERM, start again on the same data directory, time until it "
             "listens.", ""])


# The same durable server read another way, or checking tokens, against SSE without tokens in the same run:
# (target label, row, goal, what).
VARIANT_TARGETS = [("spout-ndjson", "fanout S=1000", 0.9, "NDJSON / SSE"),
                   ("spout-auth", "fanout S=1000", 0.9, "auth on / off"),
                   ("spout-auth", "topics T=1000", 0.9, "auth on / off")]


def transports_section(rows):
    body = []
    for target, label, goal, what in VARIANT_TARGETS:
        by = rows.get(label, {}).get("by", {})
        base, variant = by.get("spout", []), by.get(target, [])
        if not base or not variant:
            continue
        b, v = median(base, "delivered_eps"), median(variant, "delivered_eps")
        value = v / b if b and v else None
        body.append([label, what, with_spread(values(base, "delivered_eps")), with_spread(values(variant, "delivered_eps")),
                     "–" if value is None else "%.2f×" % value, "≥ %.1f×" % goal,
                     mark(value, value is not None and value >= goal), loss(variant)])
    if not body:
        return []
    return (["## NDJSON and tokens", ""] +
            table(["row", "ratio", "SSE, no tokens: events/s", "variant: events/s", "variant / SSE", "target", "met",
                   "variant lost/dup/ooo"], body) +
            ["", "Durable Spout as shipped, in the same run: its subscribers reading `/topics/{name}/events` as "
             "`?format=ndjson`, and a second server with `--auth-secret` whose subscribers, publishers and creates "
             "all carry an HS256 token (in `access_token`, as an EventSource does), verified on every request.", ""])


def tls_section(rows):
    body = []
    for label, row in rows.items():
        by = row["by"]
        spout, nchan = by.get("spout-tls", []), by.get("nchan-tls", [])
        if not spout or not nchan:
            continue
        s, n = median(spout, "delivered_eps"), median(nchan, "delivered_eps")
        s_plain, n_plain = median(by.get("spout", []), "delivered_eps"), median(by.get("nchan", []), "delivered_eps")
        body.append([label, with_spread(values(nchan, "delivered_eps")), with_spread(values(spout, "delivered_eps")),
                     ratio(s, n),
                     "%s / %s" % (num(median(nchan, "latency_us", "p99")), num(median(spout, "latency_us", "p99"))),
                     "%s / %s" % (ratio(n, n_plain), ratio(s, s_plain)),
                     "%s / %s" % (num(median(nchan, "server", "cpu_pct")), num(median(spout, "server", "cpu_pct"))),
                     num(median(spout, "client", "cpu_pct")), "%s / %s" % (loss(nchan), loss(spout))])
    if not body:
        return []
    return (["## HTTPS", ""] +
            table(["row", "nchan (nginx TLS) events/s", "Spout (TLS) events/s", "Spout/nchan", "p99 µs nchan / Spout",
                   "HTTPS / HTTP nchan / Spout", "server CPU % nchan / Spout", "load generator CPU %",
                   "lost/dup/ooo nchan / Spout"], body) +
            ["", "Both servers over HTTPS in the same run, with one ECDSA P-256 certificate made for it: nginx+nchan with "
             "OpenSSL, durable Spout with libmicrohttpd's GnuTLS (`--tls-cert`, `--tls-key`). spout-bench's subscribers "
             "and publishers speak TLS through GnuTLS; every connection shakes hands once and then stays open. "
             "HTTPS / HTTP compares each server with itself over plain HTTP in the same run.", ""])


# Spout within this factor of the batched C hub's events/s on fan-out (issue 14).
HUB_FACTOR = 1.25


def hub_section(rows):
    body = []
    for label, row in rows.items():
        hub, spout = row["by"].get("hub", []), row["by"].get("spout", [])
        if not hub or not spout:
            continue
        h, s = median(hub, "delivered_eps"), median(spout, "delivered_eps")
        fanout = row["scenario"] == "fanout" and not row["rate"]
        if row["rate"]:  # a fixed rate: both deliver it, latency is the headline
            hp, sp = median(hub, "latency_us", "p99"), median(spout, "latency_us", "p99")
            value = sp / hp if hp and sp else None
            shown = "–" if value is None else "p99 %.2f× (Spout / hub)" % value
        else:
            value = h / s if h and s else None
            shown = "–" if value is None else "%.2f×" % value
        body.append([label, "%s (p99 %s µs)" % (num(h), num(median(hub, "latency_us", "p99"))),
                     "%s (p99 %s µs)" % (num(s), num(median(spout, "latency_us", "p99"))), shown,
                     "%s / %s" % (num(median(hub, "server", "cpu_pct")), num(median(spout, "server", "cpu_pct"))),
                     "%s / %s" % (num(median(hub, "client", "cpu_pct")), num(median(spout, "client", "cpu_pct"))),
                     "≤ %.2f×" % HUB_FACTOR if fanout else "–",
                     mark(value, value is not None and value <= HUB_FACTOR) if fanout else "–", loss(hub)])
    if not body:
        return []
    return (["## Against the batched C hub", ""] +
            table(["row", "hub events/s", "Spout events/s (durable)", "hub / Spout", "server CPU % hub / Spout",
                   "load generator CPU % hub / Spout", "target", "met", "hub lost/dup/ooo"], body) +
            ["", "`../shared/bench/ideal_fanout.c` with batch=1, built and run by `./spout.sh bench` in the same run: "
             "one epoll thread, no history, no auth, no durability, the events of one wait coalesced into one write "
             "per subscriber. It bounds what one core can do; the load generator's CPU says how near its own limit "
             "spout-bench was. At a fixed rate (S=1 @ 20,000/s) both deliver every message, and the row compares "
             "their p99 latency and the CPU each spends on the same work.", ""])


def console_section(results_dir):
    runs = [run for run in load_jsonl(os.path.join(results_dir, "console.jsonl")) if run.get("scenario") == "console"]
    if not runs:
        return []
    body = [[run["target"], count(run.get("lines")), num(run.get("lines_per_s")),
             "0" if run.get("arrived") == run.get("lines") else "⚠ %s of %s" % (run.get("arrived"), run.get("lines"))]
            for run in runs]
    return (["## Console", ""] +
            table(["how", "lines", "lines/s", "lost"], body) +
            ["", "`bench/console.sh`: lines from `seq` published to a fresh topic of a durable server, each line one "
             "message, by `spout publish` (one request a line, on one keep-alive connection, and `--batch 100`) and "
             "by curl (a process and a request a line, and 100 lines a request as a JSON array); lost counts the "
             "topic's `published` figure against the lines sent.", ""])


# Threading's primitives against pthreads: (target, what, at most this ratio, or None for no target).
THREADING_TARGETS = {"lock": ("uncontended `Lock` acquire + release", 2.0),
                     "queue": ("`Queue` put + get, one producer thread, one consumer, bound 1,024", None)}


def threading_section(results_dir):
    runs = [run for run in load_jsonl(os.path.join(results_dir, "threading.jsonl")) if run.get("scenario") == "threading"]
    body = []
    for target, (what, goal) in THREADING_TARGETS.items():
        found = [run for run in runs if run.get("target") == target]
        if not found:
            continue
        ratio = median(found, "ratio")
        body.append([what, "%.1f" % median(found, "spout_ns"), "%.1f" % median(found, "pthread_ns"),
                     "–" if ratio is None else "%.2f×" % ratio,
                     "–" if median(found, "cpython_ns") is None else "%.1f" % median(found, "cpython_ns"),
                     "≤ %.0f×" % goal if goal else "–",
                     mark(ratio, ratio is not None and ratio <= goal) if goal else "–"])
    if not body:
        return []
    return (["## Threading", ""] +
            table(["operation", "Spout ns", "pthread ns", "Spout / pthread", "CPython ns", "target", "met"], body) +
            ["", "`spout-bench threading`, the best of 5 measures each: Threading's `Lock` against a bare "
             "`pthread_mutex_t` lock and unlock, and its `Queue` against a bounded queue written for the benchmark on "
             "one pthread mutex and two condition variables; CPython's `threading.Lock` and `queue.Queue`, which they "
             "mirror, timed the same way by `python3` in the same run.", ""])


def mark(value, met):
    if value is None:
        return "not measured"
    return "✅" if met else "❌"


def tails_section(rows):
    body = []
    for label, row in rows.items():
        if row["scenario"] not in ("tail", "tail-floor"):
            continue
        runs = all_runs(row)
        viewers = int(median(runs, "params", "viewers") or 1)
        per_viewer = [eps / viewers for eps in values(runs, "delivered_eps")]
        body.append([label, viewers, with_spread(values(runs, "delivered_eps")), with_spread(per_viewer),
                     "%s / %s" % (num(median(runs, "latency_us", "p50")), num(median(runs, "latency_us", "p99"))),
                     num(median(runs, "server", "cpu_pct")), loss(runs)])
    if not body:
        return []
    return (["## Tails", ""] +
            table(["row", "viewers", "lines/s (all viewers)", "lines/s per viewer", "lag p50/p99 µs",
                   "server CPU %", "lost/dup/ooo"], body) +
            ["", "`tail -F to a pipe` is the floor: coreutils `tail -F` writing into a pipe; its CPU % is the "
             "tail process's.", ""])


def history_section(rows):
    def cells(scenario, columns):
        return [[label] + [cell(all_runs(row)) for cell in columns] for label, row in rows.items()
                if row["scenario"] == scenario]
    body = cells("history", [lambda runs: count(median(runs, "params", "messages")),
                             lambda runs: with_spread(values(runs, "publish_rps")),
                             lambda runs: with_spread(values(runs, "delivered_eps")),
                             lambda runs: num(median(runs, "server", "cpu_pct"))])
    polls = cells("longpoll", [lambda runs: count(median(runs, "params", "messages")),
                               lambda runs: with_spread(values(runs, "delivered_eps")),
                               lambda runs: num(median(runs, "server", "cpu_pct")),
                               lambda runs: kb(median(runs, "server", "kb_per_sub")), loss])
    lines = []
    if body:
        lines += (["## History", ""] +
                  table(["row", "messages retained", "pages/s", "messages/s", "server CPU %"], body) +
                  ["", "`GET /topics/{name}/messages?after=…&limit=N` read page after page over one keep-alive "
                   "connection, each `next` passed as the following `after` (`spout-bench history`), on a durable "
                   "server.", ""])
    if polls:
        lines += (["## Long-poll", ""] +
                  table(["row", "messages", "deliveries/s", "server CPU %", "KB per waiting poller", "lost/dup/ooo"],
                        polls) +
                  ["", "Each poller asks `?after=<its next>&wait=30` again as soon as an answer comes, on its own "
                   "keep-alive connection, while one publisher sends the messages one request each "
                   "(`spout-bench longpoll`); every poller must get every message once, in order. KB per waiting "
                   "poller: the server's resident memory once every poller is parked on the empty topic, before the "
                   "first message, divided by the pollers.", ""])
    return lines


def agreement_section(rows, referee):
    body = []
    for label, row in rows.items():
        if label not in referee or row["scenario"] not in ("fanout", "topics", "idle"):
            continue
        for target in ("spout", "nchan"):
            ours, theirs = row["by"].get(target, []), referee[label]["by"].get(target, [])
            if row["scenario"] == "idle":
                a = median(ours, "server", "kb_per_sub")
                b = median([r for r in theirs if (r.get("idle") or {}).get("rss_kb_per_sub", -1) >= 0],
                           "idle", "rss_kb_per_sub")
                fmt, figure = kb, "KB/sub"
            else:
                a, b, fmt, figure = median(ours, "delivered_eps"), median(theirs, "delivered_eps"), num, "events/s"
            if a is None or b is None:
                continue
            body.append([label, "Spout" if target == "spout" else "nchan", figure, fmt(a), fmt(b), ratio(a, b)])
    if not body:
        return []
    return (["## Agreement: spout-bench vs ssebench", ""] +
            table(["row", "server", "figure", "spout-bench", "ssebench", "spout-bench / ssebench"], body) + [""])


def referee_section(results_dir):
    path = os.path.join(results_dir, "referee", "table.md")
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8") as fh:
        return ["## Referee: ssebench in the same run", "", fh.read().rstrip("\n"), ""]


def meta_section(results_dir):
    path = os.path.join(results_dir, "meta.json")
    if not os.path.isfile(path):
        return []
    try:
        with open(path, encoding="utf-8") as fh:
            meta = json.load(fh)
    except ValueError:
        print("report.py: %s is not JSON; skipped" % path, file=sys.stderr)
        return []
    lines = ["## Run", ""]
    for key in ("date", "commit", "machine", "command"):
        if meta.get(key):
            value = "`%s`" % meta[key] if key in ("commit", "command") else meta[key]
            lines.append("- %s: %s" % (key, value))
    return lines + [""]


def generated(results_dir, rows, referee, chart_link):
    lines = ["<!-- generated by bench/report.py from %s; edits between the markers are overwritten -->"
             % os.path.basename(os.path.normpath(results_dir)), "",
             "![Spout vs nchan](%s)" % chart_link, ""]
    for section in (pubsub_section(rows), idle_section(rows), durability_section(rows, results_dir),
                    transports_section(rows), tls_section(rows), hub_section(rows),
                    churn_section(rows), targets_section(rows),
                    tails_section(rows), history_section(rows), console_section(results_dir),
                    threading_section(results_dir), agreement_section(rows, referee), referee_section(results_dir),
                    meta_section(results_dir)):
        lines += section
    return "\n".join(lines).rstrip("\n")


def write_markdown(path, content):
    """Replace what lies between the markers; create the file (or append the markers) when absent."""
    text = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8", newline="") as fh:
            text = fh.read()
    start = text.find(BEGIN)
    if start < 0:
        prefix = (text + ("" if text.endswith("\n") else "\n") + "\n") if text else "# Benchmarks\n\n"
        text = prefix + BEGIN + "\n" + END + "\n"
        start = text.find(BEGIN)
    stop = text.find(END, start)
    if stop < 0:
        raise BadInput("%s has %s but no %s after it" % (path, BEGIN, END))
    head, tail = text[:start + len(BEGIN)], text[stop:]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    newline = "\r\n" if text[:start + len(BEGIN) + 2].endswith(BEGIN + "\r\n") else "\n"
    body = newline + content.replace("\n", newline) + newline + newline
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(head + body + tail)


# ---------------------------------------------------------------- chart
def bars(ax, labels, series, title, ylabel, label_fmt=short):
    """Grouped bars: series is [(name, colour or colours, values)]; None values are left out."""
    from matplotlib.ticker import FuncFormatter, NullFormatter
    width = 0.8 / len(series)
    for i, (name, colour, vals) in enumerate(series):
        xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(labels))]
        drawn = [(x, v) for x, v in zip(xs, vals) if v is not None]
        if not drawn:
            continue
        colours = [c for c, v in zip(colour, vals) if v is not None] if isinstance(colour, list) else colour
        container = ax.bar([x for x, _ in drawn], [v for _, v in drawn], width, label=name, color=colours)
        ax.bar_label(container, labels=[label_fmt(v) for _, v in drawn], fontsize=7, padding=2)
    positive = [v for _, _, vals in series for v in vals if v]
    if positive and max(positive) / min(positive) > 20:
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: short(v) if v > 0 else "0"))
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.margins(y=0.15)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)


def both_servers(rows, *path):
    """Bar series for nchan and Spout: the median of one figure per row."""
    series = []
    for name, colour in (("nchan", NCHAN_GREY), ("Spout", SPOUT_TEAL)):
        series.append((name, colour, [median(row["by"].get(name.lower(), []), *path) for row in rows.values()]))
    return series


def chart_panels(rows):
    """(x labels, series, title, y label, bar label format) for each panel that has data."""
    panels = []
    pubsub = {l: r for l, r in rows.items() if r["scenario"] in ("fanout", "topics")}
    if pubsub:
        labels = [l.replace("fanout ", "fan-out\n").replace("topics ", "topics\n").replace(" @ ", "\n@ ")
                  for l in pubsub]
        panels.append((labels, both_servers(pubsub, "delivered_eps"), "Pub/sub: delivered events/s",
                       "events/s (higher is better)", short))
    idle = {l: r for l, r in rows.items() if r["scenario"] == "idle"}
    if idle:
        panels.append(([l.split()[1] for l in idle], both_servers(idle, "server", "kb_per_sub"),
                       "Idle: server KB per subscriber", "KB/subscriber (lower is better)", lambda v: "%.1f" % v))
    tails = {l: r for l, r in rows.items()
             if r["scenario"] == "tail-floor" or (r["scenario"] == "tail" and not r["rate"])}
    if tails:
        per_viewer, colours = [], []
        for label, row in tails.items():
            runs = all_runs(row)
            eps = median(runs, "delivered_eps")
            per_viewer.append(None if eps is None else eps / (median(runs, "params", "viewers") or 1))
            colours.append(TAIL_GREY if row["scenario"] == "tail-floor" else SPOUT_TEAL)
        labels = [l.replace("tail -F to a pipe", "tail -F\n(floor)").replace("tail K=", "K=") for l in tails]
        panels.append((labels, [("lines/s per viewer", colours, per_viewer)], "Tails: lines/s per viewer",
                       "lines/s per viewer", short))
    return panels


def has_values(panel):
    return any(v is not None for _, _, vals in panel[1] for v in vals)


def draw_chart(path, rows):
    import matplotlib.pyplot as plt
    panels = [panel for panel in chart_panels(rows) if has_values(panel)]
    if not panels:
        print("report.py: no data for the chart; %s not written" % path, file=sys.stderr)
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4), squeeze=False)
    for ax, (labels, series, title, ylabel, label_fmt) in zip(axes[0], panels):
        bars(ax, labels, series, title, ylabel, label_fmt)
        if len(series) > 1:
            ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---------------------------------------------------------------- main
def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results_dir")
    parser.add_argument("--markdown", default="BENCHMARKS.md")
    parser.add_argument("--chart", default="docs/benchmarks.png")
    args = parser.parse_args(argv)
    try:
        import matplotlib
        matplotlib.use("Agg")
    except ImportError:
        print("report.py: matplotlib is needed (pip install matplotlib)", file=sys.stderr)
        return 2
    if not os.path.isdir(args.results_dir):
        print("report.py: %s is not a directory" % args.results_dir, file=sys.stderr)
        return 2
    rows = group(load_jsonl(os.path.join(args.results_dir, "*.jsonl")))
    if not rows:
        print("report.py: no spout-bench runs in %s/*.jsonl" % args.results_dir, file=sys.stderr)
        return 2
    referee = group(load_jsonl(os.path.join(args.results_dir, "referee", "*.jsonl")))
    md_dir = os.path.dirname(os.path.abspath(args.markdown))
    chart_link = os.path.relpath(os.path.abspath(args.chart), md_dir).replace(os.sep, "/")
    try:
        write_markdown(args.markdown, generated(args.results_dir, rows, referee, chart_link))
    except BadInput as error:
        print("report.py: %s" % error, file=sys.stderr)
        return 2
    draw_chart(args.chart, rows)
    print("wrote %s and %s" % (args.markdown, args.chart))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

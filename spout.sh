#!/usr/bin/env bash
# Spout's two set-up commands, for a Debian or Ubuntu machine that has the Swift toolchain:
#
#   ./spout.sh run [FLAGS]   install what is missing, build, and run `spout serve` on the embedded defaults
#   ./spout.sh test          install what the tests need, build, and run the whole suite
#
# Also: ./spout.sh bench (the benchmark against nginx+nchan; see BENCHMARKS.md), ./spout.sh build (release build only),
# ./spout.sh deps (system packages only).
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the build needs, and the ones only the tests need.
BUILD_PACKAGES=(libmicrohttpd-dev libsqlite3-dev pkg-config)
TEST_PACKAGES=(curl procps openssl python3 python3-venv chromium fonts-dejavu-core)
# And the benchmark's: nginx with nchan to compare with, a C compiler for the neutral load generator, GNU tail,
# openssl for the certificate of the HTTPS runs.
BENCH_PACKAGES=(nginx-light libnginx-mod-nchan gcc libc6-dev coreutils openssl python3 python3-venv)

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "spout.sh: need root (or sudo) to run: $*" >&2
        exit 1
    fi
}

# Installs the packages that are not installed yet; runs apt-get update only when something is missing.
install_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "spout.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

require_swift() {
    command -v swift >/dev/null || {
        echo "spout.sh: the Swift toolchain (6.2 or later) is not on PATH; see https://www.swift.org/install/" >&2
        exit 1
    }
}

# The end-to-end suites (the contract with schemathesis, the viewer in Debian's chromium with Playwright) run from a
# virtual environment of their own, with the pinned packages of Tests/e2e/requirements.txt.
e2e_environment() {
    local venv=.venv-e2e
    if [ ! -x "$venv/bin/pytest" ] || ! cmp -s Tests/e2e/requirements.txt "$venv/requirements.txt"; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check -r Tests/e2e/requirements.txt
        cp Tests/e2e/requirements.txt "$venv/requirements.txt"
    fi
}

# Installing nginx must not start Debian's nginx service on port 80: a policy-rc.d forbids it for the install only.
install_bench_packages() {
    local policy=/usr/sbin/policy-rc.d added=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod +x "$policy"
        added=1
    fi
    install_packages "${BENCH_PACKAGES[@]}" || { [ $added = 1 ] && as_root rm -f "$policy"; exit 1; }
    [ $added = 1 ] && as_root rm -f "$policy"
    if [ ! -x .venv-bench/bin/python ] || ! cmp -s bench/requirements.txt .venv-bench/requirements.txt; then
        python3 -m venv .venv-bench
        .venv-bench/bin/pip install -q --disable-pip-version-check -r bench/requirements.txt
        cp bench/requirements.txt .venv-bench/requirements.txt
    fi
}

# Long-lived streams need file descriptors: raise the soft limit to the hard one.
raise_open_files() {
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}

case "${1:-}" in
    run)
        shift
        require_swift
        install_packages "${BUILD_PACKAGES[@]}"
        swift build -c release --product spout
        raise_open_files
        exec .build/release/spout serve "$@"
        ;;
    build)
        require_swift
        install_packages "${BUILD_PACKAGES[@]}"
        swift build -c release --product spout
        ;;
    test)
        require_swift
        install_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
        raise_open_files
        swift build --build-tests
        swift test --skip-build
        e2e_environment
        SPOUT_BIN="$PWD/.build/debug/spout" .venv-e2e/bin/pytest -q Tests/e2e
        # The whole suite runs again under ThreadSanitizer, in its own build folder. Every lock in the code is a
        # pthread one that TSan can see, so a report is a real race.
        swift build --build-tests --sanitize=thread --scratch-path .build-tsan
        swift test --skip-build --sanitize=thread --scratch-path .build-tsan
        ;;
    bench)
        require_swift
        install_packages "${BUILD_PACKAGES[@]}"
        install_bench_packages
        swift build -c release --product spout
        swift build -c release --product spout-bench
        exec bench/run.sh
        ;;
    deps)
        install_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
        e2e_environment
        ;;
    *)
        echo "usage: ./spout.sh run [serve flags] | test | bench | build | deps" >&2
        exit 2
        ;;
esac

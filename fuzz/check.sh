#!/usr/bin/env bash
# The fuzz targets in the test command, so they cannot rot. Two ways:
#
# - libFuzzer: when the instrumented build is there and up to date
#   (fuzz/target/<triple>/release/<target> for every target, newer than
#   every source it is built from: an earlier fuzz/run.sh or check.sh on
#   this tree), each target runs for FUZZ_CHECK_SECS (default 4) seconds on
#   its committed corpus, which it replays first;
# - replay: otherwise (building the instrumented targets takes ~10 minutes
#   from cold and ~2-5 after any change under src/, more than the test
#   command can spend; see fuzz/README.md), every file of every corpus goes
#   through the same checks uninstrumented: `cargo test --test fuzz_corpus`
#   in the main crate, on its cached build.
#
# FUZZ_CHECK=libfuzzer or FUZZ_CHECK=replay forces one way (libfuzzer
# builds from cold if it must). Exits non-zero on any failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
secs=${FUZZ_CHECK_SECS:-4}
targets="protocol http schedule state"
sanitizer=${FUZZ_SANITIZER:-none}
bin_dir="$here/target/x86_64-unknown-linux-gnu/release"

mode=${FUZZ_CHECK:-auto}
if [ "$mode" = auto ]; then
    mode=libfuzzer
    command -v cargo-fuzz >/dev/null 2>&1 || mode=replay
    for t in $targets; do
        if [ ! -x "$bin_dir/$t" ]; then
            mode=replay
        elif [ -n "$(cd "$here/.." && find src migrations web-client build.rs Cargo.toml Cargo.lock \
            fuzz/src fuzz/fuzz_targets fuzz/Cargo.toml -newer "$bin_dir/$t" \
            -not -path '*/node_modules/*' -print -quit 2>/dev/null)" ]; then
            mode=replay
        fi
    done
fi

if [ "$mode" = replay ]; then
    echo "fuzz: replaying the corpora (cargo test --test fuzz_corpus)" >&2
    cd "$here/.."
    exec cargo test --test fuzz_corpus
fi

export RUSTC_BOOTSTRAP=1
cd "$here"
started=$(date +%s)
cargo fuzz build -s "$sanitizer"
echo "fuzz: build up to date in $(($(date +%s) - started)) s" >&2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
passed=0
failed=0
for t in $targets; do
    mkdir -p "$scratch/$t"
    if cargo fuzz run -s "$sanitizer" "$t" "$scratch/$t" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=20 -print_final_stats=1 \
        >"$scratch/$t.log" 2>&1; then
        execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$scratch/$t.log" | grep -oE '[0-9]+$' || echo "?")
        echo "fuzz: $t ok (${secs} s, ${execs} executions)" >&2
        passed=$((passed + 1))
    else
        tail -n 60 "$scratch/$t.log" >&2
        echo "fuzz: $t FAILED; the input is in fuzz/artifacts/$t/" >&2
        failed=$((failed + 1))
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]

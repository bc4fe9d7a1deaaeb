#!/usr/bin/env bash
# Builds every fuzz target with cargo fuzz (libFuzzer) and runs each for
# SECONDS (default 60), one after the other, on its corpus.
#
#   fuzz/run.sh [SECONDS]
#
# New inputs go to fuzz/runs/<target>/corpus (not committed); crashes to
# fuzz/artifacts/<target>/; each run's log to fuzz/runs/<target>.log, and a
# summary line per target (time, executions, coverage) is printed at the end.
# Environment:
#   FUZZ_TARGETS    targets to run (default: protocol http schedule state)
#   FUZZ_SANITIZER  cargo fuzz -s value (default: none; "address" for ASan)
#   FUZZ_MERGE=1    afterwards merge what the run found into fuzz/corpus/<target>
#                   (libFuzzer -merge=1 keeps only inputs that add coverage)
# Runs on the stable toolchain: cargo fuzz needs nightly-only flags, which
# RUSTC_BOOTSTRAP=1 unlocks.
set -euo pipefail

secs=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
export RUSTC_BOOTSTRAP=1
targets=${FUZZ_TARGETS:-protocol http schedule state}
sanitizer=${FUZZ_SANITIZER:-none}

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

started=$(date +%s)
cargo fuzz build -s "$sanitizer"
echo "fuzz: built in $(($(date +%s) - started)) s" >&2

status=0
summary=()
for t in $targets; do
    mkdir -p "runs/$t/corpus" "artifacts/$t"
    dict=()
    [ -f "dict/$t.dict" ] && dict=("-dict=dict/$t.dict")
    echo "fuzz: $t for ${secs} s" >&2
    if cargo fuzz run -s "$sanitizer" "$t" "runs/$t/corpus" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=20 -print_final_stats=1 "${dict[@]}" \
        >"runs/$t.log" 2>&1; then
        outcome=ok
    else
        outcome="FAILED (see fuzz/runs/$t.log and fuzz/artifacts/$t/)"
        status=1
    fi
    stats=$(grep -E '^#[0-9]+' "runs/$t.log" | tail -n 1 || true)
    execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "runs/$t.log" | grep -oE '[0-9]+$' || echo "?")
    summary+=("$t: $outcome; ${secs} s, ${execs} executions; last: ${stats}")
    if [ "${FUZZ_MERGE:-0}" = 1 ] && [ "$outcome" = ok ]; then
        cargo fuzz run -s "$sanitizer" "$t" "corpus/$t" "runs/$t/corpus" -- -merge=1 \
            >"runs/$t.merge.log" 2>&1
    fi
done
printf '%s\n' "${summary[@]}"
exit $status

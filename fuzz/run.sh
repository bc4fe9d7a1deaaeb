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
#   FUZZ_MERGE=1    afterwards re-minimize fuzz/corpus/<target> with what the
#                   run found (libFuzzer -set_cover_merge=1: a small set with
#                   every feature of both); the hand-made seed-* and the
#                   regress-* files (fixed crashes) are always kept as they are
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
    t0=$(date +%s)
    if cargo fuzz run -s "$sanitizer" "$t" "runs/$t/corpus" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=20 -print_final_stats=1 "${dict[@]}" \
        >"runs/$t.log" 2>&1; then
        outcome=ok
    else
        outcome="FAILED (see fuzz/runs/$t.log and fuzz/artifacts/$t/)"
        status=1
    fi
    ran=$(($(date +%s) - t0))
    stats=$(grep -E '^#[0-9]+' "runs/$t.log" | tail -n 1 || true)
    execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "runs/$t.log" | grep -oE '[0-9]+$' || echo "?")
    summary+=("$t: $outcome; ran ${ran} s, ${execs} executions; last: ${stats}")
    if [ "${FUZZ_MERGE:-0}" = 1 ] && [ "$outcome" = ok ]; then
        merged="runs/$t/merged"
        rm -rf "$merged" && mkdir -p "$merged"
        if ! "target/x86_64-unknown-linux-gnu/release/$t" -set_cover_merge=1 -timeout=20 \
            "$merged" "corpus/$t" "runs/$t/corpus" >"runs/$t.merge.log" 2>&1; then
            echo "fuzz: merging $t failed; corpus/$t unchanged (runs/$t.merge.log)" >&2
            status=1
            continue
        fi
        find "corpus/$t" -type f ! -name 'seed-*' ! -name 'regress-*' -delete
        # libFuzzer names its files by their SHA-1: skip the kept ones.
        kept=$(find "corpus/$t" -type f -exec sha1sum {} + | cut -d' ' -f1)
        for f in "$merged"/*; do
            [ -e "$f" ] || continue
            grep -qx "$(basename "$f")" <<<"$kept" || cp "$f" "corpus/$t/"
        done
        echo "fuzz: corpus/$t now $(find "corpus/$t" -type f | wc -l) files," \
            "$(du -sb "corpus/$t" | cut -f1) bytes" >&2
    fi
done
printf '%s\n' "${summary[@]}"
exit $status

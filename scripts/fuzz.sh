#!/usr/bin/env bash
# Coverage-guided fuzzing of switchd's fuzz targets (switchd/src/fuzz.rs)
# with AFL++ through cargo-afl, which works on the stable toolchain: rustc's
# own SanitizerCoverage pass instruments the code (-C passes=sancov-module,
# stable flags), no nightly and no -Z flag. See README "Fuzzing".
#
#   scripts/fuzz.sh [--time SECS] [--execs N] [TARGET...]
#       installs cargo-afl (and builds AFL++) if missing, builds the
#       instrumented targets (fuzz/, its own target dir), then fuzzes each
#       TARGET (default: all) in turn, from its seed corpus
#       fuzz/corpus/TARGET, for SECS seconds (default 60) or N executions,
#       whichever comes first; prints per target the executions, execs/s,
#       crashes and hangs, and exits 1 if anything crashed, naming each
#       crashing input and the command that reproduces it.
#   scripts/fuzz.sh --resume [--time SECS] [--execs N] [TARGET...]
#       the same, but carries on from the last run's queue and counters
#       (AFL_AUTORESUME): --execs N then counts the earlier executions too.
#   scripts/fuzz.sh --replay [TARGET...]
#       builds the targets without instrumentation and replays every seed,
#       every input the last runs kept and every crash through them.
#
# Findings go to $SWITCHD_FUZZ_OUT (default target/fuzz, not in git):
# target/fuzz/TARGET/default/{queue,crashes,hangs,fuzzer_stats}. A run
# starts afresh from the seeds unless --resume; the previous run's
# directory is kept as TARGET.prev if it had crashes or hangs. One
# afl-fuzz at a time, on one core, not pinned to it (AFL_NO_AFFINITY), so
# a build beside it still runs.
set -euo pipefail
cd "$(dirname "$0")/.."

ALL=(frame control tunnel bpdu lacpdu openflow flow_syntax)
secs=60
execs=""
replay=0
resume=0
targets=()
while (($#)); do
    case "$1" in
        --time) secs="$2"; shift 2 ;;
        --execs) execs="$2"; shift 2 ;;
        --replay) replay=1; shift ;;
        --resume) resume=1; shift ;;
        -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *)
            if [[ " ${ALL[*]} " != *" $1 "* ]]; then
                echo "fuzz.sh: unknown target $1 (targets: ${ALL[*]})" >&2
                exit 2
            fi
            targets+=("$1"); shift ;;
    esac
done
((${#targets[@]})) || targets=("${ALL[@]}")
out="${SWITCHD_FUZZ_OUT:-target/fuzz}"
manifest=fuzz/Cargo.toml

if ((replay)); then
    cargo build --release --manifest-path "$manifest" --bins
    status=0
    for t in "${targets[@]}"; do
        inputs=("fuzz/corpus/$t")
        for d in "$out/$t"/default/{queue,crashes,hangs} "$out/$t.prev"/default/{crashes,hangs}; do
            [ -d "$d" ] && inputs+=("$d")
        done
        "fuzz/target/release/$t" "${inputs[@]}" || status=1
    done
    exit $status
fi

# cargo-afl from crates.io; it builds AFL++ (bundled source, make + cc) at
# install, or on `cargo afl config --build` for a new rustc.
if ! cargo afl --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-afl"
    cargo install --locked cargo-afl
fi
cargo afl config --build >/dev/null 2>&1 || true

# Instrumented build, in its own target directory so that the replay build
# (fuzz/target/release) survives it.
CARGO_TARGET_DIR=fuzz/target/afl cargo afl build --release --features afl --manifest-path "$manifest" --bins

mkdir -p "$out"
for t in "${targets[@]}"; do
    dir="$out/$t"
    if ((!resume)) || [ ! -f "$dir/default/fuzzer_stats" ]; then
        if compgen -G "$dir/default/crashes/id*" >/dev/null || compgen -G "$dir/default/hangs/id*" >/dev/null; then
            rm -rf "$dir.prev"
            mv "$dir" "$dir.prev"
        fi
        rm -rf "$dir"
    fi
    limit=(-V "$secs")
    [ -n "$execs" ] && limit+=(-E "$execs")
    echo "fuzz.sh: $t for ${secs}s${execs:+ or $execs executions}"
    # -t 1000: an input that takes a second is a hang (the targets take
    # microseconds); AFL_SKIP_CPUFREQ, AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES:
    # a VM has no cpufreq governor and its core_pattern is not ours to change.
    # AFL++ reads a set AFL_AUTORESUME as on, whatever its value.
    resume_env=()
    ((resume)) && resume_env=(AFL_AUTORESUME=1)
    env AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
        AFL_NO_UI=1 AFL_QUIET=1 "${resume_env[@]}" \
        cargo afl fuzz -i "fuzz/corpus/$t" -o "$dir" -t 1000 "${limit[@]}" \
        -- "fuzz/target/afl/release/$t" >"$dir.log" 2>&1 || {
        echo "fuzz.sh: afl-fuzz failed for $t; its log:" >&2
        tail -20 "$dir.log" >&2
        exit 1
    }
done

status=0
printf '\n%-12s %12s %10s %8s %6s %8s\n' target executions execs/s crashes hangs seconds
for t in "${targets[@]}"; do
    s="$out/$t/default/fuzzer_stats"
    get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$s"; }
    # run_time and execs_done count earlier runs too when resumed.
    run=$(get run_time)
    done_=$(get execs_done)
    printf '%-12s %12s %10s %8s %6s %8s\n' "$t" "$done_" "$((done_ / (run > 0 ? run : 1)))" \
        "$(get saved_crashes)" "$(get saved_hangs)" "$run"
    [ "$(get saved_crashes)" = 0 ] || status=1
done
for t in "${targets[@]}"; do
    for f in "$out/$t"/default/crashes/id*; do
        [ -e "$f" ] || continue
        echo "CRASH $t: $f"
        echo "  reproduce: cargo run --release --manifest-path $manifest --bin $t -- '$f'"
    done
done
exit $status

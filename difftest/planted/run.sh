#!/bin/sh
# Plants each bug of difftest/planted/*.patch in the fast VM of a scratch copy of
# the repository, runs `muni difftest` for SECS seconds (default 60) with GC stress,
# and reports whether the run caught the bug and how long it took (the run stops
# at the first divergence, after shrinking it).
#
#   sh difftest/planted/run.sh            # from the repository root
#   SECS=30 sh difftest/planted/run.sh
#   sh difftest/planted/run.sh 08 15      # only the patches whose names start so
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${SECS:-60}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# The working tree as it is, without build products.
tar -C "$root" --exclude=./target --exclude=./fuzz/target --exclude=./difftest-out -cf - . | tar -C "$scratch" -xf -
export CARGO_TARGET_DIR="$root/target/planted"
caught=0
total=0
for p in "$root"/difftest/planted/*.patch; do
    name=$(basename "$p" .patch)
    if [ $# -gt 0 ]; then
        want=no
        for prefix in "$@"; do
            case "$name" in "$prefix"*) want=yes ;; esac
        done
        [ "$want" = yes ] || continue
    fi
    total=$((total + 1))
    (cd "$scratch" && git apply "$p") || { echo "$name: the patch does not apply"; continue; }
    if ! cargo build --release -q --manifest-path "$scratch/Cargo.toml" --bin muni 2>/dev/null; then
        echo "$name: does not build"
        (cd "$scratch" && git apply -R "$p")
        continue
    fi
    start=$(date +%s%N)
    timeout $((secs + 120)) "$CARGO_TARGET_DIR/release/muni" difftest --time "$secs" --gc-stress \
        --seed 1 --out "$scratch/out-$name" > "$scratch/$name.log" 2>&1
    rc=$?
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    took="$((ms / 1000)).$((ms % 1000 / 100))"
    if [ "$rc" -eq 1 ] && grep -q DIVERGENCE "$scratch/$name.log"; then
        caught=$((caught + 1))
        why=$(grep -m1 DIVERGENCE "$scratch/$name.log" | cut -c1-110)
        printf '%-36s caught in %5s s  %s\n' "$name" "$took" "$why"
    elif [ "$rc" -gt 128 ] && [ -s "$scratch/out-$name/crash.uir" ]; then
        caught=$((caught + 1))
        printf '%-36s caught in %5s s  the fast VM crashed (signal %s); the program is in crash.uir\n' \
            "$name" "$took" "$((rc - 128))"
    else
        printf '%-36s MISSED (%s s, exit %s)\n' "$name" "$secs" "$rc"
    fi
    (cd "$scratch" && git apply -R "$p")
done
echo "$caught of $total planted bugs caught"
[ "$caught" -eq "$total" ]

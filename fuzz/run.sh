#!/usr/bin/env bash
# Fuzzes the scene parser, --set parsing and the Gmsh reader (tests/fuzz.rs) for a bounded time:
# each target runs with up to a million proptest cases for SECONDS (default 60) seconds.
# A failure is saved by proptest under proptest-regressions/fuzz.txt (commit it: every later run
# replays it first) and ends this script with a non-zero status; turn it into a named regression
# test in tests/fuzz.rs when it is fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
cargo test --release --test fuzz --no-run
status=0
for target in scene_parser_survives_mutated_scenes scene_parser_survives_random_text \
    set_overrides_survive_any_key_and_value sweep_and_compare_arguments_survive_anything \
    msh_reader_survives_mutated_meshes msh_reader_survives_random_sections; do
    echo "== $target (${seconds} s)"
    set +e
    PROPTEST_CASES=1000000 timeout "$seconds" cargo test -q --release --test fuzz -- --exact "$target" >"/tmp/znfield-fuzz-$target.log" 2>&1
    rc=$?
    set -e
    case $rc in
        0 | 124) echo "   no failure ($( [ $rc = 124 ] && echo 'time limit reached' || echo 'all cases ran'))" ;;
        *) echo "   FAILED: see /tmp/znfield-fuzz-$target.log"; tail -30 "/tmp/znfield-fuzz-$target.log"; status=1 ;;
    esac
done
exit $status

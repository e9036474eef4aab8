#!/usr/bin/env bash
# The GPU figures of docs/performance.md on a machine with a hardware GPU and no Rust toolchain
# (the workplace's device machines), in two steps:
#
#   bash benches/gpu_device.sh prepare   here: builds znfield, the criterion kernels and transport
#                                        benches and the gpu_parity tests into .devicebin/, downloads the Vulkan
#                                        loader packages into .gl/ (network needed once), and
#                                        keeps both out of git (.git/info/exclude)
#   bash benches/gpu_device.sh run       there, from the repository root with .devicebin and .gl
#                                        carried: unpacks the loader, finds the NVIDIA driver,
#                                        then writes into $OUT (default /tmp/znfield-gpu):
#                                        devices.txt, gpu_parity.txt (the parity tests on the
#                                        hardware), bench_amg.md and bench_jacobi.md (`znfield
#                                        bench --backend gpu`, per-kernel timestamps included)
#                                        criterion.txt (`cargo bench --bench kernels`) and
#                                        criterion_transport.txt (`--bench transport`).
#
# Environment for `run`: SIZES (mesh.refine list, default 0.5,1,2,3: about 15k to 1.5e6 unknowns),
# BENCH_REFINE (the criterion mesh, default 2), SKIP_CRITERION=1, SKIP_PARITY=1.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=.devicebin

prepare() {
  set -e
  cargo build --release --quiet
  local artifacts
  artifacts="$( (cargo bench --bench kernels --bench transport --no-run --message-format=json-render-diagnostics;
                 cargo test --release --test gpu_parity --no-run --message-format=json-render-diagnostics) 2>/dev/null)"
  mkdir -p "$bin"
  cp target/release/znfield "$bin/znfield"
  for name in kernels transport gpu_parity; do
    local exe
    exe="$(printf '%s\n' "$artifacts" | python3 -c '
import json, sys
name = sys.argv[1]
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == name:
        print(m["executable"])' "$name" | tail -1)"
    [ -n "$exe" ] || { echo "error: no executable for $name" >&2; exit 1; }
    cp "$exe" "$bin/$name"
  done
  for dir in /.devicebin/ /.gl/; do
    grep -qx "$dir" .git/info/exclude 2>/dev/null || echo "$dir" >> .git/info/exclude
  done
  if [ ! -d .gl ] || [ -z "$(ls .gl/*.deb 2>/dev/null)" ]; then
    mkdir -p .gl /tmp/amd64/partial
    local o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
    # shellcheck disable=SC2086
    apt-get $o update -qq && (cd .gl && apt-get $o download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  fi
  du -sh "$bin" .gl
  echo "carry .devicebin and .gl; command: bash benches/gpu_device.sh run"
}

run() {
  local out="${OUT:-/tmp/znfield-gpu}"
  mkdir -p "$out"
  [ -x "$bin/znfield" ] || { echo "error: $bin/znfield missing (run 'prepare' first and carry $bin)" >&2; exit 1; }
  if [ -d .gl ]; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if ! "$bin/znfield" devices 2>&1 | grep -qi nvidia && [ -f "$icd" ]; then
    export VK_DRIVER_FILES="$icd"
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  fi
  { date -u; "$bin/znfield" devices; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1; } > "$out/devices.txt" 2>&1
  cat "$out/devices.txt"
  if [ "${SKIP_PARITY:-0}" != 1 ]; then
    ZNFIELD_REQUIRE_GPU=1 "$bin/gpu_parity" --test-threads=1 > "$out/gpu_parity.txt" 2>&1
    tail -3 "$out/gpu_parity.txt"
  fi
  local sizes="${SIZES:-0.5,1,2,3}"
  "$bin/znfield" bench --backend gpu --sizes "$sizes" > "$out/bench_amg.md" 2>&1
  "$bin/znfield" bench --backend gpu --preconditioner jacobi --sizes "$sizes" > "$out/bench_jacobi.md" 2>&1
  cat "$out/bench_amg.md"
  if [ "${SKIP_CRITERION:-0}" != 1 ]; then
    ZNFIELD_BENCH_REFINE="${BENCH_REFINE:-2}" "$bin/kernels" --bench --quick > "$out/criterion.txt" 2>&1
    grep -E "^hemisphere|time:|GPU adapter|multigrid levels" "$out/criterion.txt"
    ZNFIELD_BENCH_REFINE="${BENCH_REFINE:-2}" "$bin/transport" --bench --quick > "$out/criterion_transport.txt" 2>&1
    grep -E "^hemisphere|time:|GPU|transport system|levels" "$out/criterion_transport.txt"
  fi
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: bash benches/gpu_device.sh prepare|run" >&2; exit 2 ;;
esac

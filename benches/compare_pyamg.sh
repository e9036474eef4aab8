#!/usr/bin/env bash
# znfield's CPU multigrid against scikit-fem + pyamg (smoothed-aggregation CG) on the same
# imported Gmsh mesh and the same primary problem, to a relative residual of 1e-8, in one run.
# Installs the Python packages into target/pyamg-venv (network needed once); not part of the tests.
# Usage: bash benches/compare_pyamg.sh [SCENE]      a scene with mesh_file (default scenes/hemisphere_gmsh.json)
#        bash benches/compare_pyamg.sh --refine R   the hemisphere tip scene meshed by znfield at
#                                                   mesh.refine=R, exported with `znfield mesh --msh`
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
if [ "${1:-}" = "--refine" ]; then
  refine="${2:?--refine needs a value}"
  dir="target/pyamg-mesh-$refine"
  ./target/release/znfield mesh scenes/hemisphere_primary.json --quiet --msh --set "mesh.refine=$refine" --out "$dir"
  cat > "$dir/scene.json" <<JSON
{ "name": "hemisphere_exported_$refine",
  "geometry": { "mesh_file": "mesh.msh",
    "boundaries": { "electrode": ["electrode"], "bulk": ["bulk"], "insulating": ["insulating"] },
    "regions": { "electrolyte": ["electrolyte"] } },
  "physics": { "model": "primary", "conductivity_S_m": 5.0 },
  "operation": { "mode": "current", "mean_current_density_A_m2": -100.0 } }
JSON
  scene="$dir/scene.json"
  mesh="$dir/mesh.msh"
  groups=(electrode bulk)
else
  scene="${1:-scenes/hemisphere_gmsh.json}"
  mesh="$(python3 -c 'import json,os,sys; s=sys.argv[1]; print(os.path.join(os.path.dirname(s), json.load(open(s))["geometry"]["mesh_file"]))' "$scene")"
  groups=(electrode top)
fi
venv=target/pyamg-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "scikit-fem==12.0.2" "pyamg==5.4.1" "meshio==5.3.5" "numpy<3"
fi
for run in 1 2 3; do
  ours="$(./target/release/znfield bench --quiet --json --scene "$scene" --sizes 1)"
  theirs="$("$venv/bin/python" benches/pyamg_compare.py "$mesh" "${groups[@]}")"
  python3 - "$ours" "$theirs" <<'PY'
import json, sys
ours = json.loads(sys.argv[1])["rows"][0]
theirs = json.loads(sys.argv[2])
print(f"unknowns: znfield {ours['unknowns']}, scikit-fem {theirs['unknowns']}")
print("| | assembly s | setup s | iterations | solve s | assembly+setup+solve s |")
print("|---|---|---|---|---|---|")
print(f"| znfield (CPU, multigrid CG) | {ours['assembly_s']:.4f} | {ours['setup_s']:.4f} | {ours['iterations']} | {ours['solve_s']:.4f} | {ours['assembly_s'] + ours['setup_s'] + ours['solve_s']:.4f} |")
print(f"| scikit-fem + pyamg SA-CG | {theirs['assembly_s']:.4f} | {theirs['setup_s']:.4f} | {theirs['iterations']} | {theirs['solve_s']:.4f} | {theirs['assembly_setup_solve_s']:.4f} |")
print(f"versions: {theirs['versions']}")
PY
done

#!/usr/bin/env bash
# The built-in mesher against Gmsh's HXT (4.13.1, parallel Delaunay, default optimisation) on the
# hemisphere box of scenes/hemisphere_primary.json, both with every core of this machine: the
# tetrahedra, the time, tetrahedra per second and the dihedral angle range, in one run.
# znfield's time is the whole `znfield mesh` command (meshing, quality report, mesh.vtu); Gmsh's
# is generate(3) alone (surface, volume, optimisation; no file written). The size fields have the
# same shape (fine at the hemisphere and the plane, graded by 1.25, see benches/gmsh_compare.py).
# Installs gmsh into target/gmsh-venv once (network needed then); not part of the tests.
# Usage: bash benches/compare_gmsh.sh [REFINE] [GMSH_SCALE]
#        defaults 2 and 0.32: about 2.5M tetrahedra each
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
venv=target/gmsh-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "gmsh==4.13.1" "numpy<3"
fi
refine="${1:-2}"
scale="${2:-0.32}"
threads="$(nproc)"
out=target/compare-gmsh
rm -rf "$out"
start="$(date +%s.%N)"
./target/release/znfield mesh scenes/hemisphere_primary.json --quiet --set "mesh.refine=$refine" --out "$out"
end="$(date +%s.%N)"
theirs="$("$venv/bin/python" benches/gmsh_compare.py "$scale" "$threads")"
python3 - "$out/mesh_report.json" "$start" "$end" "$theirs" "$refine" "$scale" "$threads" <<'PY'
import json, sys
ours = json.load(open(sys.argv[1]))
seconds = float(sys.argv[3]) - float(sys.argv[2])
theirs = json.loads(sys.argv[4])
print(f"{sys.argv[7]} threads each")
print("| mesher | tetrahedra | nodes | s | tetrahedra/s | min dihedral deg | max dihedral deg |")
print("|---|---|---|---|---|---|---|")
print(f"| znfield mesh (refine {sys.argv[5]}) | {ours['tets']:,} | {ours['nodes']:,} | {seconds:.2f} | {ours['tets'] / seconds:,.0f} | "
      f"{ours['min_dihedral_deg']:.1f} | {ours['max_dihedral_deg']:.1f} |")
print(f"| Gmsh {theirs['gmsh']} HXT (scale {sys.argv[6]}) | {theirs['tets']:,} | {theirs['nodes']:,} | {theirs['mesh_s']:.2f} "
      f"(surface {theirs['surface_s']:.2f}) | {theirs['tets'] / theirs['mesh_s']:,.0f} | {theirs['min_dihedral_deg']:.1f} | "
      f"{theirs['max_dihedral_deg']:.1f} |")
PY

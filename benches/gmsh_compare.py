"""Gmsh's HXT mesher on the hemisphere box of scenes/hemisphere_primary.json (R = 1 um on the
plane z = 0, box half-width 10 um, height 10 um; lengths here in micrometres), for the
side-by-side meshing benchmark in benches/compare_gmsh.sh.

The size field follows znfield's in shape: `near` on the hemisphere, `plane` on the electrode
plane, growing by `grading - 1` per unit distance, at most `far`; `--scale` multiplies all sizes
(the element count goes as scale^-3). Prints one JSON object: tetrahedra, nodes, the time of
gmsh.model.mesh.generate(3) (surface, volume and the default optimisation pass), the minimum and
maximum dihedral angles (degrees, from the node coordinates) and the thread count.

Usage: python gmsh_compare.py SCALE THREADS [OPTIMIZE (1, the default, or 0)]
"""
import json
import sys
import time

import gmsh
import numpy as np


def dihedral_range(nodes, tets):
    p = nodes[tets]  # (T, 4, 3)
    lo, hi = 180.0, 0.0
    # The dihedral angle at edge (a, b) is the angle between the faces (a, b, c) and (a, b, d).
    for a, b, c, d in [(0, 1, 2, 3), (0, 2, 1, 3), (0, 3, 1, 2), (1, 2, 0, 3), (1, 3, 0, 2), (2, 3, 0, 1)]:
        e = p[:, b] - p[:, a]
        n1 = np.cross(e, p[:, c] - p[:, a])
        n2 = np.cross(e, p[:, d] - p[:, a])
        cos = np.einsum("ij,ij->i", n1, n2) / (np.linalg.norm(n1, axis=1) * np.linalg.norm(n2, axis=1))
        angle = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
        lo, hi = min(lo, angle.min()), max(hi, angle.max())
    return float(lo), float(hi)


def main():
    scale, threads = float(sys.argv[1]), int(sys.argv[2])
    near, plane, far, grading = 0.08 * scale, 0.25 * scale, 2.0 * scale, 1.25
    gmsh.initialize()
    gmsh.option.setNumber("General.Verbosity", 1)
    gmsh.option.setNumber("General.NumThreads", threads)
    gmsh.option.setNumber("Mesh.MaxNumThreads3D", threads)
    gmsh.option.setNumber("Mesh.Algorithm3D", 10)  # HXT
    gmsh.option.setNumber("Mesh.Optimize", int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
    occ = gmsh.model.occ
    box = occ.addBox(-10, -10, 0, 20, 20, 10)
    ball = occ.addSphere(0, 0, 0, 1)
    occ.cut([(3, box)], [(3, ball)])
    occ.synchronize()
    # Linear growth away from the hemisphere and from the plane: Distance + Threshold fields
    # (Gmsh's own, much faster to evaluate than a MathEval formula), combined by Min.
    slope = grading - 1.0
    mesh_field = gmsh.model.mesh.field
    surfaces = gmsh.model.getEntities(2)
    def graded(surface_tags, size):
        distance = mesh_field.add("Distance")
        mesh_field.setNumbers(distance, "SurfacesList", surface_tags)
        mesh_field.setNumber(distance, "Sampling", 40)
        threshold = mesh_field.add("Threshold")
        mesh_field.setNumber(threshold, "InField", distance)
        mesh_field.setNumber(threshold, "SizeMin", size)
        mesh_field.setNumber(threshold, "SizeMax", far)
        mesh_field.setNumber(threshold, "DistMin", 0.0)
        mesh_field.setNumber(threshold, "DistMax", (far - size) / slope)
        return threshold
    def bounds(tag):
        return gmsh.model.getBoundingBox(2, tag)
    cap = [t for _, t in surfaces if bounds(t)[3] <= 1.0 + 1e-6 and bounds(t)[5] > 1e-6]
    floor = [t for _, t in surfaces if bounds(t)[5] <= 1e-6]
    field = mesh_field.add("Min")
    mesh_field.setNumbers(field, "FieldsList", [graded(cap, near), graded(floor, plane)])
    gmsh.model.mesh.field.setAsBackgroundMesh(field)
    start = time.perf_counter()
    gmsh.model.mesh.generate(2)
    surface_s = time.perf_counter() - start
    gmsh.model.mesh.generate(3)
    seconds = time.perf_counter() - start
    tags, coords, _ = gmsh.model.mesh.getNodes()
    nodes = np.zeros((int(tags.max()) + 1, 3))
    nodes[tags.astype(np.int64)] = coords.reshape(-1, 3)
    _, elements = gmsh.model.mesh.getElementsByType(4)
    tets = elements.astype(np.int64).reshape(-1, 4)
    lo, hi = dihedral_range(nodes, tets)
    print(json.dumps({"tets": len(tets), "nodes": len(tags), "mesh_s": seconds, "surface_s": surface_s, "min_dihedral_deg": lo,
                      "max_dihedral_deg": hi, "threads": threads, "gmsh": gmsh.__version__}))
    gmsh.finalize()


main()

"""The reference the solver-performance issue measures znfield against: scikit-fem assembly and
pyamg smoothed-aggregation CG on the same imported Gmsh mesh, to the same tolerance.

Reads the mesh with meshio, assembles the P1 Laplacian with scikit-fem, fixes the potential to 1
on the electrode's physical surface and 0 on the bulk one (names from the command line, default
`electrode` and `top`: the primary problem `znfield bench` solves),
builds pyamg's smoothed-aggregation hierarchy and runs its CG to a relative residual of 1e-8.
Prints one JSON object with the sizes, the iterations and the times (s). Run through
benches/compare_pyamg.sh, which installs the packages into a local venv.
"""

import json
import sys
import time

import meshio
import numpy as np
import pyamg
import skfem
from skfem.models.poisson import laplace


def main(path, electrode="electrode", bulk="top"):
    t0 = time.perf_counter()
    m = meshio.read(path)
    tets = np.vstack([b.data for b in m.cells if b.type == "tetra"])
    mesh = skfem.MeshTet(m.points.T.copy(), tets.T.copy())
    tags = {name: ids[0] for name, ids in m.field_data.items()}
    surface = {}
    for block, physical in zip(m.cells, m.cell_data["gmsh:physical"]):
        if block.type == "triangle":
            for name in (electrode, bulk):
                picked = block.data[physical == tags[name]]
                surface[name] = np.union1d(surface.get(name, np.empty(0, int)), picked.ravel())
    read_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    basis = skfem.Basis(mesh, skfem.ElementTetP1())
    a = skfem.asm(laplace, basis).tocsr()
    x = np.zeros(a.shape[0])
    x[surface[electrode]] = 1.0
    fixed = np.union1d(surface[electrode], surface[bulk])
    a_free, b_free, _, free = skfem.condense(a, x=x, D=fixed)
    assembly_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    ml = pyamg.smoothed_aggregation_solver(a_free.tocsr())
    setup_s = time.perf_counter() - t0

    residuals = []
    t0 = time.perf_counter()
    u = ml.solve(b_free, tol=1e-8, accel="cg", residuals=residuals, maxiter=1000)
    solve_s = time.perf_counter() - t0
    relative = np.linalg.norm(b_free - a_free @ u) / np.linalg.norm(b_free)

    print(json.dumps({
        "unknowns": int(a_free.shape[0]),
        "nonzeros": int(a_free.nnz),
        "read_s": read_s,
        "assembly_s": assembly_s,
        "setup_s": setup_s,
        "iterations": len(residuals) - 1,
        "solve_s": solve_s,
        "relative_residual": float(relative),
        "assembly_setup_solve_s": assembly_s + setup_s + solve_s,
        "versions": {"scikit-fem": skfem.__version__, "pyamg": pyamg.__version__, "numpy": np.__version__},
    }))


if __name__ == "__main__":
    main(*sys.argv[1:4])

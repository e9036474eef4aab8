// Quarter of the hemisphere validation case (scenes/hemisphere_primary.json) for Gmsh import:
// a conducting hemisphere of radius 1 um on a flat electrode, bulk boundary 10 um above, box
// half-width 10 um. By symmetry only x >= 0, y >= 0 is meshed; the planes x = 0 and y = 0 are
// symmetry (insulating) planes. Units: micrometres (scene: "length_unit_m": 1e-6).
//
//   gmsh -3 hemisphere.geo -format msh41 -o hemisphere.msh
// Small copies for the reader tests (same mesh, three encodings):
//   gmsh -3 hemisphere.geo -clscale 4 -format msh41 -o hemisphere_coarse.msh
//   gmsh -3 hemisphere.geo -clscale 4 -format msh41 -bin -o hemisphere_coarse_binary.msh
//   gmsh -3 hemisphere.geo -clscale 4 -format msh22 -o hemisphere_coarse_v22.msh
SetFactory("OpenCASCADE");
R = 1.0;
L = 10.0;
Box(1) = {0, 0, 0, L, L, L};
Sphere(2) = {0, 0, 0, R};
BooleanDifference(3) = { Volume{1}; Delete; }{ Volume{2}; Delete; };

e = 1e-3;
cap() = Surface In BoundingBox{-e, -e, -e, R + e, R + e, R + e};
floor() = Surface In BoundingBox{-e, -e, -e, L + e, L + e, e};
top() = Surface In BoundingBox{-e, -e, L - e, L + e, L + e, L + e};
sx0() = Surface In BoundingBox{-e, -e, -e, e, L + e, L + e};
sy0() = Surface In BoundingBox{-e, -e, -e, L + e, e, L + e};
sx1() = Surface In BoundingBox{L - e, -e, -e, L + e, L + e, L + e};
sy1() = Surface In BoundingBox{-e, L - e, -e, L + e, L + e, L + e};

Physical Surface("electrode") = {cap(), floor()};
Physical Surface("top") = {top()};
Physical Surface("sides") = {sx0(), sy0(), sx1(), sy1()};
Physical Volume("electrolyte") = {3};

// Element size 0.05 um on the hemisphere, growing by 0.1 um per um of distance, at most 1.5 um.
Field[1] = MathEval;
Field[1].F = "0.05 + 0.1 * (Sqrt(x * x + y * y + z * z) - 1.0)";
Background Field = 1;
Mesh.MeshSizeMax = 1.5;
Mesh.MeshSizeExtendFromBoundary = 0;
Mesh.MeshSizeFromPoints = 0;
Mesh.MeshSizeFromCurvature = 0;
Mesh.ElementOrder = 1;
Mesh.Optimize = 1;

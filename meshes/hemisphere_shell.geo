// Validation mesh for steady diffusion to a hemispherical electrode on an insulating plane
// (znfield validate, case hemisphere_diffusion): the region between the hemisphere of radius
// R = 1 um (electrode) and a concentric hemisphere of radius Ro = 10 um (bulk), over the plane
// z = 0 (insulating). By symmetry only x >= 0, y >= 0 is meshed; x = 0 and y = 0 are symmetry
// planes (insulating). Units: micrometres.
//
//   gmsh -3 hemisphere_shell.geo -format msh41 -o hemisphere_shell.msh
SetFactory("OpenCASCADE");
R = 1.0;
Ro = 10.0;
Sphere(1) = {0, 0, 0, Ro};
Sphere(2) = {0, 0, 0, R};
Box(3) = {0, 0, 0, Ro + 1, Ro + 1, Ro + 1};
BooleanIntersection(4) = { Volume{1}; Delete; }{ Volume{3}; Delete; };
BooleanDifference(5) = { Volume{4}; Delete; }{ Volume{2}; Delete; };

e = 1e-3;
inner() = Surface In BoundingBox{-e, -e, -e, R + e, R + e, R + e};
all() = Surface In BoundingBox{-e, -e, -e, Ro + e, Ro + e, Ro + e};
floor() = Surface In BoundingBox{-e, -e, -e, Ro + e, Ro + e, e};
sx0() = Surface In BoundingBox{-e, -e, -e, e, Ro + e, Ro + e};
sy0() = Surface In BoundingBox{-e, -e, -e, Ro + e, e, Ro + e};
outer() = all();
outer() -= {inner(), floor(), sx0(), sy0()};

Physical Surface("electrode") = {inner()};
Physical Surface("bulk") = {outer()};
Physical Surface("insulating") = {floor(), sx0(), sy0()};
Physical Volume("electrolyte") = {5};

// Element size 0.06 um on the electrode, growing by 0.12 um per um of distance.
Field[1] = MathEval;
Field[1].F = "0.06 + 0.12 * (Sqrt(x * x + y * y + z * z) - 1.0)";
Background Field = 1;
Mesh.MeshSizeMax = 1.2;
Mesh.MeshSizeExtendFromBoundary = 0;
Mesh.MeshSizeFromPoints = 0;
Mesh.MeshSizeFromCurvature = 0;
Mesh.ElementOrder = 1;
Mesh.Optimize = 1;

//! VTK XML UnstructuredGrid (.vtu) writer with a raw binary appended payload (UInt64 headers,
//! little endian), which ParaView reads directly.

use std::fmt::Write as _;

use glam::DVec3;

/// One data array attached to points or cells.
pub enum Array<'a> {
    /// Scalars, Float64.
    Scalar(&'a str, &'a [f64]),
    /// 3-vectors, Float64.
    Vector(&'a str, &'a [DVec3]),
    /// Integer ids, Int32.
    Int(&'a str, &'a [i32]),
}

/// VTK cell type of a linear cell with `nodes` nodes: 5 triangle, 10 tetrahedron.
fn vtk_type(nodes: usize) -> u8 {
    match nodes {
        3 => 5,
        4 => 10,
        n => unreachable!("no linear VTK cell with {n} nodes is written"),
    }
}

/// Serialises an unstructured grid of triangles and/or tetrahedra (the cell type follows from
/// the number of nodes of each cell).
pub fn encode(points: &[DVec3], cells: &[Vec<u32>], point_data: &[Array], cell_data: &[Array]) -> Vec<u8> {
    let mut xml = String::new();
    let mut blob: Vec<u8> = Vec::new();
    let mut append = |bytes: Vec<u8>| -> usize {
        let offset = blob.len();
        blob.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        blob.extend_from_slice(&bytes);
        offset
    };
    let f64s = |v: &mut dyn Iterator<Item = f64>| -> Vec<u8> { v.flat_map(|x| x.to_le_bytes()).collect() };

    let _ = writeln!(xml, "<?xml version=\"1.0\"?>");
    let _ =
        writeln!(xml, "<VTKFile type=\"UnstructuredGrid\" version=\"1.0\" byte_order=\"LittleEndian\" header_type=\"UInt64\">");
    let _ = writeln!(xml, "  <UnstructuredGrid>");
    let _ = writeln!(xml, "    <Piece NumberOfPoints=\"{}\" NumberOfCells=\"{}\">", points.len(), cells.len());
    let off = append(f64s(&mut points.iter().flat_map(|p| [p.x, p.y, p.z])));
    let _ = writeln!(xml, "      <Points>\n        <DataArray type=\"Float64\" NumberOfComponents=\"3\" format=\"appended\" offset=\"{off}\"/>\n      </Points>");
    let conn: Vec<u8> = cells.iter().flatten().flat_map(|&n| (n as i64).to_le_bytes()).collect();
    let mut acc = 0i64;
    let offsets: Vec<u8> = cells
        .iter()
        .flat_map(|c| {
            acc += c.len() as i64;
            acc.to_le_bytes()
        })
        .collect();
    let types: Vec<u8> = cells.iter().map(|c| vtk_type(c.len())).collect();
    let (o1, o2, o3) = (append(conn), append(offsets), append(types));
    let _ = writeln!(xml, "      <Cells>");
    let _ = writeln!(xml, "        <DataArray type=\"Int64\" Name=\"connectivity\" format=\"appended\" offset=\"{o1}\"/>");
    let _ = writeln!(xml, "        <DataArray type=\"Int64\" Name=\"offsets\" format=\"appended\" offset=\"{o2}\"/>");
    let _ = writeln!(xml, "        <DataArray type=\"UInt8\" Name=\"types\" format=\"appended\" offset=\"{o3}\"/>");
    let _ = writeln!(xml, "      </Cells>");
    for (tag, arrays) in [("PointData", point_data), ("CellData", cell_data)] {
        let _ = writeln!(xml, "      <{tag}>");
        for a in arrays {
            let (name, ty, comps, bytes) = match a {
                Array::Scalar(n, v) => (*n, "Float64", 1, f64s(&mut v.iter().copied())),
                Array::Vector(n, v) => (*n, "Float64", 3, f64s(&mut v.iter().flat_map(|p| [p.x, p.y, p.z]))),
                Array::Int(n, v) => (*n, "Int32", 1, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            };
            let off = append(bytes);
            let _ = writeln!(xml, "        <DataArray type=\"{ty}\" Name=\"{name}\" NumberOfComponents=\"{comps}\" format=\"appended\" offset=\"{off}\"/>");
        }
        let _ = writeln!(xml, "      </{tag}>");
    }
    let _ = writeln!(xml, "    </Piece>\n  </UnstructuredGrid>\n  <AppendedData encoding=\"raw\">");
    let mut out = xml.into_bytes();
    out.extend_from_slice(b"   _");
    out.extend_from_slice(&blob);
    out.extend_from_slice(b"\n  </AppendedData>\n</VTKFile>\n");
    out
}

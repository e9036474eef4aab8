//! Gmsh mesh import: MSH 4.1 (ASCII and binary) and MSH 2.2 (ASCII).
//!
//! Only what a P1 solve needs is read: nodes, linear tetrahedra (type 4) and triangles (type 2),
//! and the physical groups they belong to (by name, from `$PhysicalNames`). Points and lines
//! (types 15 and 1) are skipped; any other element type is an error naming the element. In MSH 4.1
//! an element belongs to the physical groups of its entity (from `$Entities`); in MSH 2.2 its first
//! tag is its physical group.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use glam::DVec3;

use crate::error::{Error, Result};

/// Fewest bytes a node record takes in any encoding (ASCII `1 0 0 0` and a newline).
const MIN_NODE_BYTES: usize = 8;
/// Fewest bytes an element record takes (ASCII `1 15 0 1` and a newline, a point).
const MIN_ELEMENT_BYTES: usize = 9;

/// The physical group tags of an element (possibly none), shared by all elements of an entity.
pub type Groups = Arc<[i32]>;

/// Raw contents of a MSH file, with node ids resolved to indices into `nodes`.
#[derive(Debug, Clone, PartialEq)]
pub struct MshFile {
    /// Node coordinates in file units.
    pub nodes: Vec<DVec3>,
    /// Linear tetrahedra with the physical group tags of each, and the element id.
    pub tets: Vec<([u32; 4], Groups, u64)>,
    /// Triangles with their physical group tags and element id.
    pub triangles: Vec<([u32; 3], Groups, u64)>,
    /// Physical group (dimension, tag) -> name.
    pub physical_names: HashMap<(i32, i32), String>,
}

/// Reads a MSH file (format detected from `$MeshFormat`) of at most `max_bytes` bytes (`why`:
/// where that limit comes from, for the message).
pub fn read(path: &Path, max_bytes: u64, why: &str) -> Result<MshFile> {
    let bytes = crate::input::read_bounded(path, "mesh file", max_bytes, why)?;
    parse(&bytes).map_err(|msg| Error::input(format!("{}: {msg}", path.display())))
}

/// Parses MSH bytes; errors are messages without the file name.
pub fn parse(bytes: &[u8]) -> std::result::Result<MshFile, String> {
    let mut r = Reader { bytes, pos: 0 };
    // Whatever file was named, its contents are not echoed until it is known to be a MSH file.
    r.expect_line("$MeshFormat").map_err(|_| "not a Gmsh MSH file (it does not begin with `$MeshFormat`)".to_string())?;
    let header = r.line()?;
    let fields: Vec<&str> = header.split_whitespace().collect();
    let (version, binary) = match fields.as_slice() {
        [v, ft, ds] => {
            if *ds != "8" {
                return Err(format!("$MeshFormat: data size {ds} is not supported (only 8-byte size_t)"));
            }
            (v.to_string(), *ft == "1")
        }
        _ => return Err(format!("$MeshFormat: malformed header line `{header}`")),
    };
    if binary {
        let one = r.i32_bin()?;
        if one != 1 {
            return Err("binary MSH written with the other byte order is not supported".into());
        }
        r.skip_newline();
    }
    r.expect_line("$EndMeshFormat")?;
    let v4 = match version.as_str() {
        "4.1" => true,
        "2.2" if !binary => false,
        "2.2" => return Err("binary MSH 2.2 is not supported; save as MSH 4.1 (binary or ASCII) or 2.2 ASCII".into()),
        v => return Err(format!("MSH version {v} is not supported; save as MSH 4.1 or 2.2")),
    };
    let mut mesh = MshFile { nodes: Vec::new(), tets: Vec::new(), triangles: Vec::new(), physical_names: HashMap::new() };
    let mut entities: HashMap<(i32, i32), Groups> = HashMap::new();
    let mut node_index = NodeIndex::default();
    let mut raw_elements: Vec<RawElement> = Vec::new();
    while let Some(section) = r.next_section()? {
        match section.as_str() {
            "$PhysicalNames" => {
                let count_line = r.line()?;
                let n: usize =
                    count_line.parse().map_err(|_| format!("malformed $PhysicalNames count `{}`", truncate(&count_line)))?;
                for _ in 0..n {
                    let line = r.line()?;
                    let mut it = line.splitn(3, char::is_whitespace);
                    let dim: i32 = parse_field(it.next(), "physical group dimension", &line)?;
                    let tag: i32 = parse_field(it.next(), "physical group tag", &line)?;
                    let name = it.next().unwrap_or("").trim().trim_matches('"').to_string();
                    mesh.physical_names.insert((dim, tag), name);
                }
                r.expect_line("$EndPhysicalNames")?;
            }
            "$Entities" if v4 => {
                read_entities(&mut r, binary, &mut entities)?;
                r.expect_line("$EndEntities")?;
            }
            "$Nodes" => {
                if v4 {
                    read_nodes_v4(&mut r, binary, &mut mesh.nodes, &mut node_index)?;
                } else {
                    let n: usize = r.ascii_number("$Nodes count")?;
                    node_index.expect(r.plausible(n, MIN_NODE_BYTES));
                    mesh.nodes.reserve(r.plausible(n, MIN_NODE_BYTES));
                    for _ in 0..n {
                        let id: u64 = r.ascii_number("node id")?;
                        let p = DVec3::new(r.ascii_number("node x")?, r.ascii_number("node y")?, r.ascii_number("node z")?);
                        add_node(&mut mesh.nodes, &mut node_index, id, p)?;
                    }
                }
                r.expect_line("$EndNodes")?;
            }
            "$Elements" => {
                if v4 {
                    read_elements_v4(&mut r, binary, &entities, &mut raw_elements)?;
                } else {
                    let n: usize = r.ascii_number("$Elements count")?;
                    raw_elements.reserve(r.plausible(n, MIN_ELEMENT_BYTES));
                    // One shared group list per physical tag.
                    let mut groups: HashMap<i32, Groups> = HashMap::new();
                    for _ in 0..n {
                        let id: u64 = r.ascii_number("element id")?;
                        let ty: i32 = r.ascii_number("element type")?;
                        let ntags: usize = r.ascii_number("element tag count")?;
                        let mut physical = 0;
                        for k in 0..ntags {
                            let tag: i32 = r.ascii_number("element tag")?;
                            if k == 0 {
                                physical = tag;
                            }
                        }
                        let count = nodes_per_element(ty, id)?;
                        let mut nodes = [0u64; 4];
                        for node in &mut nodes[..count] {
                            *node = r.ascii_number("element node")?;
                        }
                        let groups = groups
                            .entry(physical)
                            .or_insert_with(|| if physical == 0 { Arc::from([]) } else { Arc::from([physical]) })
                            .clone();
                        raw_elements.push(RawElement { id, ty, nodes, groups });
                    }
                }
                r.expect_line("$EndElements")?;
            }
            other => r.skip_section(other)?,
        }
    }
    if mesh.nodes.is_empty() {
        return Err("no $Nodes section (truncated file?)".into());
    }
    for RawElement { id, ty, nodes, groups } in raw_elements {
        let index = |n: u64| node_index.get(n).ok_or_else(|| format!("element {id} refers to node {n}, which is not in $Nodes"));
        match ty {
            4 => mesh.tets.push(([index(nodes[0])?, index(nodes[1])?, index(nodes[2])?, index(nodes[3])?], groups, id)),
            2 => mesh.triangles.push(([index(nodes[0])?, index(nodes[1])?, index(nodes[2])?], groups, id)),
            _ => {}
        }
    }
    if mesh.tets.is_empty() {
        return Err("no linear tetrahedra (element type 4) in $Elements (truncated file, or a surface mesh?)".into());
    }
    Ok(mesh)
}

/// Nodes of supported element types; points and lines are read and dropped.
fn nodes_per_element(ty: i32, id: u64) -> std::result::Result<usize, String> {
    match ty {
        15 => Ok(1),
        1 => Ok(2),
        2 => Ok(3),
        4 => Ok(4),
        11 => Err(format!("element {id}: type 11 (10-node second-order tetrahedron) is not supported; export linear elements (Mesh.ElementOrder = 1)")),
        9 => Err(format!("element {id}: type 9 (6-node second-order triangle) is not supported; export linear elements (Mesh.ElementOrder = 1)")),
        t => Err(format!("element {id}: element type {t} is not supported (only points 15, lines 1, triangles 2 and tetrahedra 4)")),
    }
}

fn parse_field<T: std::str::FromStr>(field: Option<&str>, what: &str, line: &str) -> std::result::Result<T, String> {
    field.and_then(|f| f.parse().ok()).ok_or_else(|| format!("malformed {what} in `{line}`"))
}

fn read_entities(r: &mut Reader, binary: bool, out: &mut HashMap<(i32, i32), Groups>) -> std::result::Result<(), String> {
    let counts: Vec<usize> = (0..4).map(|_| r.size(binary, "$Entities count")).collect::<std::result::Result<_, _>>()?;
    for (dim, &count) in counts.iter().enumerate() {
        for _ in 0..count {
            let tag = r.int(binary, "entity tag")?;
            let coords = if dim == 0 { 3 } else { 6 };
            for _ in 0..coords {
                r.float(binary, "entity bounding box")?;
            }
            let nphys = r.size(binary, "entity physical tag count")?;
            let phys: Vec<i32> =
                (0..nphys).map(|_| r.int(binary, "entity physical tag")).collect::<std::result::Result<_, _>>()?;
            if dim > 0 {
                let nb = r.size(binary, "entity bounding count")?;
                for _ in 0..nb {
                    r.int(binary, "entity bounding tag")?;
                }
            }
            out.insert((dim as i32, tag), Arc::from(phys));
        }
    }
    if binary {
        r.skip_newline();
    }
    Ok(())
}

/// Appends node `id` at `p`: a non-finite coordinate or an id seen before is an error naming
/// the node.
fn add_node(nodes: &mut Vec<DVec3>, index: &mut NodeIndex, id: u64, p: DVec3) -> std::result::Result<(), String> {
    if !p.is_finite() {
        return Err(format!("node {id} has a coordinate that is not a finite number ({}, {}, {})", p.x, p.y, p.z));
    }
    if !index.insert(id, nodes.len() as u32) {
        return Err(format!("node id {id} appears twice in $Nodes"));
    }
    nodes.push(p);
    Ok(())
}

/// Node id -> index into the node list. Gmsh numbers nodes 1..n (or close), so ids below a
/// bound set from the node count live in a plain array; any others in a hash map.
#[derive(Default)]
struct NodeIndex {
    dense: Vec<u32>,
    /// Ids below this go into `dense` (grown on demand, never beyond it).
    dense_limit: usize,
    sparse: HashMap<u64, u32>,
}

impl NodeIndex {
    const NONE: u32 = u32::MAX;

    /// Makes room for ids up to about twice `count` (a count already held to the file's size).
    /// Only the first call sets the limit: ids already in the map must stay where `get` looks.
    fn expect(&mut self, count: usize) {
        if self.dense_limit == 0 {
            self.dense_limit = 2 * count + 1024;
        }
    }

    /// Records `id`; false (and nothing changed) if it was there already.
    fn insert(&mut self, id: u64, index: u32) -> bool {
        match usize::try_from(id).ok().filter(|&k| k < self.dense_limit) {
            Some(k) => {
                if k >= self.dense.len() {
                    self.dense.resize((k + 1).max(2 * self.dense.len()).min(self.dense_limit), Self::NONE);
                }
                let slot = &mut self.dense[k];
                let fresh = *slot == Self::NONE;
                if fresh {
                    *slot = index;
                }
                fresh
            }
            None => match self.sparse.entry(id) {
                std::collections::hash_map::Entry::Occupied(_) => false,
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(index);
                    true
                }
            },
        }
    }

    fn get(&self, id: u64) -> Option<u32> {
        match usize::try_from(id).ok().filter(|&k| k < self.dense_limit) {
            Some(k) => self.dense.get(k).copied().filter(|&i| i != Self::NONE),
            None => self.sparse.get(&id).copied(),
        }
    }
}

fn read_nodes_v4(r: &mut Reader, binary: bool, nodes: &mut Vec<DVec3>, index: &mut NodeIndex) -> std::result::Result<(), String> {
    let blocks = r.size(binary, "$Nodes block count")?;
    let total = r.size(binary, "$Nodes node count")?;
    r.size(binary, "$Nodes min tag")?;
    r.size(binary, "$Nodes max tag")?;
    // A count from the file is trusted only as far as the bytes left could hold it.
    nodes.reserve(r.plausible(total, MIN_NODE_BYTES));
    index.expect(r.plausible(total, MIN_NODE_BYTES));
    for _ in 0..blocks {
        r.int(binary, "node block dimension")?;
        r.int(binary, "node block entity")?;
        let parametric = r.int(binary, "node block parametric flag")?;
        if parametric != 0 {
            return Err("parametric node coordinates are not supported (save without Mesh.SaveParametric)".into());
        }
        let n = r.size(binary, "node block size")?;
        let mut tags: Vec<u64> = Vec::with_capacity(r.plausible(n, MIN_NODE_BYTES));
        for _ in 0..n {
            tags.push(r.size(binary, "node tag")? as u64);
        }
        for t in tags {
            let p = DVec3::new(r.float(binary, "node x")?, r.float(binary, "node y")?, r.float(binary, "node z")?);
            add_node(nodes, index, t, p)?;
        }
    }
    if binary {
        r.skip_newline();
    }
    Ok(())
}

/// An element as read, before its node ids are resolved: the first `nodes_per_element(ty)` of
/// `nodes` are used.
struct RawElement {
    id: u64,
    ty: i32,
    nodes: [u64; 4],
    groups: Groups,
}

fn read_elements_v4(
    r: &mut Reader,
    binary: bool,
    entities: &HashMap<(i32, i32), Groups>,
    out: &mut Vec<RawElement>,
) -> std::result::Result<(), String> {
    let blocks = r.size(binary, "$Elements block count")?;
    let total = r.size(binary, "$Elements element count")?;
    r.size(binary, "$Elements min tag")?;
    r.size(binary, "$Elements max tag")?;
    out.reserve(r.plausible(total, MIN_ELEMENT_BYTES));
    for _ in 0..blocks {
        let dim = r.int(binary, "element block dimension")?;
        let entity = r.int(binary, "element block entity")?;
        let ty = r.int(binary, "element block type")?;
        let n = r.size(binary, "element block size")?;
        let groups: Groups = entities.get(&(dim, entity)).cloned().unwrap_or_else(|| Arc::from([]));
        for _ in 0..n {
            let id = r.size(binary, "element tag")? as u64;
            let count = nodes_per_element(ty, id)?;
            let mut nodes = [0u64; 4];
            for node in &mut nodes[..count] {
                *node = r.size(binary, "element node")? as u64;
            }
            out.push(RawElement { id, ty, nodes, groups: groups.clone() });
        }
    }
    if binary {
        r.skip_newline();
    }
    Ok(())
}

/// Cursor over MSH bytes: line-oriented for section markers and ASCII data, little-endian
/// fixed-size reads for binary data.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    /// `count` items, at most one per byte left: a capacity to reserve that a corrupted count
    /// cannot blow up.
    /// A count from the file, trusted only as far as the bytes left could hold that many records
    /// of at least `record_bytes` bytes each (so a reservation never outgrows the file).
    fn plausible(&self, count: usize, record_bytes: usize) -> usize {
        count.min(self.bytes.len().saturating_sub(self.pos) / record_bytes.max(1))
    }
}

impl<'a> Reader<'a> {
    fn line(&mut self) -> std::result::Result<String, String> {
        if self.pos >= self.bytes.len() {
            return Err("unexpected end of file (truncated?)".into());
        }
        let end = self.bytes[self.pos..].iter().position(|&b| b == b'\n').map_or(self.bytes.len(), |e| self.pos + e);
        let text = String::from_utf8_lossy(&self.bytes[self.pos..end]).trim().to_string();
        self.pos = (end + 1).min(self.bytes.len().max(end));
        Ok(text)
    }

    fn expect_line(&mut self, want: &str) -> std::result::Result<(), String> {
        loop {
            let l = self.line().map_err(|_| format!("unexpected end of file before `{want}` (truncated?)"))?;
            if l.is_empty() {
                continue;
            }
            return if l == want { Ok(()) } else { Err(format!("expected `{want}`, found `{}`", truncate(&l))) };
        }
    }

    fn next_section(&mut self) -> std::result::Result<Option<String>, String> {
        loop {
            if self.pos >= self.bytes.len() {
                return Ok(None);
            }
            let l = self.line()?;
            if l.is_empty() {
                continue;
            }
            if l.starts_with('$') {
                return Ok(Some(l));
            }
            return Err(format!("expected a section marker ($Name), found `{}`", truncate(&l)));
        }
    }

    fn skip_section(&mut self, name: &str) -> std::result::Result<(), String> {
        let end = format!("$End{}", &name[1..]);
        let marker = end.as_bytes();
        match self.bytes[self.pos..].windows(marker.len()).position(|w| w == marker) {
            Some(at) => {
                self.pos += at;
                self.expect_line(&end)
            }
            None => Err(format!("section {name} has no {end} (truncated file?)")),
        }
    }

    fn token(&mut self, what: &str) -> std::result::Result<&'a str, String> {
        let bytes = self.bytes;
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        let start = self.pos;
        while self.pos < self.bytes.len() && !self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(format!("unexpected end of file while reading {what} (truncated?)"));
        }
        std::str::from_utf8(&bytes[start..self.pos]).map_err(|_| format!("non-text bytes while reading {what}"))
    }

    /// The next whitespace-separated token as a number (no allocation unless it is malformed).
    fn ascii_number<T: std::str::FromStr>(&mut self, what: &str) -> std::result::Result<T, String> {
        let t = self.token(what)?;
        t.parse().map_err(|_| {
            if t.starts_with('$') {
                format!("section ended early: found `{t}` while reading {what} (truncated?)")
            } else {
                format!("malformed {what}: `{}`", truncate(t))
            }
        })
    }

    fn take(&mut self, n: usize, what: &str) -> std::result::Result<&[u8], String> {
        if self.pos + n > self.bytes.len() {
            return Err(format!("unexpected end of file while reading {what} (truncated?)"));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn i32_bin(&mut self) -> std::result::Result<i32, String> {
        let b = self.take(4, "binary int")?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn skip_newline(&mut self) {
        if self.bytes.get(self.pos) == Some(&b'\n') {
            self.pos += 1;
        }
    }

    fn int(&mut self, binary: bool, what: &str) -> std::result::Result<i32, String> {
        if binary {
            let b = self.take(4, what)?;
            Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        } else {
            self.ascii_number(what)
        }
    }

    fn size(&mut self, binary: bool, what: &str) -> std::result::Result<usize, String> {
        if binary {
            let b = self.take(8, what)?;
            let v = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
            usize::try_from(v).map_err(|_| format!("{what} {v} is too large"))
        } else {
            self.ascii_number(what)
        }
    }

    fn float(&mut self, binary: bool, what: &str) -> std::result::Result<f64, String> {
        if binary {
            let b = self.take(8, what)?;
            Ok(f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        } else {
            self.ascii_number(what)
        }
    }
}

fn truncate(s: &str) -> String {
    if s.len() > 60 {
        format!("{}...", &s[..s.char_indices().nth(60).map_or(s.len(), |(i, _)| i)])
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_anywhere_resolve_and_repeats_are_refused() {
        let mut index = NodeIndex::default();
        index.expect(2);
        index.expect(1_000_000); // a second $Nodes section does not move the limit
                                 // 1 and 700 go to the array, 5000 and 2^40 beyond its limit (2 * 2 + 1024) to the map.
        for (k, id) in [1u64, 700, 5000, 1 << 40].into_iter().enumerate() {
            assert!(index.insert(id, k as u32), "id {id}");
        }
        assert!(!index.insert(700, 9) && !index.insert(1 << 40, 9), "a repeated id is refused in both stores");
        assert_eq!([1u64, 700, 5000, 1 << 40].map(|id| index.get(id)), [Some(0), Some(1), Some(2), Some(3)]);
        assert_eq!([0u64, 2, 1027, u64::MAX].map(|id| index.get(id)), [None; 4]);
    }
}

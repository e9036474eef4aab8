//! Why a growth run stops before its end, or is refused: a grid-scale spike, a surface leaving
//! the box, snapshots that would not fit in memory.

use super::{write, MAX_RISE_FRACTION};
use crate::error::{Error, Result};
use crate::geometry::Elevation;
use crate::run;

/// Refuses a run whose `count` snapshots, each the size of `first`, would hold more than a
/// quarter of the memory the run may use (they are kept until the run ends and is written).
pub(super) fn check_snapshot_memory(first: &write::Snapshot, count: usize) -> Result<()> {
    let frame = first.frame.as_ref().map_or(0, |m| m.values.len() * std::mem::size_of::<f64>());
    let each = (first.fields_vtu.len() + first.electrode_vtu.len() + frame) as u64;
    let needed = each.saturating_mul(count as u64);
    match run::resources::memory_budget()? {
        Some((budget, source)) if needed > budget / 4 => Err(Error::input(format!(
            "key `growth.outputs`: {count} snapshots of {each} bytes each (fields, electrode and a map) would hold {needed} \
             bytes until the run is written, more than a quarter of the {budget} bytes of {source}; lower growth.outputs or \
             coarsen the mesh"
        ))),
        _ => Ok(()),
    }
}

/// Why the surface `next` (m, at the grid nodes after the coming step) must not be reached: past
/// [`MAX_RISE_FRACTION`] of the box height `height` (the bulk boundary), or a height below the
/// start; None when it stays inside.
pub(super) fn leaves_box(next: &[f64], height: f64) -> Option<String> {
    let (lowest, highest) = next.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &h| (lo.min(h), hi.max(h)));
    (highest > MAX_RISE_FRACTION * height || lowest < -height).then(|| {
        format!(
            "the next step would take the surface to z = {:.4e} m, beyond {MAX_RISE_FRACTION} of geometry.height_m = {height:e} m \
             or one height below the start",
            if highest > MAX_RISE_FRACTION * height { highest } else { lowest }
        )
    })
}

/// A spike one grid cell wide rising more than [`NEEDLE_CELLS`] cells above all four of its
/// neighbours, if the surface `heights` on `grid` has one: a feature the grid cannot resolve,
/// whose growth the grid, not the physics, sets. Returns what to tell the user.
pub(super) fn needle(grid: &Elevation, heights: &[f64]) -> Option<String> {
    let n = grid.nodes_per_side();
    let dx = grid.spacing();
    let mut worst: Option<(usize, f64)> = None;
    // The neighbour of index a at offset d along a side of n nodes: across a periodic wall to the
    // image's neighbour (nodes 0 and n - 1 are one point), else mirrored at an insulating one.
    let periodic = grid.is_periodic();
    let step = |a: usize, up: bool| -> usize {
        match (up, a) {
            (true, a) if a + 1 < n => a + 1,
            (true, _) => {
                if periodic {
                    1
                } else {
                    n - 2
                }
            }
            (false, 0) => {
                if periodic {
                    n - 2
                } else {
                    1
                }
            }
            (false, a) => a - 1,
        }
    };
    for j in 0..n {
        for i in 0..n {
            let k = j * n + i;
            let at = |a: usize, b: usize| heights[b * n + a];
            let around = at(step(i, false), j).max(at(step(i, true), j)).max(at(i, step(j, false))).max(at(i, step(j, true)));
            let rise = heights[k] - around;
            if rise > NEEDLE_CELLS * dx && worst.is_none_or(|(_, r)| rise > r) {
                worst = Some((k, rise));
            }
        }
    }
    worst.map(|(k, rise)| {
        let at = grid.node(k % n, k / n);
        format!(
            "a spike one grid cell wide at (x, y) = ({:.4e}, {:.4e}) m rises {rise:.3e} m above its neighbours ({NEEDLE_CELLS} grid \
             cells of {dx:.3e} m or more): the grid, not the physics, now sets its growth (this model has no length scale \
             that stops short waves: the primary distribution, or transport-limited growth without surface energy); lower \
             growth.grid_spacing_m and mesh.size_near_m to follow it further",
            at.x, at.y
        )
    })
}

/// How many grid cells a one-cell spike may rise above its neighbours before the run stops.
const NEEDLE_CELLS: f64 = 2.0;

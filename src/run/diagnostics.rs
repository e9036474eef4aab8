//! What a run whose solver did not converge writes instead of its outputs: `failed_solve.json`
//! (the message, the residual history, where the residual is largest) and
//! `failed_last_iterate.vtu` (the last iterate and the residual at every node). The names are
//! not those of a normal run, and no summary.json is written, so nothing looks complete.

use std::path::Path;

use serde::Serialize;

use super::setup::reference_concentration;
use crate::error::{Error, Result};
use crate::mesh::TetMesh;
use crate::output::{atomic, vtu};
use crate::scene::Scene;
use crate::solve::failure::Failure;
use crate::solve::system::PotentialSystem;

/// File names of the diagnostics.
pub const REPORT_FILE: &str = "failed_solve.json";
pub const ITERATE_FILE: &str = "failed_last_iterate.vtu";

/// failed_solve.json.
#[derive(Serialize)]
struct Report<'a> {
    message: &'a str,
    scene: &'a str,
    model: String,
    /// Residual norm per Newton iteration (scaled), or the linear relative residual.
    residual_history: &'a [f64],
    largest_residual: Option<Location>,
    /// What failed_last_iterate.vtu holds.
    iterate: &'a str,
}

/// Where the residual is largest.
#[derive(Serialize)]
struct Location {
    node: usize,
    position_m: [f64; 3],
    /// Residual magnitude at the node (scaled units of the discrete equations).
    residual: f64,
    on_electrode: bool,
}

/// Adds where the residual is largest to the failure's message and, with a directory, writes
/// the diagnostics there and names them in the message.
pub fn report(
    mut failure: Box<Failure>,
    dir: Option<&Path>,
    scene: &Scene,
    mesh: &TetMesh,
    sys: &PotentialSystem,
    thermal_voltage_v: f64,
) -> Error {
    let location = failure.worst_node().map(|(node, residual)| Location {
        node,
        position_m: mesh.nodes[node].to_array(),
        residual,
        on_electrode: sys.electrode.contains(&(node as u32)),
    });
    if let Some(l) = &location {
        failure.message.push_str(&format!(
            "; the residual is largest at node {} ({:.4e}, {:.4e}, {:.4e}) m{}",
            l.node,
            l.position_m[0],
            l.position_m[1],
            l.position_m[2],
            if l.on_electrode { ", on the electrode" } else { "" }
        ));
    }
    if let Some(dir) = dir {
        match write(&failure, location, dir, scene, mesh, sys, thermal_voltage_v) {
            Ok(()) => failure.message.push_str(&format!(
                "; diagnostics in {} and {}",
                dir.join(REPORT_FILE).display(),
                dir.join(ITERATE_FILE).display()
            )),
            Err(e) => failure.message.push_str(&format!("; the diagnostics could not be written: {e}")),
        }
    }
    Error::NotConverged(failure)
}

fn write(
    failure: &Failure,
    largest_residual: Option<Location>,
    dir: &Path,
    scene: &Scene,
    mesh: &TetMesh,
    sys: &PotentialSystem,
    thermal_voltage_v: f64,
) -> Result<()> {
    let mut potential: Vec<f64> = failure.phi.iter().map(|v| v * thermal_voltage_v).collect();
    sys.expand(&mut potential);
    let c_ref = reference_concentration(scene);
    let names: Vec<String> = scene.physics.species.iter().map(|s| crate::output::concentration_name(&s.name)).collect();
    let concentrations: Vec<Vec<f64>> = failure
        .concentrations
        .iter()
        .map(|c| {
            let mut c: Vec<f64> = c.iter().map(|v| v * c_ref).collect();
            sys.expand(&mut c);
            c
        })
        .collect();
    let mut point_data =
        vec![vtu::Array::Scalar("electrolyte_potential_V", &potential), vtu::Array::Scalar("residual", &failure.nodal_residual)];
    point_data.extend(names.iter().zip(&concentrations).map(|(n, c)| vtu::Array::Scalar(n, c)));
    let cells: Vec<Vec<u32>> = mesh.tets.iter().map(|t| t.to_vec()).collect();
    let regions: Vec<i32> = mesh.regions.iter().map(|&r| r as i32).collect();
    let vtu = vtu::encode(&mesh.nodes, &cells, &point_data, &[vtu::Array::Int("region_id", &regions)], &[]);
    let report = Report {
        message: &failure.message,
        scene: &scene.name,
        model: format!("{:?}", scene.physics.model).to_lowercase(),
        residual_history: &failure.residual_history,
        largest_residual,
        iterate: failure.iterate,
    };
    let json = serde_json::to_string_pretty(&report).map_err(|e| Error::output(REPORT_FILE, e))?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    atomic::write(&dir.join(ITERATE_FILE), &vtu)?;
    atomic::write(&dir.join(REPORT_FILE), json.as_bytes())
}

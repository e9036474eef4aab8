//! Homogenized coating media on a mesh: the material properties of each tetrahedron from the
//! scene's coating layers (region id k + 1 is layer k), evaluated at the tetrahedron's depth
//! fraction in its layer.
//!
//! - effective transport: `D_eff = D eps / tau` (or `D eps^b`, Bruggeman), the same factor on the
//!   electrolyte conductivity (`kappa_eff`);
//! - porosity eps: concentrations are per pore volume, so storage is `eps dc/dt`;
//! - fixed charge X (mol of charges per m^3 of pores) in electroneutrality or Poisson;
//! - a conductive solid (first layer only): effective conductivity sigma_eff (or equipotential)
//!   and the volumetric exchange current `a i0` (A/m^3), both possibly graded.
//!
//! Depth fraction: `s = (h - bottom) / (top - bottom)` at the centroid, with h the height above
//! the flat electrode for a planar layer and the distance to the electrode (protrusions
//! included) for a conformal one; bottom and top are the layer's interfaces.

use glam::DVec3;

use crate::geometry::{ElectrodeGeometry, LayerKind};
use crate::mesh::TetMesh;
use crate::scene::{BaseElectrode, CoatingLayer};

/// Per-tetrahedron media properties (SI). The open electrolyte has factor 1, porosity 1, no charge.
#[derive(Debug, Clone)]
pub struct Media {
    /// D_eff / D = kappa_eff / kappa.
    pub transport_factor: Vec<f64>,
    /// Void fraction.
    pub porosity: Vec<f64>,
    /// Fixed charge per pore volume, mol/m^3 of elementary charges.
    pub fixed_charge: Vec<f64>,
    /// Conductive solid phase of the first layer, if any.
    pub solid: Option<SolidMedia>,
}

/// The conductive solid of a porous-electrode layer, per tetrahedron (zero outside the layer).
#[derive(Debug, Clone)]
pub struct SolidMedia {
    /// sigma_eff, S/m; None for an equipotential solid.
    pub conductivity: Option<Vec<f64>>,
    /// a i0, A/m^3 (the volumetric exchange current density).
    pub volumetric_exchange: Vec<f64>,
    /// Whether a tetrahedron belongs to the conductive layer.
    pub in_layer: Vec<bool>,
    /// Whether the electrode under the scaffold reacts (zinc) or only conducts (inert collector).
    pub base_reacts: bool,
}

impl Media {
    /// Open electrolyte everywhere.
    pub fn open(tets: usize) -> Self {
        Media { transport_factor: vec![1.0; tets], porosity: vec![1.0; tets], fixed_charge: vec![0.0; tets], solid: None }
    }

    /// The media of a built mesh: region 0 is open electrolyte, region k + 1 is `layers[k]`.
    pub fn from_layers(mesh: &TetMesh, geometry: &ElectrodeGeometry, layers: &[CoatingLayer]) -> Self {
        let mut media = Media::open(mesh.tets.len());
        if layers.is_empty() {
            return media;
        }
        let solid_layer = layers.first().and_then(|l| l.solid.as_ref());
        let mut solid = solid_layer.map(|s| SolidMedia {
            conductivity: s.conductivity_s_m.as_ref().map(|_| vec![0.0; mesh.tets.len()]),
            volumetric_exchange: vec![0.0; mesh.tets.len()],
            in_layer: vec![false; mesh.tets.len()],
            base_reacts: s.base == BaseElectrode::Zinc,
        });
        for (t, nodes) in mesh.tets.iter().enumerate() {
            let region = mesh.regions[t] as usize;
            if region == 0 || region > layers.len() {
                continue;
            }
            let k = region - 1;
            let layer = &layers[k];
            let centroid = nodes.iter().map(|&n| mesh.nodes[n as usize]).sum::<DVec3>() / 4.0;
            let s = depth_fraction(geometry, k, centroid);
            media.transport_factor[t] = layer.transport_factor(s);
            media.porosity[t] = layer.porosity.at(s);
            media.fixed_charge[t] = layer.fixed_charge_mol_m3.at(s);
            if let (0, Some(spec), Some(sm)) = (k, solid_layer, solid.as_mut()) {
                sm.in_layer[t] = true;
                sm.volumetric_exchange[t] = spec.specific_area_m_1.at(s) * spec.exchange_current_density_a_m2.at(s);
                if let (Some(sigma), Some(profile)) = (sm.conductivity.as_mut(), spec.conductivity_s_m.as_ref()) {
                    sigma[t] = profile.at(s);
                }
            }
        }
        media.solid = solid;
        media
    }

    /// Whether every tetrahedron is open electrolyte with no solid.
    pub fn is_open(&self) -> bool {
        self.solid.is_none()
            && self.transport_factor.iter().all(|&f| f == 1.0)
            && self.porosity.iter().all(|&e| e == 1.0)
            && self.fixed_charge.iter().all(|&x| x == 0.0)
    }
}

/// Depth fraction of `p` in layer `k` (0 at its bottom interface, 1 at its top), clamped.
pub fn depth_fraction(geometry: &ElectrodeGeometry, k: usize, p: DVec3) -> f64 {
    let layer = &geometry.layers[k];
    let bottom = if k == 0 { 0.0 } else { geometry.layers[k - 1].top };
    let h = match layer.kind {
        LayerKind::Conformal => geometry.coated_distance(p),
        LayerKind::Planar => p.z,
    };
    ((h - bottom) / (layer.top - bottom)).clamp(0.0, 1.0)
}

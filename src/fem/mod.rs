//! P1 finite elements on tetrahedra: element geometry, CSR sparsity and assembly, boundary
//! quadrature and the variationally consistent boundary flux.

pub mod assembly;
pub mod block_csr;
pub mod boundary_flux;
pub mod csr;
pub mod edges;
pub mod element;
pub mod periodic;

pub use csr::CsrMatrix;

//! P1 finite elements on tetrahedra: element geometry, CSR sparsity and assembly, boundary
//! quadrature, the variationally consistent boundary flux and its smoothed surface recovery, and
//! small dense blocks: what the solvers, the backends and the outputs all need.

pub mod assembly;
pub mod block_csr;
pub mod boundary_flux;
pub mod csr;
pub mod dense;
pub mod dual;
pub mod edges;
pub mod element;
pub mod periodic;
pub mod recovery;

pub use csr::CsrMatrix;

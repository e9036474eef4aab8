//! The library's one error type. Every variant carries enough context to act on, and maps to the
//! command-line exit code contract: 2 input error, 3 solve failure, 4 the mesher failed on a legal
//! scene, 1 anything else (I/O, the GPU device, writing an output).

use std::path::PathBuf;

/// Errors produced anywhere in znfield.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed or out-of-range input: scene file, `--set` override, mesh, command-line argument.
    #[error("{0}")]
    Input(String),
    /// The built-in mesher could not make a valid mesh of a legal scene (inverted or
    /// non-manifold elements).
    #[error("meshing failed: {0}")]
    Mesh(String),
    /// An output could not be encoded (JSON of a summary, report or checkpoint).
    #[error("writing {what}: {reason}")]
    Output { what: String, reason: String },
    /// A solver did not converge or produced non-finite values.
    #[error("solve failed: {0}")]
    Solve(String),
    /// A solver did not converge, with its last iterate and residuals for a diagnostics file.
    #[error("solve failed: {}", .0.message)]
    NotConverged(Box<Failure>),
    /// GPU device problems: no adapter, device lost, buffer over limits.
    #[error("GPU device: {0}")]
    Device(String),
    /// A validation check did not pass.
    #[error("validation: {0}")]
    Validation(String),
    /// Drawing a PNG map or plot failed.
    #[error("plot: {0}")]
    Plot(String),
    /// File-system failure with the path involved.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Process exit code for this error (0 success, 1 other, 2 input, 3 solve, 4 meshing).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) => 2,
            Error::Solve(_) | Error::NotConverged(_) => 3,
            Error::Mesh(_) => 4,
            Error::Device(_) | Error::Io { .. } | Error::Output { .. } | Error::Validation(_) | Error::Plot(_) => 1,
        }
    }

    /// An output that could not be encoded; `what` names it (a file name).
    pub fn output(what: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Error::Output { what: what.into(), reason: reason.to_string() }
    }

    /// The message of a solve failure (either kind), for callers that retry another way.
    pub fn solve_message(&self) -> Option<&str> {
        match self {
            Error::Solve(msg) => Some(msg),
            Error::NotConverged(f) => Some(&f.message),
            _ => None,
        }
    }

    /// A solve failure with its message rewritten by `f` (a NotConverged keeps its iterate);
    /// other errors unchanged.
    pub fn map_solve_message(self, f: impl FnOnce(&str) -> String) -> Error {
        match self {
            Error::Solve(msg) => Error::Solve(f(&msg)),
            Error::NotConverged(mut failure) => {
                failure.message = f(&failure.message);
                Error::NotConverged(failure)
            }
            other => other,
        }
    }

    /// Shorthand for an input error.
    pub fn input(msg: impl Into<String>) -> Self {
        Error::Input(msg.into())
    }

    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

/// A non-converged solve, in mesh numbering and scaled units (phi F/RT, c / c_ref).
#[derive(Debug, Clone)]
pub struct Failure {
    /// What went wrong (the same text the error prints).
    pub message: String,
    /// The merit (residual norm) of each Newton iteration, or the linear relative residual.
    pub residual_history: Vec<f64>,
    /// The last iterate's potential at every node.
    pub phi: Vec<f64>,
    /// The last iterate's concentrations per species at every node (transport models).
    pub concentrations: Vec<Vec<f64>>,
    /// Magnitude of the discrete residual at every node (0 where the value is prescribed).
    pub nodal_residual: Vec<f64>,
    /// What `phi` is, for the diagnostics file.
    pub iterate: &'static str,
}

impl Failure {
    /// The node with the largest residual and its value (None for an empty residual).
    pub fn worst_node(&self) -> Option<(usize, f64)> {
        self.nodal_residual.iter().copied().enumerate().filter(|(_, v)| v.is_finite()).max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

/// Result alias used throughout the library.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_failure_has_the_exit_code_the_readme_gives() {
        assert_eq!(Error::input("bad key").exit_code(), 2);
        assert_eq!(Error::Solve("no convergence".into()).exit_code(), 3);
        assert_eq!(Error::Mesh("inverted tetrahedra".into()).exit_code(), 4);
        assert_eq!(Error::output("summary.json", "key must be a string").exit_code(), 1);
        assert_eq!(Error::Device("lost".into()).exit_code(), 1);
        assert!(Error::Mesh("inverted".into()).to_string().starts_with("meshing failed: "));
    }
}

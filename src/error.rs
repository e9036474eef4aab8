//! The library's one error type. Every variant carries enough context to act on, and maps to the
//! command-line exit code contract: 2 input error, 3 solve failure, 1 anything else.

use std::path::PathBuf;

/// Errors produced anywhere in znfield.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed or out-of-range input: scene file, `--set` override, mesh, command-line argument.
    #[error("{0}")]
    Input(String),
    /// A solver did not converge or produced non-finite values.
    #[error("solve failed: {0}")]
    Solve(String),
    /// A solver did not converge, with its last iterate and residuals for a diagnostics file.
    #[error("solve failed: {}", .0.message)]
    NotConverged(Box<crate::solve::failure::Failure>),
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
    /// Process exit code for this error (0 success, 1 other, 2 input, 3 solve).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) => 2,
            Error::Solve(_) | Error::NotConverged(_) => 3,
            Error::Device(_) | Error::Io { .. } | Error::Validation(_) | Error::Plot(_) => 1,
        }
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

impl From<crate::solve::linear::LinearError> for Error {
    fn from(e: crate::solve::linear::LinearError) -> Self {
        match e {
            crate::solve::linear::LinearError::Device(msg) => Error::Device(msg),
            other => Error::Solve(other.to_string()),
        }
    }
}

/// Result alias used throughout the library.
pub type Result<T> = std::result::Result<T, Error>;

//! The package layer's one error type.

use std::path::{Path, PathBuf};

use crate::package::source::Diagnostics;
use crate::package::source::diag::display_path;

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Problems in the curriculum sources, each with file and line.
    #[error("{0}")]
    Source(Diagnostics),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The command was asked something it cannot do (wrong folder, unknown
    /// language, bad flag value).
    #[error("{0}")]
    Usage(String),
    #[error("{}: {message}", path.display())]
    Zip { path: PathBuf, message: String },
    /// A package we built failed our own validator: a bug in kmh, never in
    /// the sources, so say so plainly.
    #[error("internal error (please report): {0}")]
    Internal(String),
}

impl PackageError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        PackageError::Io {
            path: display_path(path),
            source,
        }
    }
}

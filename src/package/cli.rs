//! Arguments of `kmh package` and `kmh validate`.

use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct PackageArgs {
    /// A course folder (with `course.toml`) or one module folder (with `module.toml`).
    pub source: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// A package zip or an unpacked package folder.
    pub package: PathBuf,
}

/// Runs `kmh package`; returns the process exit code.
pub fn run_package(_args: &PackageArgs) -> Result<i32, Box<dyn std::error::Error>> {
    Err("kmh package is not built yet".into())
}

/// Runs `kmh validate`; returns the process exit code.
pub fn run_validate(_args: &ValidateArgs) -> Result<i32, Box<dyn std::error::Error>> {
    Err("kmh validate is not built yet".into())
}

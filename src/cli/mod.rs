//! The `kmh` command line. Every flag can also be set with a `KMH_*`
//! environment variable.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "kmh", version, about = "Course packager, xAPI learning record store and training analytics for a knowledge-management hub")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build SCORM packages from curriculum sources.
    Package(crate::package::cli::PackageArgs),
    /// Check a SCORM package (zip or folder) for errors an LMS would reject.
    Validate(crate::package::cli::ValidateArgs),
}

/// Runs one command to completion.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let code = match cli.command {
        Command::Package(args) => crate::package::cli::run_package(&args).map_err(|e| anyhow::anyhow!("{e}"))?,
        Command::Validate(args) => crate::package::cli::run_validate(&args).map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    if code != 0 {
        std::process::exit(code);
    }
    Ok(())
}

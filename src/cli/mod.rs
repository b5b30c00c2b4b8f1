//! The `kmh` command line. Every flag can also be set with a `KMH_*`
//! environment variable.

pub mod audit;
pub mod courses;
pub mod creds;
pub mod data;
pub mod demo;
pub mod forget;
pub mod identities;
pub mod prune;
pub mod report;
pub mod serve;
pub mod server;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "kmh",
    version,
    about = "Course packager, xAPI learning record store and training analytics for a knowledge-management hub"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the learning record store (xAPI 1.0.3 and 2.0) on its embedded store.
    Serve(serve::ServeArgs),
    /// Manage credentials: `add`, `list`, `revoke`.
    Creds(creds::CredsArgs),
    /// Write a consistent backup of the store (also while `kmh serve` runs).
    Backup(data::DataArgs),
    /// Restore a backup into an empty data folder.
    Restore(data::DataArgs),
    /// Export every statement as NDJSON (one JSON statement per line).
    Export(data::ExportArgs),
    /// Import statements from NDJSON (an export of this or another LRS).
    Import(data::DataArgs),
    /// The access audit log: who read, exported, re-identified or deleted what.
    Audit(audit::AuditArgs),
    /// Re-identify a pseudonym: the identifiers and names it replaced.
    Identities(identities::IdentitiesArgs),
    /// Forget a learner: their statements, documents and read-model rows,
    /// gone from the store's files (also while `kmh serve` runs).
    Forget(forget::ForgetArgs),
    /// Apply a retention policy once: delete old statements, drop old
    /// pseudonym mappings (also while `kmh serve` runs, which applies its
    /// own policy daily).
    Prune(prune::PruneArgs),
    /// Measure the LRS: a load generator over real HTTP against a fresh store.
    Bench(crate::bench::BenchArgs),
    /// Build SCORM 1.2, SCORM 2004 and cmi5 packages from curriculum sources.
    Package(crate::package::cli::PackageArgs),
    /// Check a SCORM or cmi5 package (zip, folder or bare manifest) for errors an LMS would reject.
    Validate(crate::package::cli::ValidateArgs),
    /// Programme indicators (table, CSV or JSON) with the dashboard's filters.
    Report(report::ReportArgs),
    /// Rebuild the analytics read models from the statements.
    Reindex(report::ReindexArgs),
    /// Send a realistic demo cohort through the LRS, for the dashboard.
    Demo(demo::DemoArgs),
}

/// Runs one command to completion.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    init_logging();
    let code = match cli.command {
        Command::Serve(args) => serve::run(args).map(|()| 0)?,
        Command::Creds(args) => creds::run(args).map(|()| 0)?,
        Command::Bench(args) => crate::bench::run(args).map(|()| 0)?,
        Command::Backup(args) => data::backup(args).map(|()| 0)?,
        Command::Restore(args) => data::restore(args).map(|()| 0)?,
        Command::Export(args) => data::export(args).map(|()| 0)?,
        Command::Import(args) => data::import(args).map(|()| 0)?,
        Command::Audit(args) => audit::run(args).map(|()| 0)?,
        Command::Identities(args) => identities::run(args).map(|()| 0)?,
        Command::Forget(args) => forget::run(args).map(|()| 0)?,
        Command::Prune(args) => prune::run(args).map(|()| 0)?,
        Command::Package(args) => {
            crate::package::cli::run_package(&args).map_err(|e| anyhow::anyhow!("{e}"))?
        }
        Command::Validate(args) => {
            crate::package::cli::run_validate(&args).map_err(|e| anyhow::anyhow!("{e}"))?
        }
        Command::Report(args) => report::run(args).map(|()| 0)?,
        Command::Reindex(args) => report::reindex(args).map(|()| 0)?,
        Command::Demo(args) => demo::run(args).map(|()| 0)?,
    };
    if code != 0 {
        std::process::exit(code);
    }
    Ok(())
}

/// Reports a command's failure on stderr: the error and what caused it,
/// and never a backtrace. A user who mistyped a path has `RUST_BACKTRACE`
/// set for other programs often enough; the message is what they need.
pub fn exit_code(result: anyhow::Result<()>) -> std::process::ExitCode {
    let Err(error) = result else {
        return std::process::ExitCode::SUCCESS;
    };
    eprintln!("Error: {error}");
    let mut causes = error.chain().skip(1).peekable();
    if causes.peek().is_some() {
        eprintln!("\nCaused by:");
        for cause in causes {
            eprintln!("    {cause}");
        }
    }
    std::process::ExitCode::FAILURE
}

/// Logs go to stderr; `KMH_LOG` (e.g. `debug`, `kmh=trace`) sets the level.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KMH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

//! `kmh backup`, `kmh restore`, `kmh export` and `kmh import`: moving the
//! store's data. Backup, export and import work whether or not `kmh serve`
//! holds the data folder (through its admin endpoints when it does);
//! restore needs an empty folder.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use super::server::{admin_call, admin_download, open_existing};
use crate::lrs::import::ImportReport;
use crate::lrs::{AppState, Config};
use crate::store::{Store, StoreError, Writer};

#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// Data folder holding the store.
    #[arg(long, env = "KMH_DATA", default_value = "./kmh-data")]
    pub data: PathBuf,
    /// The file to write (backup, export) or read (restore, import); `-` for
    /// standard output with export.
    pub file: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Replace free-text answers (`result.response` of questions of type
    /// long-fill-in, or marked with the urn:kmh:ext:free-text definition
    /// extension) with "[redacted]".
    #[arg(long, env = "KMH_EXPORT_REDACT_FREE_TEXT")]
    pub redact_free_text: bool,
}

/// Records, in the audit log, an export made on the data folder directly.
fn audit_local(store: &Store, command: &str, query: &str, rows: u64) -> anyhow::Result<()> {
    store.audit(&crate::store::AuditEntry {
        credential: format!("kmh {command}"),
        action: crate::store::AuditAction::Export,
        resource: command.to_owned(),
        query: query.to_owned(),
        rows: Some(rows),
        status: 0,
    })?;
    store.sync_audit()?;
    Ok(())
}

fn spinner(what: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} statements")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(what.to_owned());
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar
}

/// Runs `f` on the store, or answers None when a server holds it.
fn with_local_store<T>(
    data: &Path,
    f: impl FnOnce(Store) -> anyhow::Result<T>,
) -> anyhow::Result<Option<T>> {
    match open_existing(data) {
        Ok(store) => f(store).map(Some),
        Err(StoreError::Locked(_)) => Ok(None),
        Err(e) => Err(e).with_context(|| format!("opening the store in {}", data.display())),
    }
}

pub fn backup(args: DataArgs) -> anyhow::Result<()> {
    let bar = spinner("backing up");
    let file =
        File::create(&args.file).with_context(|| format!("creating {}", args.file.display()))?;
    let mut out = BufWriter::new(file);
    let local = with_local_store(&args.data, |store| {
        let stats = store.backup(&mut out, |n| bar.set_position(n))?;
        audit_local(&store, "backup", "", stats.statements)?;
        Ok(stats)
    })?;
    let stats = match local {
        Some(stats) => stats,
        None => {
            let bytes = admin_download(&args.data, "/backup", &mut out, |b| bar.set_position(b))?;
            crate::store::DumpStats {
                bytes,
                ..Default::default()
            }
        }
    };
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    bar.finish_and_clear();
    if stats.records > 0 {
        println!(
            "backup {}: {} statements, {} records, {} bytes",
            args.file.display(),
            stats.statements,
            stats.records,
            stats.bytes
        );
    } else {
        println!(
            "backup {}: {} bytes (taken by the running server)",
            args.file.display(),
            stats.bytes
        );
    }
    Ok(())
}

pub fn restore(args: DataArgs) -> anyhow::Result<()> {
    let bar = spinner("restoring");
    let file =
        File::open(&args.file).with_context(|| format!("opening {}", args.file.display()))?;
    let stats = crate::store::restore(&args.data, BufReader::new(file), |n| bar.set_position(n))
        .with_context(|| format!("restoring into {}", args.data.display()))?;
    bar.finish_and_clear();
    println!(
        "restored {} statements ({} records) into {}",
        stats.statements,
        stats.records,
        args.data.display()
    );
    Ok(())
}

pub fn export(export: ExportArgs) -> anyhow::Result<()> {
    let args = &export.data;
    let options = crate::store::ExportOptions {
        redact_free_text: export.redact_free_text,
    };
    let query = if options.redact_free_text {
        "redact=free-text"
    } else {
        ""
    };
    let bar = spinner("exporting");
    let to_stdout = args.file.as_os_str() == "-";
    let mut out: Box<dyn Write> = if to_stdout {
        Box::new(BufWriter::new(std::io::stdout().lock()))
    } else {
        Box::new(BufWriter::new(
            File::create(&args.file)
                .with_context(|| format!("creating {}", args.file.display()))?,
        ))
    };
    let local = with_local_store(&args.data, |store| {
        let n = store.export_ndjson_with(&mut out, &options, |n| bar.set_position(n))?;
        audit_local(&store, "export", query, n)?;
        Ok(n)
    })?;
    let n = match local {
        Some(n) => n,
        None => {
            let path = if query.is_empty() {
                "/export".to_owned()
            } else {
                format!("/export?{query}")
            };
            let mut lines = LineCounter {
                inner: &mut out,
                lines: 0,
            };
            admin_download(&args.data, &path, &mut lines, |_| {})?;
            bar.set_position(lines.lines);
            lines.lines
        }
    };
    out.flush()?;
    bar.finish_and_clear();
    if !to_stdout {
        println!("exported {n} statements to {}", args.file.display());
    }
    Ok(())
}

pub fn import(args: DataArgs) -> anyhow::Result<()> {
    let bar = spinner("importing (line)");
    let report: ImportReport = match Store::open(&args.data) {
        Ok(store) => {
            // The first statements of a new data folder fix its setting, as
            // with `kmh serve`: pseudonymous unless chosen otherwise before.
            store
                .settle_pseudonymisation(None, true)
                .with_context(|| format!("the data folder {}", args.data.display()))?;
            let (writer, thread) = Writer::start(store.clone());
            let config = Config {
                public_url: "urn:kmh:import".into(),
                admin_token: String::new(),
                default_version: crate::xapi::Version::V1_0_3,
                rate_limit: 0,
                limits: Default::default(),
            };
            let state = AppState::new(store, writer, config)?;
            let file = File::open(&args.file)
                .with_context(|| format!("opening {}", args.file.display()))?;
            let runtime = tokio::runtime::Runtime::new()?;
            let report = runtime
                .block_on(crate::lrs::import::ndjson(
                    &state,
                    BufReader::new(file),
                    |n| bar.set_position(n),
                ))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            drop(state);
            let _ = thread.join();
            report
        }
        Err(StoreError::Locked(_)) => {
            let body = std::fs::read(&args.file)
                .with_context(|| format!("reading {}", args.file.display()))?;
            let answer = admin_call(
                &args.data,
                reqwest::Method::POST,
                "/import",
                Some((body, "application/x-ndjson")),
            )?;
            serde_json::from_slice(&answer)?
        }
        Err(e) => {
            return Err(e).with_context(|| format!("opening the store in {}", args.data.display()));
        }
    };
    bar.finish_and_clear();
    println!(
        "imported {} statements, {} already present, {} rejected",
        report.imported,
        report.already_present,
        report.rejected.len()
    );
    for r in report.rejected.iter().take(20) {
        eprintln!("  {r}");
    }
    if report.rejected.len() > 20 {
        eprintln!("  … and {} more", report.rejected.len() - 20);
    }
    if !report.rejected.is_empty() {
        std::process::exit(2);
    }
    Ok(())
}

/// Counts the NDJSON lines (statements) of an export as it is written.
struct LineCounter<'a> {
    inner: &'a mut dyn Write,
    lines: u64,
}

impl Write for LineCounter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

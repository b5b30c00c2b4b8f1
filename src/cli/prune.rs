//! `kmh prune`: apply a retention policy once (see `Store::prune`). Works
//! on the store directly when no server holds it, and through the running
//! server's admin endpoint when one does. `kmh serve` applies the same
//! flags daily. Either way, what a run deleted is purged from the store's
//! files before it returns (`Store::purge`).

use std::path::PathBuf;

use super::server::exclusive_here_or_on_server;
use crate::lrs::admin::{PruneRequest, parse_now};
use crate::store::{PruneReport, Retention};

/// The retention flags `kmh prune` and `kmh serve` share.
#[derive(Debug, Clone, clap::Args)]
pub struct RetentionArgs {
    /// Delete statements stored more than this many days ago (default:
    /// keep them). The analytics keep their figures.
    #[arg(long, env = "KMH_RETAIN_STATEMENTS_DAYS")]
    pub retain_statements_days: Option<u32>,
    /// Drop the pseudonym mapping of learners not seen for this many days,
    /// and replace the real identifiers that statements stored more than
    /// this many days ago still hold by pseudonyms (default: keep both):
    /// the statements stay, pseudonymous for good.
    #[arg(long, env = "KMH_RETAIN_IDENTITIES_DAYS")]
    pub retain_identities_days: Option<u32>,
}

impl RetentionArgs {
    pub fn policy(&self) -> Retention {
        Retention {
            statements_days: self.retain_statements_days,
            identities_days: self.retain_identities_days,
        }
    }

    pub fn is_set(&self) -> bool {
        self.retain_statements_days.is_some() || self.retain_identities_days.is_some()
    }
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Data folder holding the store.
    #[arg(long, env = "KMH_DATA", default_value = "./kmh-data")]
    pub data: PathBuf,
    #[command(flatten)]
    pub retention: RetentionArgs,
    /// Count what would be removed; change nothing.
    #[arg(long, env = "KMH_PRUNE_DRY_RUN")]
    pub dry_run: bool,
    /// Apply the policy as of this time (RFC 3339) instead of now.
    #[arg(long, hide = true)]
    pub now: Option<String>,
    /// Print the counts as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: PruneArgs) -> anyhow::Result<()> {
    if !args.retention.is_set() {
        anyhow::bail!(
            "nothing to prune: give --retain-statements-days and/or --retain-identities-days"
        );
    }
    let now = match &args.now {
        Some(t) => parse_now(t).map_err(|e| anyhow::anyhow!("--{e}"))?,
        None => crate::store::now_ms(),
    };
    let (policy, dry_run) = (args.retention.policy(), args.dry_run);
    let request = PruneRequest {
        policy,
        dry_run,
        now: args.now.clone(),
    };
    let report: PruneReport = exclusive_here_or_on_server(
        &args.data,
        "/prune",
        &request,
        move |store| store.prune(policy, now, dry_run, "kmh prune"),
        |store, report| match report.purge_needed() {
            Some(identities) => store.purge(identities),
            None => Ok(()),
        },
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let verb = if report.dry_run {
        "would prune"
    } else {
        "pruned"
    };
    println!(
        "{verb}: {} statements deleted, {} attachments, {} identities dropped, {} statements pseudonymised",
        report.statements_deleted,
        report.attachments,
        report.identities_dropped,
        report.statements_pseudonymised
    );
    Ok(())
}

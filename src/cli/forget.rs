//! `kmh forget`: forget a learner (see `Store::forget`). Works on the
//! store directly when no server holds it, and through the running
//! server's admin endpoint when one does.

use std::path::PathBuf;

use anyhow::Context;

use super::server::exclusive_here_or_on_server;
use crate::lrs::admin::ForgetRequest;
use crate::store::{ForgetReport, Mentions};

#[derive(Debug, clap::Args)]
pub struct ForgetArgs {
    /// Data folder holding the store.
    #[arg(long, env = "KMH_DATA", default_value = "./kmh-data")]
    pub data: PathBuf,
    /// The learner as an xAPI Agent, e.g.
    /// '{"account":{"homePage":"https://lms.example.org","name":"42"}}'.
    #[arg(long, env = "KMH_FORGET_AGENT")]
    pub agent: String,
    /// What becomes of other people's statements that mention the learner
    /// (as object, instructor, team or group member): `anonymise` replaces
    /// the learner by an anonymous placeholder agent, `void` does that and
    /// voids them too (by a voiding statement the LRS issues), `delete`
    /// deletes them.
    #[arg(long, visible_alias = "mentions", env = "KMH_FORGET_MODE", value_enum, default_value_t = Mode::Anonymise)]
    pub mode: Mode,
    /// Count what would be removed; change nothing.
    #[arg(long, env = "KMH_FORGET_DRY_RUN")]
    pub dry_run: bool,
    /// Print the counts as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    Anonymise,
    Void,
    Delete,
}

impl From<Mode> for Mentions {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Anonymise => Mentions::Anonymise,
            Mode::Void => Mentions::Void,
            Mode::Delete => Mentions::Delete,
        }
    }
}

pub fn run(args: ForgetArgs) -> anyhow::Result<()> {
    let agent: serde_json::Value =
        serde_json::from_str(&args.agent).context("--agent is not valid JSON")?;
    crate::xapi::validate::agent(&agent, "agent")
        .map_err(|e| anyhow::anyhow!("--agent is not a valid xAPI Agent: {e}"))?;
    if crate::xapi::ifi::identity(&agent).is_none() {
        anyhow::bail!(
            "--agent needs an inverse functional identifier (mbox, mbox_sha1sum, openid or account)"
        );
    }
    let mentions = Mentions::from(args.mode);
    let dry_run = args.dry_run;
    let request = ForgetRequest {
        agent: agent.clone(),
        mentions,
        dry_run,
    };
    let report: ForgetReport = exclusive_here_or_on_server(
        &args.data,
        "/forget",
        &request,
        move |store| store.forget(&agent, mentions, dry_run, "kmh forget"),
        |store, report| {
            if dry_run {
                Ok(())
            } else {
                store.purge(report.identity_records > 0)
            }
        },
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let verb = if report.dry_run {
        "would forget"
    } else {
        "forgot"
    };
    println!(
        "{verb}: {} statements deleted, {} statements anonymised ({} of them voided), {} documents, {} attachments, {} read-model rows",
        report.statements_deleted,
        report.statements_redacted,
        report.statements_voided,
        report.documents,
        report.attachments,
        report.read_model_rows
    );
    Ok(())
}

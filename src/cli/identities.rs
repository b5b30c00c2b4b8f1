//! `kmh identities`: re-identifies a pseudonym (the identifiers and names it
//! replaced), on the data folder or through the running server. Every
//! lookup leaves an audit record.

use std::path::PathBuf;

use anyhow::Context;

use super::server::{admin_call, open_existing};
use crate::lrs::privacy;
use crate::store::{AuditAction, AuditEntry, IdentityRecord, StoreError};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("who").required(true).args(["pseudonym", "agent"])))]
pub struct IdentitiesArgs {
    /// Data folder holding the store.
    #[arg(long, env = "KMH_DATA", default_value = "./kmh-data")]
    pub data: PathBuf,
    /// The pseudonym: the `name` of a `urn:kmh:pseudonym` account.
    #[arg(long, env = "KMH_IDENTITIES_PSEUDONYM")]
    pub pseudonym: Option<String>,
    /// An agent as JSON: a pseudonym account, or a real identifier (which
    /// is mapped to its pseudonym with the store's key).
    #[arg(long, env = "KMH_IDENTITIES_AGENT")]
    pub agent: Option<String>,
}

pub fn run(args: IdentitiesArgs) -> anyhow::Result<()> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(p) = &args.pseudonym {
        query.append_pair("pseudonym", p);
    }
    if let Some(a) = &args.agent {
        query.append_pair("agent", a);
    }
    let query = query.finish();
    let record: IdentityRecord = match open_existing(&args.data) {
        Ok(store) => {
            let key = store.pseudonym_key()?;
            let found = privacy::requested_pseudonym(&key, Some(&query))
                .and_then(|p| privacy::lookup(&store, &p));
            store.audit(&AuditEntry {
                credential: "kmh identities".into(),
                action: AuditAction::Reidentify,
                resource: "identities".into(),
                query: query.clone(),
                rows: Some(u64::from(found.is_ok())),
                status: 0,
            })?;
            store.sync_audit()?;
            found.map_err(|e| anyhow::anyhow!("{e}"))?
        }
        Err(StoreError::Locked(_)) => serde_json::from_slice(&admin_call(
            &args.data,
            reqwest::Method::GET,
            &format!("/identities?{query}"),
            None,
        )?)?,
        Err(e) => {
            return Err(e).with_context(|| format!("opening the store in {}", args.data.display()));
        }
    };
    println!("{}", serde_json::to_string_pretty(&record)?);
    Ok(())
}

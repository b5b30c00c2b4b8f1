//! `kmh audit`: the access audit log (who read, exported, re-identified or
//! deleted what), filtered, as a table, CSV or JSON. Reads the data folder,
//! or asks the running server. No command deletes audit records.

use std::path::PathBuf;

use anyhow::Context;

use super::report::{Format, render};
use super::server::{admin_call, open_existing};
use crate::store::{AuditAction, AuditFilter, AuditRecord, StoreError};

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Data folder holding the store.
    #[arg(long, env = "KMH_DATA", default_value = "./kmh-data")]
    pub data: PathBuf,
    /// Only records after this time: an RFC 3339 timestamp or a date
    /// (YYYY-MM-DD, from its start, UTC).
    #[arg(long, env = "KMH_AUDIT_SINCE")]
    pub since: Option<String>,
    /// Only records up to this time: an RFC 3339 timestamp or a date
    /// (YYYY-MM-DD, to its end, UTC).
    #[arg(long, env = "KMH_AUDIT_UNTIL")]
    pub until: Option<String>,
    /// Only records of this credential key (`admin` for the admin token,
    /// `kmh <command>` for commands run on the data folder directly).
    #[arg(long, env = "KMH_AUDIT_CREDENTIAL")]
    pub credential: Option<String>,
    /// Only this kind of access: read, export, reidentify or delete.
    #[arg(long, env = "KMH_AUDIT_ACTION")]
    pub action: Option<AuditAction>,
    /// Output format.
    #[arg(long, env = "KMH_AUDIT_FORMAT", value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, env = "KMH_AUDIT_OUT")]
    pub out: Option<PathBuf>,
}

/// A time bound: an RFC 3339 timestamp, or a date taken from its first
/// (`end_of_day` false) or last millisecond, in Unix ms.
fn bound(name: &str, value: &str, end_of_day: bool) -> anyhow::Result<i64> {
    if let Ok(t) = crate::xapi::validate::timestamp(value) {
        return Ok((t.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(value, &format).map_err(|_| {
        anyhow::anyhow!(
            "--{name} must be an RFC 3339 timestamp (2026-09-01T08:00:00Z) or a date (2026-09-01), not {value:?}"
        )
    })?;
    let start = date.midnight().assume_utc().unix_timestamp() * 1000;
    // `since` is exclusive: a date includes its first millisecond.
    Ok(if end_of_day {
        start + 86_400_000 - 1
    } else {
        start - 1
    })
}

impl AuditArgs {
    fn filter(&self) -> anyhow::Result<AuditFilter> {
        Ok(AuditFilter {
            since_ms: self
                .since
                .as_deref()
                .map(|s| bound("since", s, false))
                .transpose()?,
            until_ms: self
                .until
                .as_deref()
                .map(|s| bound("until", s, true))
                .transpose()?,
            credential: self.credential.clone(),
            action: self.action,
        })
    }
}

/// The records, from the data folder or the server that holds it.
fn records(args: &AuditArgs, filter: &AuditFilter) -> anyhow::Result<Vec<AuditRecord>> {
    match open_existing(&args.data) {
        Ok(store) => Ok(store.audit_records(filter)?),
        Err(StoreError::Locked(_)) => {
            let mut query = form_urlencoded::Serializer::new(String::new());
            if let Some(ms) = filter.since_ms {
                query.append_pair("since_ms", &ms.to_string());
            }
            if let Some(ms) = filter.until_ms {
                query.append_pair("until_ms", &ms.to_string());
            }
            if let Some(c) = &filter.credential {
                query.append_pair("credential", c);
            }
            if let Some(a) = filter.action {
                query.append_pair("action", a.as_str());
            }
            let path = format!("/audit?{}", query.finish());
            Ok(serde_json::from_slice(&admin_call(
                &args.data,
                reqwest::Method::GET,
                &path,
                None,
            )?)?)
        }
        Err(e) => Err(e).with_context(|| format!("opening the store in {}", args.data.display())),
    }
}

fn table(records: &[AuditRecord]) -> Vec<Vec<String>> {
    let mut rows = vec![
        [
            "time",
            "credential",
            "action",
            "resource",
            "query",
            "rows",
            "status",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for r in records {
        let e = &r.entry;
        rows.push(vec![
            r.time.clone(),
            e.credential.clone(),
            e.action.to_string(),
            e.resource.clone(),
            e.query.clone(),
            e.rows.map(|n| n.to_string()).unwrap_or_default(),
            if e.status == 0 {
                String::new()
            } else {
                e.status.to_string()
            },
        ]);
    }
    rows
}

pub fn run(args: AuditArgs) -> anyhow::Result<()> {
    let filter = args.filter()?;
    let records = records(&args, &filter)?;
    let text = match args.format {
        // JSON keeps the types (rows and status as numbers, the seq).
        Format::Json => serde_json::to_string_pretty(&records)? + "\n",
        other => render(&table(&records), other),
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "{} audit records written to {}",
                records.len(),
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_cover_whole_days_and_bad_bounds_are_named() {
        let since = bound("since", "2026-09-01", false).unwrap();
        let until = bound("until", "2026-09-01", true).unwrap();
        assert_eq!(until - since, 86_400_000);
        assert_eq!(
            bound("since", "2026-09-01T00:00:00Z", false).unwrap(),
            since + 1
        );
        let err = bound("until", "yesterday", true).unwrap_err().to_string();
        assert!(
            err.contains("--until") && err.contains("yesterday"),
            "{err}"
        );
    }
}

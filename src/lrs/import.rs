//! Importing statements from NDJSON (one statement per line), such as an
//! export of this or another LRS. Every line is validated like a POST; a
//! statement keeps its id and, when it has one, its original authority
//! (the record of who vouched for it in the system it came from). A line
//! already stored with the same content is skipped, so an import can be
//! re-run after an interruption.

use std::io::BufRead;

use serde_json::Value;

use super::AppState;
use super::auth::Auth;
use super::credentials::Credential;
use super::error::ApiError;
use super::statements::prepare_single;
use crate::xapi::Version;

/// What an import did.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct ImportReport {
    pub imported: u64,
    pub already_present: u64,
    /// `line N: why` for each refused line (the rest is imported).
    pub rejected: Vec<String>,
}

const BATCH: usize = 1000;

/// Imports every line of `reader`; `progress` is told each line number.
pub async fn ndjson(
    state: &AppState,
    reader: impl BufRead,
    mut progress: impl FnMut(u64),
) -> Result<ImportReport, ApiError> {
    let auth = Auth {
        credential: Credential::system("import"),
    };
    let mut report = ImportReport::default();
    let mut pending = Vec::with_capacity(BATCH);
    for (n, line) in reader.lines().enumerate() {
        let line_no = n as u64 + 1;
        progress(line_no);
        let line =
            line.map_err(|e| ApiError::BadRequest(format!("line {line_no}: cannot read: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let mut statement: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                report
                    .rejected
                    .push(format!("line {line_no}: not JSON: {e}"));
                continue;
            }
        };
        let authority = statement
            .as_object_mut()
            .and_then(|o| o.remove("authority"));
        let version = match statement.get("version").and_then(Value::as_str) {
            Some(v) if v.starts_with("2.") => Version::V2_0_0,
            _ => Version::V1_0_3,
        };
        match prepare_single(state, &auth, version, statement) {
            Ok(mut prepared) => {
                if let Some(original) = authority {
                    prepared.json.insert("authority".into(), original);
                }
                pending.push(prepared);
            }
            Err(e) => report.rejected.push(format!("line {line_no}: {e}")),
        }
        if pending.len() >= BATCH {
            flush(state, &mut pending, &mut report).await?;
        }
    }
    flush(state, &mut pending, &mut report).await?;
    Ok(report)
}

async fn flush(
    state: &AppState,
    pending: &mut Vec<crate::store::NewStatement>,
    report: &mut ImportReport,
) -> Result<(), ApiError> {
    if pending.is_empty() {
        return Ok(());
    }
    // Ids must be unique within one append; a file that repeats an id keeps
    // the first and reports the rest as already present.
    let mut seen = std::collections::HashSet::new();
    let batch: Vec<_> = std::mem::take(pending)
        .into_iter()
        .filter(|s| {
            let fresh = seen.insert(s.id);
            if !fresh {
                report.already_present += 1;
            }
            fresh
        })
        .collect();
    let prepared = state.writer.prepare(batch)?;
    for appended in super::statements::append(state, prepared).await? {
        if appended.new {
            report.imported += 1;
        } else {
            report.already_present += 1;
        }
    }
    Ok(())
}

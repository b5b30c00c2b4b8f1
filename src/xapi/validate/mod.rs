//! Statement validation: every MUST of xAPI 1.0.3 part 2 ("Data") that a
//! statement can break on its own, plus the xAPI 2.0.0 differences
//! (`contextAgents`, `contextGroups`, RFC 3339 timestamps, `2.0.x` versions).
//!
//! Pure functions over `serde_json::Value`: no I/O, no async, no panics on
//! any input. The walk allocates nothing on the happy path; the JSON path
//! of an error (`context.contextActivities.parent[1].id`) is rendered only
//! when a rule is broken.
//!
//! Map of the module:
//! - [`statement()`] → `statement.rs` (§2.2, §2.3.2, §2.4, SubStatement,
//!   StatementRef, Verb, Attachments, Version), `agent.rs` (§2.4.2 Actor,
//!   §2.4.9 Authority), `activity.rs` (§2.4.4.1), `result.rs` (§2.4.5),
//!   `context.rs` (§2.4.6);
//! - `json.rs`: types, `null`, Language Maps (§4.2), Extensions (§4.1);
//! - `formats.rs`, `timestamp.rs`, `duration.rs`: the string formats (§4.3–4.6).
//!
//! Where the text leaves room, the ADL LRS conformance suite
//! (`adlnet/lrs-conformance-test-suite`, `test/v1_0_3`, `test/v2_0`) decided;
//! each such choice is documented where it is made. In short:
//! - accepted: empty Language Maps (`"display": {}`), empty
//!   `contextActivities` / `attachments` / `correctResponsesPattern` arrays,
//!   upper-case `mbox_sha1sum`, `version` `"1.0"`, timestamps without a time
//!   zone under 1.0.3 (read as UTC), ISO 8601 basic-format timestamps under
//!   1.0.3, durations with a fraction on the last component (`PT0.5S`);
//! - rejected: the offset `-00:00`, an anonymous Group with an empty
//!   `member`, `score.min == score.max` ("min less than max"), an authority
//!   Group that is identified or not an account-identified consumer plus one
//!   Agent, component lists that the `interactionType` does not support,
//!   `revision` / `platform` when the object is not an Activity, a voiding
//!   statement whose object is not a StatementRef.
//!
//! Not checked here because they need more than the statement: uniqueness
//! of statement ids within a batch, duplicate JSON keys (gone once parsed),
//! signed statements and attachment payloads (§2.6, part 3).

mod activity;
mod agent;
mod context;
mod duration;
mod formats;
mod json;
mod path;
mod result;
mod statement;
mod timestamp;

#[cfg(test)]
mod tests;

use std::fmt;

use crate::xapi::Version;

pub use duration::duration;
pub use formats::{iri, is_uuid, language_tag};
pub use timestamp::{timestamp, timestamp_for, timestamp_rfc3339};

/// Why a value was rejected: where (a JSON path such as `actor.mbox` or
/// `[2].context.registration`) and which rule it broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub path: String,
    pub rule: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.rule)
        } else {
            write!(f, "{}: {}", self.path, self.rule)
        }
    }
}

impl std::error::Error for Invalid {}

/// Validates a statement as a client sends it (to `PUT`/`POST
/// /statements`) under the given version of the standard. `id`, `stored`,
/// `authority` and `version` may be present or absent. Paths in the error
/// are relative to the statement (`actor.mbox`; empty for the statement
/// itself).
pub fn statement(v: &serde_json::Value, version: Version) -> Result<(), Invalid> {
    statement::statement(v, version)
}

/// Validates an Agent or a Group as given in the `agent` query parameter
/// or the document APIs (`objectType` optional, meaning Agent). `path` is
/// the prefix for error paths, such as `agent`.
pub fn agent(v: &serde_json::Value, path: &str) -> Result<(), Invalid> {
    agent::actor(v, &path::Path::root(path)).map(|_| ())
}

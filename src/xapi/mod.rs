//! xAPI value rules: validation of every MUST of the Data part
//! (xAPI 1.0.3 part 2, "Data"), identifiers, comparison, the `format`
//! views and the index keys the store uses. Pure functions over
//! `serde_json::Value`: no I/O, no async.

pub mod compare;
pub mod format;
pub mod ifi;
pub mod keys;
pub mod normalize;
pub mod pseudonym;
pub mod redact;
pub mod signature;
pub mod validate;
mod version;

pub use validate::Invalid;
pub use version::Version;

/// The verb that voids the statement its StatementRef object points to.
pub const VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";

/// True for a voiding statement: verb [`VOIDED`], StatementRef object.
pub fn is_voiding(statement: &serde_json::Value) -> bool {
    at(statement, &["verb", "id"]).and_then(serde_json::Value::as_str) == Some(VOIDED)
        && keys::statement_ref_target(statement).is_some()
}

/// The value under a path of object keys (`at(v, &["verb", "id"])`).
/// `Value::pointer` would do, but it builds two strings per step to
/// unescape `~0`/`~1`, and these lookups run several times for every
/// statement written.
pub fn at<'a>(value: &'a serde_json::Value, keys: &[&str]) -> Option<&'a serde_json::Value> {
    keys.iter().try_fold(value, |v, k| v.get(*k))
}

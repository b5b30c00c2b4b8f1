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

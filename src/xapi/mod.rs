//! xAPI value rules: validation of every MUST of the Data part
//! (xAPI 1.0.3 part 2, "Data"), identifiers, and the index keys the store
//! uses. Pure functions over `serde_json::Value`: no I/O, no async.

pub mod validate;
mod version;

pub use validate::Invalid;
pub use version::Version;

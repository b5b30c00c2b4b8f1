//! Statement validation (xAPI 1.0.3 part 2). Filled in by the validation work.

use std::fmt;

/// Why a value was rejected: where (a JSON path such as `actor.mbox` or
/// `[2].context.registration`) and which rule it broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub path: String,
    pub rule: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.rule)
    }
}

impl std::error::Error for Invalid {}

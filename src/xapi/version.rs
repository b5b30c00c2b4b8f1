//! The `X-Experience-API-Version` header (xAPI 1.0.3 part 3, §6.2).

use std::fmt;

/// The versions of the standard this LRS speaks. Requests that announce
/// 1.0.0–1.0.2 are served as 1.0.3: the patch releases only clarified text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    V1_0_3,
    V2_0_0,
}

impl Version {
    /// Every version `/about` lists, oldest first.
    pub const SUPPORTED: [&'static str; 5] = ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0"];

    /// Parses a header value; `None` for anything unsupported.
    pub fn from_header(value: &str) -> Option<Self> {
        match value.trim() {
            "1.0" | "1.0.0" | "1.0.1" | "1.0.2" | "1.0.3" => Some(Self::V1_0_3),
            "2.0" | "2.0.0" => Some(Self::V2_0_0),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1_0_3 => "1.0.3",
            Self::V2_0_0 => "2.0.0",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_versions_of_1_0_are_served_as_1_0_3() {
        for v in ["1.0.0", "1.0.1", "1.0.2", "1.0.3"] {
            assert_eq!(Version::from_header(v), Some(Version::V1_0_3));
        }
        assert_eq!(Version::from_header("2.0.0"), Some(Version::V2_0_0));
        assert_eq!(Version::from_header("0.95"), None);
        assert_eq!(Version::from_header("1.1.0"), None);
    }
}

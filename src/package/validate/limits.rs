//! How much of a package `kmh validate` is willing to read. It checks
//! packages handed to the hub by anyone, so a hostile one must end in a
//! finding, not in a stack overflow, an exhausted memory or a disk-sized
//! read. Every limit is far above what a real course needs; hitting one
//! is reported as an error that names the limit and its value.

/// The limits of one validation. [`Limits::DEFAULT`] is what the command
/// uses; tests lower them to reach them cheaply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Elements nested deeper than this end the parse. The checks walk
    /// the tree recursively, so this bounds their stack; real manifests
    /// nest fewer than 20 levels (deep SCORM 2004 activity trees ~30).
    pub max_depth: usize,
    /// Bytes of the control document (`imsmanifest.xml`, `cmi5.xml`), read
    /// whole into memory and parsed into a tree.
    pub max_document_bytes: u64,
    /// Entries of a zip (as its central directory declares them, checked
    /// before any is read), or files of a folder.
    pub max_entries: u64,
    /// Bytes of a zip's entries once unpacked: the sizes the zip declares
    /// are checked first, then the bytes actually unpacked are counted,
    /// and reading stops at the limit whatever the zip declared.
    pub max_unpacked_bytes: u64,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        max_depth: 256,
        max_document_bytes: 16 * MIB,
        max_entries: 100_000,
        max_unpacked_bytes: 4 * 1024 * MIB,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

const MIB: u64 = 1024 * 1024;

/// A byte count as people read it: `16 MiB`, `8.0 GiB`, `1000 bytes`.
pub fn bytes(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    match UNITS.iter().find(|(size, _)| n >= *size) {
        Some((size, unit)) if n.is_multiple_of(*size) => format!("{} {unit}", n / size),
        Some((size, unit)) => format!("{:.1} {unit}", n as f64 / *size as f64),
        None => format!("{n} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_naturally() {
        assert_eq!(bytes(Limits::DEFAULT.max_document_bytes), "16 MiB");
        assert_eq!(bytes(Limits::DEFAULT.max_unpacked_bytes), "4 GiB");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(2048), "2 KiB");
        assert_eq!(bytes(1000), "1000 bytes");
    }
}

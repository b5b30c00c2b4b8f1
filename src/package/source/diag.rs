//! Problems found in curriculum sources, each tied to a file and (where
//! known) a line, so a designer can jump straight to it.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in one source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file as the user would type it (relative to the working
    /// directory when possible).
    pub file: PathBuf,
    /// 1-based line, when the problem sits on one line.
    pub line: Option<usize>,
    pub message: String,
}

impl Diagnostic {
    pub fn error(file: &Path, line: Option<usize>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: display_path(file),
            line,
            message: message.into(),
        }
    }

    pub fn warning(file: &Path, line: Option<usize>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, line, message)
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let warn = if self.is_error() { "" } else { "warning: " };
        match self.line {
            Some(line) => write!(f, "{}:{line}: {warn}{}", self.file.display(), self.message),
            None => write!(f, "{}: {warn}{}", self.file.display(), self.message),
        }
    }
}

/// Everything found while reading or rendering sources. Errors and warnings
/// are collected rather than stopping at the first, so one run shows the
/// designer every problem.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn error(&mut self, file: &Path, line: Option<usize>, message: impl Into<String>) {
        self.push(Diagnostic::error(file, line, message));
    }

    pub fn warning(&mut self, file: &Path, line: Option<usize>, message: impl Into<String>) {
        self.push(Diagnostic::warning(file, line, message));
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| !d.is_error())
    }

    /// Sorted by file and line so that output does not depend on the order
    /// in which files were visited.
    pub fn sorted(mut self) -> Self {
        self.0.sort_by(|a, b| {
            (&a.file, a.line, a.severity, &a.message)
                .cmp(&(&b.file, b.line, b.severity, &b.message))
        });
        self.0.dedup();
        self
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// 1-based line of a byte offset.
pub fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The path as the user would type it: relative to the working directory
/// when it lies below it, so messages stay short and clickable.
pub fn display_path(path: &Path) -> PathBuf {
    if path.is_relative() {
        return path.to_path_buf();
    }
    if let Ok(cwd) = std::env::current_dir().and_then(|c| c.canonicalize())
        && let Ok(rel) = path.strip_prefix(&cwd)
        && !rel.as_os_str().is_empty()
    {
        return rel.to_path_buf();
    }
    path.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_are_one_based() {
        let text = "a\nb\nc";
        assert_eq!(line_at(text, 0), 1);
        assert_eq!(line_at(text, 2), 2);
        assert_eq!(line_at(text, 4), 3);
        assert_eq!(line_at(text, 99), 3);
    }

    #[test]
    fn display_names_file_and_line() {
        let d = Diagnostic::error(Path::new("x/module.toml"), Some(3), "bad");
        assert_eq!(d.to_string(), "x/module.toml:3: bad");
        let w = Diagnostic::warning(Path::new("x/a.md"), None, "hm");
        assert_eq!(w.to_string(), "x/a.md: warning: hm");
    }
}

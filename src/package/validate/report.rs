//! What `kmh validate` found, as text for people and JSON for machines.

use std::fmt::Write as _;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable identifier of the rule, for scripts and tests
    /// (`identifierref-dangling`, `file-missing`, …).
    pub code: &'static str,
    /// The manifest, or the package file the finding is about.
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        let sev = match self.severity {
            Severity::Error => "",
            Severity::Warning => "warning: ",
        };
        write!(f, ": {sev}{}", self.message)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub organizations: usize,
    pub items: usize,
    pub resources: usize,
    pub scos: usize,
    pub assets: usize,
    /// `<file>` elements in the manifest.
    pub files_listed: usize,
    /// Files in the package; `null` when only the manifest was checked.
    pub files_present: Option<usize>,
    /// cmi5 only: AUs and blocks of the course structure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aus: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocks: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What was validated, as given on the command line.
    pub path: String,
    /// `"1.2"`, `"2004 4th Edition"`, …; `null` when not recognised.
    pub schemaversion: Option<String>,
    /// `"scorm12"`, `"scorm2004"` or `"cmi5"`.
    pub standard: Option<&'static str>,
    /// False when only the manifest was checked (`--manifest-only` or a
    /// bare `imsmanifest.xml`): files listed and present were not compared.
    pub files_checked: bool,
    pub valid: bool,
    pub errors: usize,
    pub warnings: usize,
    pub summary: Summary,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn new(path: String, files_checked: bool, mut findings: Vec<Finding>) -> Self {
        // Manifest findings by line, then package files by name: the same
        // package always gives the same report.
        findings.sort_by(|a, b| (&a.file, a.line, &a.message).cmp(&(&b.file, b.line, &b.message)));
        findings.dedup();
        let errors = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        let warnings = findings.len() - errors;
        Report {
            path,
            schemaversion: None,
            standard: None,
            files_checked,
            valid: errors == 0,
            errors,
            warnings,
            summary: Summary::default(),
            findings,
        }
    }

    /// Findings, one per line, then a one-line verdict.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for f in &self.findings {
            let _ = writeln!(s, "{f}");
        }
        let what = match (&self.schemaversion, self.standard) {
            (Some(v), Some("scorm12")) => format!("SCORM {v}"),
            (Some(v), _) => format!("SCORM {v}"),
            (None, Some("scorm2004")) => "SCORM 2004".to_string(),
            (None, Some(_)) => "SCORM 1.2".to_string(),
            (None, None) => String::new(),
        };
        let m = &self.summary;
        let files = match m.files_present {
            Some(n) => format!("{n} files"),
            None => "manifest only, files not checked".to_string(),
        };
        let verdict = if self.valid {
            match self.warnings {
                0 => "valid".to_string(),
                n => format!("valid, {n} warning{}", plural(n)),
            }
        } else {
            format!(
                "INVALID: {} error{}, {} warning{}",
                self.errors,
                plural(self.errors),
                self.warnings,
                plural(self.warnings)
            )
        };
        if self.standard.is_none() {
            let _ = writeln!(s, "{}: {verdict}", self.path);
            return s;
        }
        if self.standard == Some("cmi5") {
            let (aus, blocks) = (m.aus.unwrap_or(0), m.blocks.unwrap_or(0));
            let files = match m.files_present {
                Some(n) => format!("{n} files"),
                None => "course structure only, files not checked".to_string(),
            };
            let _ = writeln!(
                s,
                "{}: cmi5, {aus} AU{}, {blocks} block{}, {files}: {verdict}",
                self.path,
                plural(aus),
                plural(blocks),
            );
            return s;
        }
        let _ = writeln!(
            s,
            "{}: {what}, {} organization{}, {} item{}, {} resource{} ({} SCO{}, {} asset{}), {files}: {verdict}",
            self.path,
            m.organizations,
            plural(m.organizations),
            m.items,
            plural(m.items),
            m.resources,
            plural(m.resources),
            m.scos,
            plural(m.scos),
            m.assets,
            plural(m.assets),
        );
        s
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

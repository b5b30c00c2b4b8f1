//! `kmh validate`: checks any SCORM 1.2 or SCORM 2004 package (zip,
//! folder, or a bare `imsmanifest.xml`) for what an LMS would reject or
//! mis-play: well-formed XML, the content-packaging structure of its
//! version, identifiers and references, `adlcp:scormType` spelling, launch
//! files, and files listed against files present. Every finding names the
//! manifest line. XSD validation proper is left to xmllint (see
//! `schemas/README.md`); these are the checks that matter and that the
//! XSDs cannot make. cmi5 packages (`cmi5.xml`) are checked by [`cmi5`],
//! whose XSD is small enough to check in full.

pub mod cmi5;
pub mod files;
pub mod input;
pub mod limits;
pub mod references;
pub mod report;
pub mod structure;
pub mod version;
pub mod xmltree;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use report::{Finding, Report, Severity, Summary};
use version::{ADLCP12_NS, ADLCP2004_NS, CP12_NS, CP2004_NS, Version};
use xmltree::Element;

use crate::package::error::PackageError;

/// Collects findings about one manifest.
pub struct Checker {
    file: String,
    findings: Vec<Finding>,
    /// The package's files by ASCII-lowercased name, built on the first
    /// missing file: one lookup per missing file, not a scan of the
    /// package (a hostile manifest can list 100 000 missing files).
    folded: Option<BTreeMap<String, String>>,
}

impl Checker {
    /// ` (the package has "A.html": …)` when a file of `present` differs
    /// from `path` only in letter case.
    pub fn case_hint(&mut self, present: &BTreeSet<String>, path: &str) -> String {
        let folded = self.folded.get_or_insert_with(|| {
            let mut m = BTreeMap::new();
            for p in present {
                m.entry(p.to_ascii_lowercase()).or_insert_with(|| p.clone());
            }
            m
        });
        folded
            .get(&path.to_ascii_lowercase())
            .map(|p| {
                format!(" (the package has {p:?}: names are case-sensitive on most LMS servers)")
            })
            .unwrap_or_default()
    }

    fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        file: String,
        line: Option<usize>,
        message: String,
    ) {
        self.findings.push(Finding {
            severity,
            code,
            file,
            line,
            message,
        });
    }

    pub fn error(&mut self, code: &'static str, line: Option<usize>, message: impl Into<String>) {
        let file = self.file.clone();
        self.push(Severity::Error, code, file, line, message.into());
    }

    pub fn warning(&mut self, code: &'static str, line: Option<usize>, message: impl Into<String>) {
        let file = self.file.clone();
        self.push(Severity::Warning, code, file, line, message.into());
    }
}

/// How findings name an element: `item ITEM-3`, `resource RES-1`, …
pub fn who(el: &Element) -> String {
    match el.id_attr("identifier") {
        Some(id) => format!("{} {id}", el.local),
        None => el.local.clone(),
    }
}

/// Validates manifest bytes; `files` are the package's files, or `None`
/// to check the manifest alone.
pub fn validate_manifest(
    path_label: &str,
    manifest_label: &str,
    bytes: &[u8],
    files: Option<&BTreeSet<String>>,
    findings: Vec<Finding>,
) -> Report {
    validate_document(path_label, manifest_label, bytes, files, false, findings)
}

/// Validates a control document, an `imsmanifest.xml` or a `cmi5.xml`
/// (told apart by their root element). `standalone`: the document was
/// given on its own, not inside a zip or folder.
pub fn validate_document(
    path_label: &str,
    document_label: &str,
    bytes: &[u8],
    files: Option<&BTreeSet<String>>,
    standalone: bool,
    mut findings: Vec<Finding>,
) -> Report {
    let mut c = Checker {
        file: document_label.to_string(),
        findings: Vec::new(),
        folded: None,
    };
    let mut summary = Summary {
        files_present: files.map(BTreeSet::len),
        ..Summary::default()
    };
    let mut standard = None;
    let mut schemaversion = None;
    if let Some(root) = parse(&mut c, bytes) {
        if root.local == "courseStructure" && root.ns.as_deref() == Some(cmi5::CMI5_NS) {
            cmi5::check(&mut c, &root, files, standalone, &mut summary);
            standard = Some(cmi5::STANDARD);
        } else {
            let (version, sv) = check_root(&mut c, &root, files, &mut summary);
            standard = version.map(Version::standard);
            schemaversion = sv;
        }
    }
    findings.append(&mut c.findings);
    let mut report = Report::new(path_label.to_string(), files.is_some(), findings);
    report.summary = summary;
    report.standard = standard;
    report.schemaversion = schemaversion;
    report
}

fn parse(c: &mut Checker, bytes: &[u8]) -> Option<Element> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            c.error(
                "xml-malformed",
                Some(line),
                "not UTF-8: save the manifest as UTF-8",
            );
            return None;
        }
    };
    match xmltree::parse(text, limits::Limits::DEFAULT.max_depth) {
        Ok(root) => Some(root),
        Err(e) => {
            c.error(e.code, Some(e.line), e.message);
            None
        }
    }
}

fn check_root(
    c: &mut Checker,
    root: &Element,
    files: Option<&BTreeSet<String>>,
    summary: &mut Summary,
) -> (Option<Version>, Option<String>) {
    let cp = match root.ns.as_deref() {
        Some(ns @ (CP12_NS | CP2004_NS)) if root.local == "manifest" => ns.to_string(),
        _ => {
            let found = match &root.ns {
                Some(ns) => format!("<{}> in namespace {ns}", root.local),
                None => format!("<{}> in no namespace", root.local),
            };
            c.error(
                "not-a-manifest",
                Some(root.line),
                format!(
                    "the root element must be <manifest> in {CP12_NS} (SCORM 1.2) or {CP2004_NS} (SCORM 2004), or <courseStructure> in {} (cmi5); found {found}",
                    cmi5::CMI5_NS
                ),
            );
            return (None, None);
        }
    };
    let (version, sv) = version::detect(c, root, &cp);
    structure::check(c, root, &cp, version);
    references::check(c, root, &cp, version);
    summary.files_listed = files::check(c, root, &cp, files);

    let all = root.walk();
    summary.organizations = all.iter().filter(|e| e.is(&cp, "organization")).count();
    summary.items = all.iter().filter(|e| e.is(&cp, "item")).count();
    let resources: Vec<&&Element> = all.iter().filter(|e| e.is(&cp, "resource")).collect();
    summary.resources = resources.len();
    let (ns, name) = match version {
        Version::Scorm12 => (ADLCP12_NS, "scormtype"),
        Version::Scorm2004 => (ADLCP2004_NS, "scormType"),
    };
    summary.scos = resources
        .iter()
        .filter(|r| r.attr_ns(ns, name) == Some("sco"))
        .count();
    summary.assets = resources
        .iter()
        .filter(|r| r.attr_ns(ns, name) == Some("asset"))
        .count();
    (Some(version), sv)
}

/// Options of `kmh validate`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidateOptions {
    /// Check the manifest only, not the files (automatic for a bare
    /// manifest file).
    pub manifest_only: bool,
    /// How much of the package may be read ([`limits::Limits::DEFAULT`]).
    pub limits: limits::Limits,
}

/// Validates a zip, a folder or a manifest file.
pub fn validate_path(path: &Path, options: ValidateOptions) -> Result<Report, PackageError> {
    let input = input::read(path, options.manifest_only, &options.limits)?;
    let label = path.display().to_string();
    Ok(match &input.manifest {
        Some(bytes) => validate_document(
            &label,
            &input.manifest_label,
            bytes,
            input.files.as_ref(),
            input.standalone,
            input.findings,
        ),
        None => {
            let mut r = Report::new(label, input.files.is_some(), input.findings);
            r.summary.files_present = input.files.as_ref().map(BTreeSet::len);
            r
        }
    })
}

#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod tests;

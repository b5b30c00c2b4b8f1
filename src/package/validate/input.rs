//! Reading what `kmh validate` is given: a zip, an unpacked folder, or a
//! bare `imsmanifest.xml` or `cmi5.xml` (then files cannot be compared).
//! The control document at a package's root says what it is:
//! `imsmanifest.xml` (SCORM) or `cmi5.xml` (cmi5).

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use super::report::{Finding, Severity};
use crate::package::error::PackageError;

pub const MANIFEST: &str = "imsmanifest.xml";
pub use crate::package::manifest::cmi5::COURSE_STRUCTURE;

/// The control document of a package, from the files at its root: a
/// SCORM manifest wins over a course structure (a package with both is
/// played as SCORM by a SCORM LMS; the other file is then reported as
/// unlisted).
fn control_document(files: &BTreeSet<String>) -> Option<&'static str> {
    [MANIFEST, COURSE_STRUCTURE]
        .into_iter()
        .find(|name| files.contains(*name))
}

pub struct PackageInput {
    /// How the manifest is named in findings.
    pub manifest_label: String,
    pub manifest: Option<Vec<u8>>,
    /// Every file of the package (`/`-separated, relative to its root);
    /// `None` when only the manifest is checked.
    pub files: Option<BTreeSet<String>>,
    /// Problems found while reading (unsafe zip paths, misplaced manifest).
    pub findings: Vec<Finding>,
    /// A bare control document, not a zip or folder: a `cmi5.xml` on its
    /// own must use absolute URLs (cmi5 §14.2).
    pub standalone: bool,
}

pub fn read(path: &Path, manifest_only: bool) -> Result<PackageInput, PackageError> {
    let meta = std::fs::metadata(path).map_err(|e| PackageError::io(path, e))?;
    let mut input = if meta.is_dir() {
        read_folder(path)?
    } else if is_zip(path)? {
        read_zip(path)?
    } else {
        // A bare manifest: there are no files to compare with.
        let bytes = std::fs::read(path).map_err(|e| PackageError::io(path, e))?;
        PackageInput {
            manifest_label: path.display().to_string(),
            manifest: Some(bytes),
            files: None,
            findings: vec![],
            standalone: true,
        }
    };
    if manifest_only {
        input.files = None;
    }
    Ok(input)
}

fn is_zip(path: &Path) -> Result<bool, PackageError> {
    let mut magic = [0u8; 4];
    let mut f = std::fs::File::open(path).map_err(|e| PackageError::io(path, e))?;
    let n = f.read(&mut magic).map_err(|e| PackageError::io(path, e))?;
    Ok(n == 4 && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06"))
}

fn missing_manifest(files: &BTreeSet<String>, label: &str) -> Finding {
    let nested = files.iter().find_map(|f| {
        [MANIFEST, COURSE_STRUCTURE]
            .into_iter()
            .find(|name| f.ends_with(&format!("/{name}")))
            .map(|name| (name, f))
    });
    let message = match nested {
        Some((name, n)) => format!(
            "no {name} at the package root; found {n}: package the folder's contents, not the folder"
        ),
        None => "no imsmanifest.xml (SCORM) or cmi5.xml (cmi5) at the package root: this is not a SCORM or cmi5 package".to_string(),
    };
    Finding {
        severity: Severity::Error,
        code: "manifest-missing",
        file: label.to_string(),
        line: None,
        message,
    }
}

fn read_folder(dir: &Path) -> Result<PackageInput, PackageError> {
    let mut files = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| PackageError::io(&d, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| PackageError::io(&d, e))?;
            let p = entry.path();
            if entry
                .file_type()
                .map_err(|e| PackageError::io(&p, e))?
                .is_dir()
            {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir)
                && let Some(rel) = crate::package::source::paths::to_slash(rel)
            {
                files.insert(rel);
            }
        }
    }
    let control = control_document(&files).unwrap_or(MANIFEST);
    let manifest_path = dir.join(control);
    let label = manifest_path.display().to_string();
    let mut findings = vec![];
    let manifest = if files.contains(control) {
        Some(std::fs::read(&manifest_path).map_err(|e| PackageError::io(&manifest_path, e))?)
    } else {
        findings.push(missing_manifest(&files, &dir.display().to_string()));
        None
    };
    Ok(PackageInput {
        manifest_label: label,
        manifest,
        files: Some(files),
        findings,
        standalone: false,
    })
}

fn read_zip(path: &Path) -> Result<PackageInput, PackageError> {
    let zip_err = |e: zip::result::ZipError| PackageError::Zip {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let f = std::fs::File::open(path).map_err(|e| PackageError::io(path, e))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(f)).map_err(zip_err)?;
    let mut files = BTreeSet::new();
    let mut findings = Vec::new();
    let mut controls: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(zip_err)?;
        let name = entry.name().map_err(zip_err)?.to_string();
        if entry.is_dir() {
            continue;
        }
        if entry.enclosed_name().is_none() || name.starts_with('/') {
            findings.push(Finding {
                severity: Severity::Error,
                code: "zip-unsafe-path",
                file: name.clone(),
                line: None,
                message: "zip entry with an absolute path or `..`: LMSs refuse or mis-extract it"
                    .into(),
            });
            continue;
        }
        if name.contains('\\') {
            findings.push(Finding {
                severity: Severity::Warning,
                code: "zip-backslash",
                file: name.clone(),
                line: None,
                message: "zip entry name uses \\ as separator; Linux-hosted LMSs see one odd file name, not folders".into(),
            });
        }
        if name == MANIFEST || name == COURSE_STRUCTURE {
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| PackageError::io(path, e))?;
            controls.push((name.clone(), bytes));
        }
        files.insert(name);
    }
    let control = control_document(&files);
    let manifest = control.and_then(|c| {
        controls
            .into_iter()
            .find(|(n, _)| n == c)
            .map(|(_, bytes)| bytes)
    });
    if manifest.is_none() {
        findings.push(missing_manifest(&files, &path.display().to_string()));
    }
    Ok(PackageInput {
        manifest_label: control.unwrap_or(MANIFEST).to_string(),
        manifest,
        files: Some(files),
        findings,
        standalone: false,
    })
}

//! Reading what `kmh validate` is given: a zip, an unpacked folder or a
//! bare `imsmanifest.xml` (then files cannot be compared).

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use super::report::{Finding, Severity};
use crate::package::error::PackageError;

pub const MANIFEST: &str = "imsmanifest.xml";

pub struct PackageInput {
    /// How the manifest is named in findings.
    pub manifest_label: String,
    pub manifest: Option<Vec<u8>>,
    /// Every file of the package (`/`-separated, relative to its root);
    /// `None` when only the manifest is checked.
    pub files: Option<BTreeSet<String>>,
    /// Problems found while reading (unsafe zip paths, misplaced manifest).
    pub findings: Vec<Finding>,
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
    let nested = files.iter().find(|f| f.ends_with("/imsmanifest.xml"));
    let message = match nested {
        Some(n) => format!(
            "no imsmanifest.xml at the package root; found {n}: package the folder's contents, not the folder"
        ),
        None => "no imsmanifest.xml at the package root: this is not a SCORM package".to_string(),
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
    let manifest_path = dir.join(MANIFEST);
    let label = manifest_path.display().to_string();
    let mut findings = vec![];
    let manifest = if files.contains(MANIFEST) {
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
    let mut manifest = None;
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
        if name == MANIFEST {
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| PackageError::io(path, e))?;
            manifest = Some(bytes);
        }
        files.insert(name);
    }
    if manifest.is_none() {
        findings.push(missing_manifest(&files, &path.display().to_string()));
    }
    Ok(PackageInput {
        manifest_label: MANIFEST.to_string(),
        manifest,
        files: Some(files),
        findings,
    })
}

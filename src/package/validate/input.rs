//! Reading what `kmh validate` is given: a zip, an unpacked folder, or a
//! bare `imsmanifest.xml` or `cmi5.xml` (then files cannot be compared).
//! The control document at a package's root says what it is:
//! `imsmanifest.xml` (SCORM) or `cmi5.xml` (cmi5).

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use zip::ZipReadOptions;
use zip::read::{Config, ZipFileEntry};
use zip::unstable::read::ZipIterable;

use super::limits::{Limits, bytes};
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

pub fn read(
    path: &Path,
    manifest_only: bool,
    limits: &Limits,
) -> Result<PackageInput, PackageError> {
    let meta = std::fs::metadata(path).map_err(|e| PackageError::io(path, e))?;
    let mut input = if meta.is_dir() {
        read_folder(path, limits)?
    } else if is_zip(path)? {
        read_zip(path, limits)?
    } else {
        // A bare manifest: there are no files to compare with.
        let label = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|e| PackageError::io(path, e))?;
        let (manifest, findings) = match read_capped(f, limits.max_document_bytes)
            .map_err(|e| PackageError::io(path, e))?
        {
            Some(bytes) => (Some(bytes), vec![]),
            None => (None, vec![document_too_large(&label, limits)]),
        };
        PackageInput {
            manifest_label: label,
            manifest,
            files: None,
            findings,
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

/// Reads a control document whole, unless it is longer than `max` bytes
/// (`None`): never more than `max + 1` bytes are read, whatever a zip
/// header or the file system said its size was.
fn read_capped(reader: impl Read, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    reader.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}

fn limit_finding(code: &'static str, file: &str, message: String) -> Finding {
    Finding {
        severity: Severity::Error,
        code,
        file: file.to_string(),
        line: None,
        message,
    }
}

fn document_too_large(label: &str, limits: &Limits) -> Finding {
    limit_finding(
        "document-too-large",
        label,
        format!(
            "is larger than {}, the limit of kmh validate for a control document (real ones are well under 1 MiB); not checked",
            bytes(limits.max_document_bytes)
        ),
    )
}

/// `what`: how many files were found, as a phrase (`the zip declares
/// 200000`).
fn too_many_entries(label: &str, what: String, limits: &Limits) -> Finding {
    limit_finding(
        "too-many-files",
        label,
        format!(
            "{what} files, more than {}, the limit of kmh validate; not checked further",
            limits.max_entries
        ),
    )
}

/// Why a zip entry name is unsafe to unpack, if it is: LMSs that unpack
/// such a name write outside the package folder (zip slip) or refuse the
/// package. The entry is reported and never read.
fn unsafe_name(name: &str) -> Option<&'static str> {
    let bytes = name.as_bytes();
    if name.contains('\0') {
        Some("contains a NUL character")
    } else if name.starts_with(['/', '\\']) {
        Some("is an absolute path")
    } else if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        Some("starts with a drive letter")
    } else if name.split(['/', '\\']).any(|part| part == "..") {
        Some("climbs out of the package with ..")
    } else {
        None
    }
}

/// A name as findings show it: control characters (NUL, newlines) escaped
/// so that a hostile name cannot forge report lines.
fn shown(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
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

fn read_folder(dir: &Path, limits: &Limits) -> Result<PackageInput, PackageError> {
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
                if files.len() as u64 > limits.max_entries {
                    let label = dir.display().to_string();
                    return Ok(PackageInput {
                        manifest_label: label.clone(),
                        manifest: None,
                        files: None,
                        findings: vec![too_many_entries(
                            &label,
                            "the folder has at least".to_string() + &format!(" {}", files.len()),
                            limits,
                        )],
                        standalone: false,
                    });
                }
            }
        }
    }
    let control = control_document(&files).unwrap_or(MANIFEST);
    let manifest_path = dir.join(control);
    let label = manifest_path.display().to_string();
    let mut findings = vec![];
    let manifest = if files.contains(control) {
        let io = |e| PackageError::io(&manifest_path, e);
        let f = std::fs::File::open(&manifest_path).map_err(io)?;
        let bytes = read_capped(f, limits.max_document_bytes).map_err(io)?;
        if bytes.is_none() {
            findings.push(document_too_large(&label, limits));
        }
        bytes
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

/// Reads a zip in two passes over its central directory, never holding
/// more than one entry's header: the first lists the names and adds up
/// the sizes they declare; the second unpacks the control document and,
/// when the declared total is within the limit, every file (a damaged or
/// lying entry is then found here, and the bytes actually unpacked are
/// counted against the same limit).
fn read_zip(path: &Path, limits: &Limits) -> Result<PackageInput, PackageError> {
    let zip_err = |e: zip::result::ZipError| PackageError::Zip {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let open = || {
        std::fs::File::open(path)
            .map(std::io::BufReader::new)
            .map_err(|e| PackageError::io(path, e))
    };
    let label = path.display().to_string();
    let mut archive = ZipIterable::try_new(open()?, Config::default()).map_err(zip_err)?;
    let mut findings = Vec::new();
    if archive.len() as u64 > limits.max_entries {
        findings.push(too_many_entries(
            &label,
            format!("the zip declares {}", archive.len()),
            limits,
        ));
        return Ok(PackageInput {
            manifest_label: MANIFEST.to_string(),
            manifest: None,
            files: None,
            findings,
            standalone: false,
        });
    }

    let mut files = BTreeSet::new();
    let mut declared: u64 = 0;
    for entry in archive.files().map_err(zip_err)? {
        let entry = entry.map_err(zip_err)?;
        let Some(name) = entry_name(&entry, &mut findings) else {
            continue;
        };
        if entry.is_dir() {
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
        declared = declared.saturating_add(entry.size());
        if !files.insert(name.clone()) {
            findings.push(Finding {
                severity: Severity::Error,
                code: "zip-duplicate-entry",
                file: shown(&name),
                line: None,
                message: "the zip holds two entries of this name: an LMS keeps one of them, not necessarily the one checked".into(),
            });
        }
    }
    let unpack_all = declared <= limits.max_unpacked_bytes;
    if !unpack_all {
        findings.push(limit_finding(
            "zip-too-large",
            &label,
            format!(
                "the zip's files declare {} unpacked, more than {}, the limit of kmh validate (a zip bomb?); only the control document was read",
                bytes(declared),
                bytes(limits.max_unpacked_bytes)
            ),
        ));
    }

    let mut controls: Vec<(String, Vec<u8>)> = Vec::new();
    let mut body = open()?;
    let mut unpacked: u64 = 0;
    for entry in archive.files().map_err(zip_err)? {
        let entry = entry.map_err(zip_err)?;
        let Some(name) = entry_name(&entry, &mut Vec::new()) else {
            continue;
        };
        let control = name == MANIFEST || name == COURSE_STRUCTURE;
        if entry.is_dir() || !(control || unpack_all) {
            continue;
        }
        let remaining = limits.max_unpacked_bytes - unpacked;
        let unreadable = |e: &dyn std::fmt::Display| Finding {
            severity: Severity::Error,
            code: "zip-entry-unreadable",
            file: shown(&name),
            line: None,
            message: format!("cannot be unpacked: {e}"),
        };
        let mut reader = match entry.with_reader(&mut body, ZipReadOptions::new()) {
            Ok(r) => r,
            Err(e) => {
                findings.push(unreadable(&e));
                continue;
            }
        };
        let read = if control {
            match read_capped(&mut reader, limits.max_document_bytes.min(remaining)) {
                Ok(Some(bytes)) => {
                    let n = bytes.len() as u64;
                    controls.push((name.clone(), bytes));
                    Ok(n)
                }
                Ok(None) if remaining < limits.max_document_bytes => Ok(remaining + 1),
                Ok(None) => {
                    findings.push(document_too_large(&name, limits));
                    Ok(limits.max_document_bytes)
                }
                Err(e) => Err(e),
            }
        } else {
            std::io::copy(
                &mut (&mut reader).take(remaining.saturating_add(1)),
                &mut std::io::sink(),
            )
        };
        match read {
            Ok(n) if n > remaining => {
                findings.push(limit_finding(
                    "zip-too-large",
                    &label,
                    format!(
                        "the zip's files unpack to more than {}, the limit of kmh validate, whatever they declare (a zip bomb?); reading stopped at {name}",
                        bytes(limits.max_unpacked_bytes),
                        name = shown(&name)
                    ),
                ));
                break;
            }
            Ok(n) => unpacked += n,
            Err(e) => findings.push(unreadable(&e)),
        }
    }
    let control = control_document(&files);
    let manifest = control.and_then(|c| {
        controls
            .into_iter()
            .find(|(n, _)| n == c)
            .map(|(_, bytes)| bytes)
    });
    if control.is_none() {
        findings.push(missing_manifest(&files, &label));
    }
    Ok(PackageInput {
        manifest_label: control.unwrap_or(MANIFEST).to_string(),
        manifest,
        files: Some(files),
        findings,
        standalone: false,
    })
}

/// The name of a zip entry when it is safe to use; an unsafe or
/// undecodable name is reported in `findings` and the entry skipped.
fn entry_name(entry: &ZipFileEntry<'_>, findings: &mut Vec<Finding>) -> Option<String> {
    let name = match entry.name() {
        Ok(n) => n.into_owned(),
        Err(e) => {
            findings.push(Finding {
                severity: Severity::Error,
                code: "zip-unsafe-path",
                file: shown(&String::from_utf8_lossy(entry.name_raw())),
                line: None,
                message: format!("zip entry name cannot be read ({e}); not read"),
            });
            return None;
        }
    };
    let Some(why) = unsafe_name(&name).or_else(|| {
        entry
            .enclosed_name()
            .is_none()
            .then_some("is not a relative path inside the package")
    }) else {
        return Some(name);
    };
    findings.push(Finding {
        severity: Severity::Error,
        code: "zip-unsafe-path",
        file: shown(&name),
        line: None,
        message: format!(
            "zip entry name {why}: an LMS that unpacks it writes outside the package folder or refuses the package; not read"
        ),
    });
    None
}

//! Files listed in the manifest against files in the package (IMS CP:
//! `<file href>` relative to the resource's `xml:base` chain; SCORM CAM:
//! every file of a resource is listed). Listed but absent is an error (the
//! LMS serves a 404 to the learner); present but unlisted is a warning
//! (harmless to most LMSs, but the package does not say what it needs).

use std::collections::BTreeSet;

use super::Checker;
use super::report::Severity;
use super::who;
use super::xmltree::{Element, XML_NS};
use crate::package::source::paths::{decode_path, has_scheme, split_suffix};

/// Folders of the IEEE LOM binding that ADL's packages ship at the root
/// next to the SCORM 2004 XSDs; schema files there are not content.
const LOM_FOLDERS: &[&str] = &["common/", "extend/", "unique/", "vocab/"];

/// Package files that are not content: the manifest and the control
/// documents (XSD/DTD) at the root or in the LOM folders.
fn is_control_file(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let schema = lower.ends_with(".xsd") || lower.ends_with(".dtd");
    path == "imsmanifest.xml"
        || (schema && (!path.contains('/') || LOM_FOLDERS.iter().any(|f| path.starts_with(f))))
}

/// Joins an `xml:base` chain and an href into a package path. `Err` for
/// paths that leave the package.
pub(super) fn resolve(bases: &[&str], href: &str) -> Result<String, String> {
    let mut joined = String::new();
    for b in bases {
        if has_scheme(b) {
            return Ok(String::new());
        }
        if b.starts_with('/') {
            joined = b.trim_start_matches('/').to_string();
        } else {
            joined.push_str(b);
        }
        if !joined.is_empty() && !joined.ends_with('/') {
            joined.push('/');
        }
    }
    let (path, _) = split_suffix(href);
    if path.starts_with('/') {
        return Err("starts with /: hrefs are relative to the package".into());
    }
    joined.push_str(&decode_path(path));
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("climbs out of the package with ..".into());
                }
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

pub fn check(
    c: &mut Checker,
    root: &Element,
    cp: &str,
    present: Option<&BTreeSet<String>>,
) -> usize {
    let mut listed = BTreeSet::new();
    let listed_count = visit_manifest(c, root, cp, Vec::new(), present, &mut listed);
    if let Some(present) = present {
        for p in present {
            if !listed.contains(p) && !is_control_file(p) {
                c.push(
                    Severity::Warning,
                    "file-unlisted",
                    p.clone(),
                    None,
                    "is in the package but no resource lists it".into(),
                );
            }
        }
        schema_locations(c, root, present);
    }
    listed_count
}

/// The resources of one (sub-)manifest; `bases` is the `xml:base` chain
/// of the manifests above it. Returns the number of `<file>` elements.
fn visit_manifest<'a>(
    c: &mut Checker,
    manifest: &'a Element,
    cp: &str,
    mut bases: Vec<&'a str>,
    present: Option<&BTreeSet<String>>,
    listed: &mut BTreeSet<String>,
) -> usize {
    let mut count = 0;
    bases.push(manifest.attr_ns(XML_NS, "base").unwrap_or(""));
    for resources in manifest.children(cp, "resources") {
        for res in resources.children(cp, "resource") {
            let mut chain = bases.clone();
            chain.push(resources.attr_ns(XML_NS, "base").unwrap_or(""));
            chain.push(res.attr_ns(XML_NS, "base").unwrap_or(""));
            let mut refs: Vec<(&str, usize, bool)> = Vec::new();
            if let Some(h) = res.attr("href") {
                refs.push((h, res.line, true));
            }
            for f in res.children(cp, "file") {
                count += 1;
                if let Some(h) = f.attr("href") {
                    refs.push((h, f.line, false));
                }
            }
            for (href, line, is_launch) in refs {
                check_href(c, res, &chain, href, line, is_launch, present, listed);
            }
        }
    }
    for sub in manifest.children(cp, "manifest") {
        count += visit_manifest(c, sub, cp, bases.clone(), present, listed);
    }
    count
}

#[allow(clippy::too_many_arguments)]
fn check_href(
    c: &mut Checker,
    res: &Element,
    bases: &[&str],
    href: &str,
    line: usize,
    is_launch: bool,
    present: Option<&BTreeSet<String>>,
    listed: &mut BTreeSet<String>,
) {
    if has_scheme(href) {
        return;
    }
    let path = match resolve(bases, href) {
        Ok(p) if p.is_empty() => return,
        Ok(p) => p,
        Err(why) => {
            c.error(
                "path-invalid",
                Some(line),
                format!("{}: href {href:?} {why}", who(res)),
            );
            return;
        }
    };
    listed.insert(path.clone());
    let Some(present) = present else { return };
    if present.contains(&path) {
        return;
    }
    let what = if is_launch { "launch file" } else { "file" };
    let hint = c.case_hint(present, &path);
    let code = if is_launch {
        "launch-file-missing"
    } else {
        "file-missing"
    };
    c.error(
        code,
        Some(line),
        format!(
            "{}: {what} {path:?} is listed but not in the package{hint}",
            who(res)
        ),
    );
}

/// The XSDs named by `xsi:schemaLocation` should travel with the package;
/// some LMS importers and ADL's conformance suite look for them.
fn schema_locations(c: &mut Checker, root: &Element, present: &BTreeSet<String>) {
    let Some(loc) = root.attr_ns(
        "http://www.w3.org/2001/XMLSchema-instance",
        "schemaLocation",
    ) else {
        return;
    };
    let words: Vec<&str> = loc.split_whitespace().collect();
    for pair in words.chunks(2) {
        if let [_, file] = pair
            && !has_scheme(file)
            && !present.contains(*file)
        {
            c.warning(
                "schema-file-missing",
                Some(root.line),
                format!("xsi:schemaLocation names {file:?}, which is not in the package"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_xml_base_chains() {
        assert_eq!(
            resolve(&["", "", "resources/"], "a.htm").as_deref(),
            Ok("resources/a.htm")
        );
        assert_eq!(
            resolve(&["x", "y/", ""], "a%20b.htm?x=1").as_deref(),
            Ok("x/y/a b.htm")
        );
        assert_eq!(
            resolve(&["", "", "common/"], "../b.js").as_deref(),
            Ok("b.js")
        );
        assert!(resolve(&["", "", ""], "../b.js").is_err());
        assert!(resolve(&["", "", ""], "/b.js").is_err());
    }

    #[test]
    fn control_files() {
        assert!(is_control_file("imsmanifest.xml"));
        assert!(is_control_file("adlcp_v1p3.xsd"));
        assert!(is_control_file("common/anyElement.xsd"));
        assert!(!is_control_file("m/schema.xsd"));
        assert!(!is_control_file("index.html"));
    }
}

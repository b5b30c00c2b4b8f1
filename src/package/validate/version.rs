//! Which SCORM a manifest is, from its `schemaversion` and from the
//! namespaces it uses, and whether the two agree (SCORM 1.2 CAM §2.3.4.1;
//! SCORM 2004 4th Ed. CAM §3.4.1.3).

use super::Checker;
use super::xmltree::Element;

pub const CP12_NS: &str = "http://www.imsproject.org/xsd/imscp_rootv1p1p2";
pub const ADLCP12_NS: &str = "http://www.adlnet.org/xsd/adlcp_rootv1p2";
pub const CP2004_NS: &str = "http://www.imsglobal.org/xsd/imscp_v1p1";
pub const ADLCP2004_NS: &str = "http://www.adlnet.org/xsd/adlcp_v1p3";
pub const IMSSS_NS: &str = "http://www.imsglobal.org/xsd/imsss";
pub const ADLSEQ_NS: &str = "http://www.adlnet.org/xsd/adlseq_v1p3";
pub const ADLNAV_NS: &str = "http://www.adlnet.org/xsd/adlnav_v1p3";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Scorm12,
    Scorm2004,
}

impl Version {
    pub fn standard(self) -> &'static str {
        match self {
            Version::Scorm12 => "scorm12",
            Version::Scorm2004 => "scorm2004",
        }
    }

    /// The namespace of the ADL content-packaging extension.
    pub fn adlcp(self) -> &'static str {
        match self {
            Version::Scorm12 => ADLCP12_NS,
            Version::Scorm2004 => ADLCP2004_NS,
        }
    }
}

/// The version a `schemaversion` value names.
fn named_version(v: &str) -> Option<Version> {
    match v {
        "1.2" => Some(Version::Scorm12),
        // 4th, 3rd and 2nd Edition ("CAM 1.3") share their namespaces.
        "2004 4th Edition" | "2004 3rd Edition" | "CAM 1.3" => Some(Version::Scorm2004),
        _ => None,
    }
}

/// Decides the version and reports disagreements. `cp` is the root's
/// namespace (already known to be one of the two CP namespaces).
pub fn detect(c: &mut Checker, root: &Element, cp: &str) -> (Version, Option<String>) {
    let uses = |ns: &str| {
        root.walk().iter().any(|e| {
            e.ns.as_deref() == Some(ns) || e.attrs.iter().any(|a| a.ns.as_deref() == Some(ns))
        })
    };
    let uses_adlcp12 = uses(ADLCP12_NS);
    let uses_2004_ext = [ADLCP2004_NS, IMSSS_NS, ADLSEQ_NS, ADLNAV_NS]
        .into_iter()
        .find(|ns| uses(ns));

    let by_namespace = if cp == CP12_NS || uses_adlcp12 {
        Version::Scorm12
    } else {
        Version::Scorm2004
    };

    let metadata = root.child(cp, "metadata");
    let schema = metadata.and_then(|m| m.child(cp, "schema"));
    let schemaversion = metadata.and_then(|m| m.child(cp, "schemaversion"));
    let sv_text = schemaversion.map(|e| e.text.trim().to_string());

    let version = match (&sv_text, schemaversion) {
        (Some(text), Some(el)) => match named_version(text) {
            Some(v) => {
                let clash = match v {
                    Version::Scorm12 if cp == CP2004_NS && !uses_adlcp12 => Some(format!(
                        "its content-packaging namespace is SCORM 2004's ({CP2004_NS})"
                    )),
                    Version::Scorm12 => {
                        uses_2004_ext.map(|ns| format!("it uses the SCORM 2004 namespace {ns}"))
                    }
                    Version::Scorm2004 if cp == CP12_NS => Some(format!(
                        "its content-packaging namespace is SCORM 1.2's ({CP12_NS})"
                    )),
                    Version::Scorm2004 if uses_adlcp12 => {
                        Some(format!("it uses the SCORM 1.2 namespace {ADLCP12_NS}"))
                    }
                    Version::Scorm2004 => None,
                };
                if let Some(why) = clash {
                    c.error(
                        "schemaversion-mismatch",
                        Some(el.line),
                        format!("schemaversion {text:?} does not match the namespaces: {why}"),
                    );
                } else if v == Version::Scorm12 && cp == CP2004_NS {
                    c.warning(
                        "namespace-mixed",
                        Some(root.line),
                        format!("SCORM 1.2 manifest in the IMS CP 1.1.4 namespace ({CP2004_NS}); SCORM 1.2 uses {CP12_NS}. Many LMSs accept it; strict ones do not"),
                    );
                }
                v
            }
            None => {
                c.error(
                    "schemaversion-unknown",
                    Some(el.line),
                    format!("schemaversion {text:?} is not a SCORM version (\"1.2\" or \"2004 4th Edition\")"),
                );
                by_namespace
            }
        },
        _ => {
            let line = metadata.map(|m| m.line).or(Some(root.line));
            let msg = "no <metadata><schemaversion>: the manifest must say which SCORM it is";
            match by_namespace {
                Version::Scorm2004 => c.error("schemaversion-missing", line, msg),
                Version::Scorm12 => c.warning("schemaversion-missing", line, msg),
            }
            by_namespace
        }
    };

    if sv_text.is_some() {
        match schema.map(|s| s.text.trim()) {
            Some("ADL SCORM") => {}
            other => {
                let msg = match other {
                    Some(s) => format!("<schema> is {s:?}; SCORM requires \"ADL SCORM\""),
                    None => "no <schema>ADL SCORM</schema> next to schemaversion".to_string(),
                };
                let line = schema.or(metadata).map(|e| e.line);
                match version {
                    Version::Scorm2004 => c.error("schema-name", line, msg),
                    Version::Scorm12 => c.warning("schema-name", line, msg),
                }
            }
        }
    }
    (version, sv_text.filter(|t| named_version(t).is_some()))
}

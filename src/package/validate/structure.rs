//! The content-packaging skeleton: which CP elements may appear where, in
//! which order and how often, and their required attributes (IMS CP 1.1.2
//! `imscp_rootv1p1p2.xsd` for SCORM 1.2, IMS CP 1.1.4 `imscp_v1p1.xsd` for
//! SCORM 2004, tightened where the SCORM CAM makes an optional element
//! mandatory). Extension elements (adlcp, imsss, …) may follow the CP
//! children of an element, never precede them.

use super::Checker;
use super::version::Version;
use super::xmltree::Element;

#[derive(Clone, Copy)]
enum Occurs {
    Optional,
    One,
    Many,
}

struct Spec {
    name: &'static str,
    required_attrs: &'static [&'static str],
    /// Allowed CP children, in the order the schema requires.
    children: &'static [(&'static str, Occurs)],
    /// Whether extension elements may follow.
    extensible: bool,
}

use Occurs::*;

const SPECS: &[Spec] = &[
    Spec {
        name: "manifest",
        required_attrs: &["identifier"],
        children: &[
            ("metadata", Optional),
            ("organizations", One),
            ("resources", One),
            ("manifest", Many),
        ],
        extensible: true,
    },
    Spec {
        name: "metadata",
        required_attrs: &[],
        children: &[("schema", Optional), ("schemaversion", Optional)],
        extensible: true,
    },
    Spec {
        name: "organizations",
        required_attrs: &[],
        children: &[("organization", Many)],
        extensible: true,
    },
    Spec {
        name: "organization",
        required_attrs: &["identifier"],
        children: &[("title", Optional), ("item", Many), ("metadata", Optional)],
        extensible: true,
    },
    Spec {
        name: "item",
        required_attrs: &["identifier"],
        children: &[("title", Optional), ("item", Many), ("metadata", Optional)],
        extensible: true,
    },
    Spec {
        name: "resources",
        required_attrs: &[],
        children: &[("resource", Many)],
        extensible: true,
    },
    Spec {
        name: "resource",
        required_attrs: &["identifier", "type"],
        children: &[("metadata", Optional), ("file", Many), ("dependency", Many)],
        extensible: true,
    },
    Spec {
        name: "file",
        required_attrs: &["href"],
        children: &[("metadata", Optional)],
        extensible: true,
    },
    Spec {
        name: "dependency",
        required_attrs: &["identifierref"],
        children: &[],
        extensible: true,
    },
    Spec {
        name: "title",
        required_attrs: &[],
        children: &[],
        extensible: false,
    },
    Spec {
        name: "schema",
        required_attrs: &[],
        children: &[],
        extensible: false,
    },
    Spec {
        name: "schemaversion",
        required_attrs: &[],
        children: &[],
        extensible: false,
    },
];

pub fn check(c: &mut Checker, el: &Element, cp: &str, version: Version) {
    let Some(spec) = SPECS.iter().find(|s| s.name == el.local) else {
        return;
    };
    for attr in spec.required_attrs {
        match el.attr(attr) {
            Some(v) if !v.trim().is_empty() => {}
            Some(_) => c.error(
                "structure",
                Some(el.line),
                format!("<{}>: attribute {attr} is empty", el.qname),
            ),
            None => c.error(
                "structure",
                Some(el.line),
                format!("<{}>: required attribute {attr} is missing", el.qname),
            ),
        }
    }

    let mut counts = vec![0usize; spec.children.len()];
    let mut last_index = 0usize;
    let mut last_name: Option<&str> = None;
    let mut seen_extension: Option<&Element> = None;
    for child in &el.children {
        if child.ns.as_deref() != Some(cp) {
            if !spec.extensible {
                c.error(
                    "structure",
                    Some(child.line),
                    format!("<{}> may not contain <{}>", el.qname, child.qname),
                );
            } else if child.ns.is_none() {
                c.error(
                    "structure",
                    Some(child.line),
                    format!("<{}> is in no namespace: the manifest's default namespace is missing or wrong", child.qname),
                );
            }
            seen_extension.get_or_insert(child);
            continue;
        }
        let Some(index) = spec.children.iter().position(|(n, _)| *n == child.local) else {
            c.error(
                "structure",
                Some(child.line),
                format!("<{}> is not allowed inside <{}>", child.qname, el.qname),
            );
            continue;
        };
        if let Some(ext) = seen_extension {
            c.error(
                "structure",
                Some(child.line),
                format!(
                    "<{}> must come before the extension element <{}> (line {})",
                    child.qname, ext.qname, ext.line
                ),
            );
        } else if index < last_index {
            c.error(
                "structure",
                Some(child.line),
                format!(
                    "<{}> must come before <{}> inside <{}>",
                    child.qname,
                    last_name.unwrap_or("?"),
                    el.qname
                ),
            );
        }
        last_index = last_index.max(index);
        last_name = Some(spec.children[index].0);
        counts[index] += 1;
        check(c, child, cp, version);
    }
    for ((name, occurs), n) in spec.children.iter().zip(counts) {
        let problem = match occurs {
            One if n == 0 => Some(format!("<{}> needs a <{name}>", el.qname)),
            One | Optional if n > 1 => Some(format!(
                "<{}> may contain only one <{name}> (found {n})",
                el.qname
            )),
            _ => None,
        };
        if let Some(p) = problem {
            c.error("structure", Some(el.line), p);
        }
    }

    // What the SCORM CAM adds to the CP schema.
    let who = super::who(el);
    match el.local.as_str() {
        "organization" | "item" => {
            match el.child(cp, "title") {
                Some(t) if !t.text.trim().is_empty() => {}
                Some(t) => c.error(
                    "title-missing",
                    Some(t.line),
                    format!("{who}: <title> is empty"),
                ),
                None => c.error(
                    "title-missing",
                    Some(el.line),
                    format!("{who} has no <title>"),
                ),
            }
            if el.local == "organization" && el.child(cp, "item").is_none() {
                let msg =
                    format!("{who} has no <item>: there is nothing for the learner to launch");
                match version {
                    Version::Scorm2004 => c.error("structure", Some(el.line), msg),
                    Version::Scorm12 => c.warning("structure", Some(el.line), msg),
                }
            }
        }
        _ => {}
    }
}

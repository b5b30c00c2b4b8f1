//! What the XSDs cannot see: identifiers (unique, well-formed), the default
//! organization, `identifierref`s, the resource type of launchable items,
//! `adlcp:scormType` / `adlcp:scormtype` (spelling differs by version), and
//! the values of the ADL and IMS SS extensions we understand.

use std::collections::BTreeMap;

use super::Checker;
use super::version::{ADLCP12_NS, ADLCP2004_NS, IMSSS_NS, Version};
use super::who;
use super::xmltree::Element;

/// `xs:ID` / `xs:NCName`: starts with a letter or `_`, then letters,
/// digits, `.`, `-`, `_` (and other Unicode name characters); no colon or
/// space.
pub fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    let start_ok = |c: char| c.is_alphabetic() || c == '_';
    let rest_ok = |c: char| {
        c.is_alphanumeric()
            || matches!(c, '.' | '-' | '_' | '\u{B7}')
            || ((c as u32) >= 0x300 && !c.is_whitespace())
    };
    matches!(chars.next(), Some(c) if start_ok(c)) && chars.all(rest_ok)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum IdKind {
    Manifest,
    Organization,
    Item,
    Resource,
    Sequencing,
}

struct Ids<'a> {
    map: BTreeMap<&'a str, (IdKind, usize)>,
}

pub fn check(c: &mut Checker, root: &Element, cp: &str, version: Version) {
    let all = root.walk();
    let mut ids = Ids {
        map: BTreeMap::new(),
    };

    // Identifiers: one namespace of xs:ID values for the whole document.
    for el in &all {
        let (kind, value) = if el.ns.as_deref() == Some(cp) {
            let kind = match el.local.as_str() {
                "manifest" => IdKind::Manifest,
                "organization" => IdKind::Organization,
                "item" => IdKind::Item,
                "resource" => IdKind::Resource,
                _ => continue,
            };
            match el.id_attr("identifier") {
                Some(v) => (kind, v),
                None => continue,
            }
        } else if el.is(IMSSS_NS, "sequencing") {
            match el.id_attr("ID") {
                Some(v) => (IdKind::Sequencing, v),
                None => continue,
            }
        } else {
            continue;
        };
        if !is_ncname(value) {
            c.error(
                "identifier-invalid",
                Some(el.line),
                format!("{}: identifier {value:?} is not a valid XML ID (start with a letter or _, no spaces or colons)", who(el)),
            );
        }
        if let Some((_, first)) = ids.map.get(value) {
            c.error(
                "identifier-duplicate",
                Some(el.line),
                format!("{}: identifier {value:?} is already used on line {first}; identifiers must be unique", who(el)),
            );
        } else {
            ids.map.insert(value, (kind, el.line));
        }
    }

    let resources: BTreeMap<&str, &Element> = all
        .iter()
        .filter(|e| e.is(cp, "resource"))
        .filter_map(|e| e.id_attr("identifier").map(|id| (id, *e)))
        .collect();

    // Default organization.
    for orgs in all.iter().filter(|e| e.is(cp, "organizations")) {
        let org_ids: Vec<&str> = orgs
            .children(cp, "organization")
            .filter_map(|o| o.id_attr("identifier"))
            .collect();
        match orgs.id_attr("default") {
            None if !org_ids.is_empty() => {
                let msg = format!(
                    "organizations: no default attribute; name the organization to launch (default=\"{}\")",
                    org_ids[0]
                );
                match version {
                    Version::Scorm2004 => {
                        c.error("default-organization-missing", Some(orgs.line), msg)
                    }
                    Version::Scorm12 => {
                        c.warning("default-organization-missing", Some(orgs.line), msg)
                    }
                }
            }
            None => {}
            Some(d) if org_ids.contains(&d) => {}
            Some(d) => {
                let what = match ids.map.get(d) {
                    Some((kind, line)) => {
                        format!("it names the {kind:?} on line {line}, not an organization")
                            .to_lowercase()
                    }
                    None => "no organization has that identifier".to_string(),
                };
                c.error(
                    "default-organization-dangling",
                    Some(orgs.line),
                    format!("organizations: default {d:?} points to no organization ({what})"),
                );
            }
        }
    }

    // Items.
    for item in all.iter().filter(|e| e.is(cp, "item")) {
        let has_children = item.child(cp, "item").is_some();
        if let Some(v) = item.attr("isvisible")
            && !matches!(v.trim(), "true" | "false" | "1" | "0")
        {
            c.error(
                "value-invalid",
                Some(item.line),
                format!("{}: isvisible must be true or false, not {v:?}", who(item)),
            );
        }
        match item.id_attr("identifierref") {
            Some(r) => {
                if has_children {
                    let msg = format!(
                        "{}: an item with child items must not reference a resource (identifierref {r:?})",
                        who(item)
                    );
                    match version {
                        Version::Scorm2004 => c.error("item-structure", Some(item.line), msg),
                        Version::Scorm12 => c.warning("item-structure", Some(item.line), msg),
                    }
                }
                match resources.get(r) {
                    Some(res) => {
                        if res.attr("href").is_none() {
                            c.error(
                                "launch-missing",
                                Some(item.line),
                                format!("{}: resource {r:?} has no href, so the item cannot be launched", who(item)),
                            );
                        }
                    }
                    None => match ids.map.get(r) {
                        Some((IdKind::Manifest, _)) => c.warning(
                            "submanifest-reference",
                            Some(item.line),
                            format!("{}: identifierref {r:?} points to a sub-manifest; few LMSs support that", who(item)),
                        ),
                        _ => c.error(
                            "identifierref-dangling",
                            Some(item.line),
                            format!("{}: identifierref {r:?} points to no resource", who(item)),
                        ),
                    },
                }
            }
            None if !has_children => {
                let msg = format!(
                    "{}: a leaf item needs an identifierref to the resource it launches",
                    who(item)
                );
                match version {
                    Version::Scorm2004 => c.error("item-structure", Some(item.line), msg),
                    Version::Scorm12 => c.warning("item-structure", Some(item.line), msg),
                }
            }
            None => {}
        }
    }

    // Resources: scormType and dependencies.
    for res in all.iter().filter(|e| e.is(cp, "resource")) {
        scorm_type(c, res, version);
        if let Some(t) = res.attr("type")
            && t != "webcontent"
        {
            c.warning(
                "resource-type",
                Some(res.line),
                format!(
                    "{}: type {t:?}; SCORM resources are type \"webcontent\"",
                    who(res)
                ),
            );
        }
        for dep in res.children(cp, "dependency") {
            if let Some(r) = dep.id_attr("identifierref")
                && !resources.contains_key(r)
            {
                c.error(
                    "identifierref-dangling",
                    Some(dep.line),
                    format!(
                        "{}: dependency identifierref {r:?} points to no resource",
                        who(res)
                    ),
                );
            }
        }
    }

    match version {
        Version::Scorm12 => scorm12_values(c, &all),
        Version::Scorm2004 => scorm2004_values(c, &all, &ids),
    }
}

fn scorm_type(c: &mut Checker, res: &Element, version: Version) {
    let (right_ns, right, wrong, other_ns) = match version {
        Version::Scorm12 => (ADLCP12_NS, "scormtype", "scormType", ADLCP2004_NS),
        Version::Scorm2004 => (ADLCP2004_NS, "scormType", "scormtype", ADLCP12_NS),
    };
    let w = who(res);
    let value = match res.attr_ns(right_ns, right) {
        Some(v) => v,
        None => {
            let variant = res
                .attrs
                .iter()
                .find(|a| a.local.eq_ignore_ascii_case("scormtype"));
            let (code, msg) = match variant {
                Some(a) if a.ns.as_deref() == Some(right_ns) && a.local == wrong => match version {
                    Version::Scorm2004 => (
                        "scormtype-lowercase",
                        format!(
                            "{w}: {} is the SCORM 1.2 spelling; SCORM 2004 requires adlcp:scormType (capital T)",
                            a.qname
                        ),
                    ),
                    Version::Scorm12 => (
                        "scormtype-camelcase",
                        format!(
                            "{w}: {} is the SCORM 2004 spelling; SCORM 1.2 requires adlcp:scormtype (all lower case)",
                            a.qname
                        ),
                    ),
                },
                Some(a) if a.ns.is_none() => (
                    "scormtype-namespace",
                    format!(
                        "{w}: {} has no namespace prefix; write adlcp:{right} with xmlns:adlcp=\"{right_ns}\"",
                        a.qname
                    ),
                ),
                Some(a) if a.ns.as_deref() == Some(other_ns) => (
                    "schemaversion-mismatch",
                    format!(
                        "{w}: {} is in the other SCORM version's namespace ({other_ns})",
                        a.qname
                    ),
                ),
                Some(a) => (
                    "scormtype-namespace",
                    format!(
                        "{w}: {} is in the wrong namespace; expected {right_ns}",
                        a.qname
                    ),
                ),
                None => (
                    "scormtype-missing",
                    format!("{w}: adlcp:{right} is missing (sco or asset)"),
                ),
            };
            c.error(code, Some(res.line), msg);
            return;
        }
    };
    match value {
        "sco" => {
            if res.attr("href").is_none() {
                c.error(
                    "launch-missing",
                    Some(res.line),
                    format!("{w}: a SCO needs an href (its launch file)"),
                );
            }
        }
        "asset" => {}
        other => c.error(
            "scormtype-invalid",
            Some(res.line),
            format!(
                "{w}: adlcp:{right} is {other:?}; it must be \"sco\" or \"asset\" (lower case)"
            ),
        ),
    }
}

fn time_limit_action_ok(v: &str) -> bool {
    matches!(
        v,
        "exit,message" | "exit,no message" | "continue,message" | "continue,no message"
    )
}

/// SCORM 1.2 CAM §2.3.4: the adlcp item extensions.
fn scorm12_values(c: &mut Checker, all: &[&Element]) {
    for el in all.iter().filter(|e| e.ns.as_deref() == Some(ADLCP12_NS)) {
        let v = el.text.trim();
        match el.local.as_str() {
            "masteryscore" if !v.parse::<f64>().is_ok_and(|m| (0.0..=100.0).contains(&m)) => c.error(
                "value-invalid",
                Some(el.line),
                format!("adlcp:masteryscore {v:?} must be a number from 0 to 100"),
            ),
            "timelimitaction" if !time_limit_action_ok(v) => c.error(
                "value-invalid",
                Some(el.line),
                format!("adlcp:timelimitaction {v:?} must be exit,message / exit,no message / continue,message / continue,no message"),
            ),
            "maxtimeallowed" if !is_cmi_timespan(v) => c.error(
                "value-invalid",
                Some(el.line),
                format!("adlcp:maxtimeallowed {v:?} must be a CMITimespan such as 0001:30:00"),
            ),
            _ => {}
        }
    }
}

/// `HHHH:MM:SS.SS` (hours 2–4 digits, optional 1–2 decimals).
fn is_cmi_timespan(v: &str) -> bool {
    let parts: Vec<&str> = v.split(':').collect();
    if parts.len() != 3 {
        return false;
    }
    let digits = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    let (sec, frac) = parts[2].split_once('.').unwrap_or((parts[2], ""));
    digits(parts[0], 2, 4)
        && digits(parts[1], 2, 2)
        && digits(sec, 2, 2)
        && (frac.is_empty() || digits(frac, 1, 2))
}

/// SCORM 2004 4th Ed.: adlcp and imsss values the XSDs check too, plus
/// sequencing references they cannot.
fn scorm2004_values(c: &mut Checker, all: &[&Element], ids: &Ids) {
    for el in all {
        if el.is(ADLCP2004_NS, "timeLimitAction") && !time_limit_action_ok(el.text.trim()) {
            c.error(
                "value-invalid",
                Some(el.line),
                format!(
                    "adlcp:timeLimitAction {:?} must be exit,message / exit,no message / continue,message / continue,no message",
                    el.text.trim()
                ),
            );
        }
        if el.is(IMSSS_NS, "minNormalizedMeasure") {
            let v = el.text.trim();
            if !v.parse::<f64>().is_ok_and(|m| (-1.0..=1.0).contains(&m)) {
                c.error(
                    "value-invalid",
                    Some(el.line),
                    format!("imsss:minNormalizedMeasure {v:?} must be a decimal from -1 to 1"),
                );
            }
        }
        if el.is(IMSSS_NS, "sequencing")
            && let Some(r) = el.id_attr("IDRef")
            && !matches!(ids.map.get(r), Some((IdKind::Sequencing, _)))
        {
            c.error(
                "identifierref-dangling",
                Some(el.line),
                format!("imsss:sequencing IDRef {r:?} points to no sequencing in the sequencingCollection"),
            );
        }
        if el.is(IMSSS_NS, "objectives") {
            let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
            for o in &el.children {
                if let Some(id) = o.attr("objectiveID") {
                    if let Some(first) = seen.insert(id, o.line) {
                        c.error(
                            "identifier-duplicate",
                            Some(o.line),
                            format!("objectiveID {id:?} is already used on line {first} in the same activity"),
                        );
                    }
                } else if o.local == "objective" || o.child(IMSSS_NS, "mapInfo").is_some() {
                    c.error(
                        "structure",
                        Some(o.line),
                        format!("imsss:{} needs an objectiveID", o.local),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ncnames() {
        assert!(is_ncname("RES-1"));
        assert!(is_ncname("_a.b"));
        assert!(is_ncname("étape"));
        assert!(!is_ncname("1abc"));
        assert!(!is_ncname("a b"));
        assert!(!is_ncname("a:b"));
        assert!(!is_ncname(""));
    }

    #[test]
    fn timespans() {
        assert!(is_cmi_timespan("0001:30:00"));
        assert!(is_cmi_timespan("00:05:30.5"));
        assert!(!is_cmi_timespan("1:30:00"));
        assert!(!is_cmi_timespan("PT1H"));
    }
}

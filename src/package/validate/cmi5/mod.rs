//! `kmh validate` for cmi5 packages: a zip or folder with `cmi5.xml` at
//! its root, or a `cmi5.xml` on its own (cmi5 §14). Beyond the XSD
//! ([`structure`]) it checks what the spec (§13.1) adds: ids are absolute
//! IRIs, AU and block ids (and objective ids) are unique, objective
//! references resolve, `moveOn` / `launchMethod` / `masteryScore` values,
//! `launchParameters` and `entitlementKey` are text, and each AU `url`
//! either names a file of the package or is an absolute http(s) URL.
//! Leading and trailing whitespace does not count: the LMS removes it on
//! import (§13.1).

pub mod structure;

use std::collections::{BTreeMap, BTreeSet};

use super::Checker;
use super::files::resolve;
use super::report::Summary;
use super::xmltree::Element;
use crate::package::manifest::cmi5::MoveOn;
use crate::package::source::paths::{has_scheme, split_suffix};
use structure::Kind;

pub use crate::package::manifest::cmi5::CMI5_NS;

/// `standard` of a cmi5 report.
pub const STANDARD: &str = "cmi5";

const LAUNCH_METHODS: [&str; 2] = ["AnyWindow", "OwnWindow"];

/// Checks a parsed `cmi5.xml` (root already known to be a
/// `courseStructure` in the cmi5 namespace). `files`: the package's files,
/// `None` when they are not checked; `standalone`: the document came on
/// its own, so relative AU urls lead nowhere.
pub fn check(
    c: &mut Checker,
    root: &Element,
    files: Option<&BTreeSet<String>>,
    standalone: bool,
    summary: &mut Summary,
) {
    let mut found = Vec::new();
    structure::check(c, root, Kind::CourseStructure, &mut found);

    // AU and block ids (and the course's) share one space; objective ids
    // have their own.
    let mut units: BTreeMap<&str, usize> = BTreeMap::new();
    let mut objectives: BTreeMap<&str, usize> = BTreeMap::new();
    let mut references: Vec<(&str, usize)> = Vec::new();
    let mut au: Option<&Element> = None;
    let (mut aus, mut blocks) = (0, 0);
    for &(el, kind) in &found {
        match kind {
            Kind::Course | Kind::Block | Kind::Au => {
                if kind == Kind::Au {
                    aus += 1;
                    au = Some(el);
                    au_attributes(c, el);
                } else if kind == Kind::Block {
                    blocks += 1;
                }
                if let Some(id) = iri_attr(c, el, "id") {
                    unique(
                        c,
                        &mut units,
                        el,
                        id,
                        "AU and block ids must be unique in the course structure, and differ from the course id",
                    );
                }
            }
            Kind::ObjectiveDefinition => {
                if let Some(id) = iri_attr(c, el, "id") {
                    unique(c, &mut objectives, el, id, "objective ids must be unique");
                }
            }
            Kind::ObjectiveReference => match el.attr("idref").map(str::trim) {
                Some(idref) => references.push((idref, el.line)),
                None => c.warning(
                    "idref-missing",
                    Some(el.line),
                    "<objective> without idref refers to no objective",
                ),
            },
            Kind::Url => {
                let owner = au.map(who).unwrap_or_else(|| "au".into());
                url(c, el, &owner, files, standalone);
            }
            Kind::Untyped => {
                if let Some(child) = el.children.first() {
                    c.error(
                        "value-invalid",
                        Some(child.line),
                        format!(
                            "<{}> must be text (cmi5 §13.1.4: a string); found <{}>",
                            el.qname, child.qname
                        ),
                    );
                }
            }
            Kind::Text => langstrings(c, el),
            Kind::LangString => {
                if let Some(lang) = el.attr("lang")
                    && !is_language(lang.trim())
                {
                    c.error(
                        "value-invalid",
                        Some(el.line),
                        format!(
                            "<{}>: lang {lang:?} is not a language tag such as en or fr-CA",
                            el.qname
                        ),
                    );
                }
            }
            Kind::CourseStructure | Kind::ObjectiveDefinitions | Kind::ObjectiveReferences => {}
        }
    }
    for (idref, line) in references {
        if !objectives.contains_key(idref) {
            c.error(
                "idref-dangling",
                Some(line),
                format!("<objective idref={idref:?}> points to no objective of the course's <objectives>"),
            );
        }
    }
    summary.aus = Some(aus);
    summary.blocks = Some(blocks);
}

/// How findings name an element: `au https://…`, `block …`, `course`.
fn who(el: &Element) -> String {
    match el.attr("id").map(str::trim) {
        Some(id) if matches!(el.local.as_str(), "au" | "block" | "objective") => {
            format!("{} {id}", el.local)
        }
        _ => el.local.clone(),
    }
}

/// An id attribute that must be an absolute IRI (cmi5 §13.1: "a globally
/// unique IRI"); returns it trimmed when it is one.
fn iri_attr<'a>(c: &mut Checker, el: &'a Element, name: &str) -> Option<&'a str> {
    let id = el.attr(name)?.trim();
    match oxiri::Iri::parse(id) {
        Ok(_) => Some(id),
        Err(e) => {
            c.error(
                "id-invalid",
                Some(el.line),
                format!(
                    "{}: {name} {id:?} is not an absolute IRI ({e}); cmi5 ids are globally unique IRIs such as https://example.org/courses/c1/aus/a1",
                    el.qname
                ),
            );
            None
        }
    }
}

fn unique<'a>(
    c: &mut Checker,
    ids: &mut BTreeMap<&'a str, usize>,
    el: &Element,
    id: &'a str,
    rule: &str,
) {
    match ids.get(id) {
        Some(first) => c.error(
            "id-duplicate",
            Some(el.line),
            format!(
                "{}: id {id:?} is already used on line {first}; {rule}",
                who(el)
            ),
        ),
        None => {
            ids.insert(id, el.line);
        }
    }
}

/// `moveOn`, `masteryScore`, `launchMethod`, `activityType` of an AU.
fn au_attributes(c: &mut Checker, el: &Element) {
    let who = who(el);
    if let Some(v) = el.attr("moveOn") {
        let v = v.trim();
        if !MoveOn::ALL.iter().any(|m| m.as_str() == v) {
            let all: Vec<&str> = MoveOn::ALL.iter().map(|m| m.as_str()).collect();
            c.error(
                "value-invalid",
                Some(el.line),
                format!(
                    "{who}: moveOn {v:?} must be one of {}{}",
                    all.join(", "),
                    case_hint(v, &all)
                ),
            );
        }
    }
    if let Some(v) = el.attr("launchMethod") {
        let v = v.trim();
        if !LAUNCH_METHODS.contains(&v) {
            c.error(
                "value-invalid",
                Some(el.line),
                format!(
                    "{who}: launchMethod {v:?} must be AnyWindow or OwnWindow{}",
                    case_hint(v, &LAUNCH_METHODS)
                ),
            );
        }
    }
    if let Some(v) = el.attr("masteryScore") {
        let v = v.trim();
        match v.parse::<f64>() {
            Ok(score) if is_decimal(v) && (0.0..=1.0).contains(&score) => {
                let places = v.split_once('.').map_or(0, |(_, f)| f.len());
                if places > 4 {
                    c.warning(
                        "value-precision",
                        Some(el.line),
                        format!("{who}: masteryScore {v:?} has more than the 4 decimal places cmi5 keeps (§13.1.4)"),
                    );
                }
            }
            _ => c.error(
                "value-invalid",
                Some(el.line),
                format!("{who}: masteryScore {v:?} must be a decimal from 0 to 1 (a scaled score: 0.8, not 80)"),
            ),
        }
    }
    if let Some(v) = el.attr("activityType")
        && oxiri::Iri::parse(v.trim()).is_err()
    {
        c.warning(
            "value-invalid",
            Some(el.line),
            format!("{who}: activityType {:?} is not an absolute IRI such as http://adlnet.gov/expapi/activities/lesson", v.trim()),
        );
    }
}

fn case_hint(v: &str, allowed: &[&str]) -> String {
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(v))
        .map(|a| format!(" (values are case-sensitive: {a})"))
        .unwrap_or_default()
}

/// `xs:decimal`: optional sign, digits, optional fraction; no exponent.
fn is_decimal(v: &str) -> bool {
    let v = v.strip_prefix(['+', '-']).unwrap_or(v);
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    (!int.is_empty() || !frac.is_empty())
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// `xs:language`: `[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*`.
fn is_language(v: &str) -> bool {
    let mut parts = v.split('-');
    let first_ok = parts
        .next()
        .is_some_and(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    first_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A title or description: one text per language, and a title that says
/// something.
fn langstrings(c: &mut Checker, el: &Element) {
    let strings: Vec<&Element> = el
        .children
        .iter()
        .filter(|s| s.is(CMI5_NS, "langstring"))
        .collect();
    let mut langs: BTreeMap<String, usize> = BTreeMap::new();
    for s in &strings {
        let lang = s.attr("lang").unwrap_or("").trim().to_ascii_lowercase();
        if let Some(first) = langs.get(&lang) {
            c.warning(
                "lang-duplicate",
                Some(s.line),
                format!(
                    "<{}> already has a langstring in {} on line {first}; an LMS shows one of them",
                    el.qname,
                    if lang.is_empty() {
                        "no language"
                    } else {
                        &lang
                    }
                ),
            );
        } else {
            langs.insert(lang, s.line);
        }
    }
    if el.local == "title"
        && !strings.is_empty()
        && strings.iter().all(|s| s.text.trim().is_empty())
    {
        c.warning(
            "title-empty",
            Some(el.line),
            "<title> is empty: the LMS has nothing to show",
        );
    }
}

/// An AU's launch URL: a file of the package (relative) or an absolute
/// http(s) URL (cmi5 §13.1.4, §14.1, §14.2).
fn url(
    c: &mut Checker,
    el: &Element,
    owner: &str,
    files: Option<&BTreeSet<String>>,
    standalone: bool,
) {
    let u = el.text.trim();
    if u.is_empty() {
        c.error(
            "url-invalid",
            Some(el.line),
            format!("{owner}: <url> is empty"),
        );
        return;
    }
    if u.starts_with("//") {
        c.error(
            "url-invalid",
            Some(el.line),
            format!("{owner}: url {u:?} has no scheme; write it in full (https://…)"),
        );
        return;
    }
    if has_scheme(u) {
        let scheme = u.split(':').next().unwrap_or_default().to_ascii_lowercase();
        if scheme == "http" || scheme == "https" {
            if let Err(e) = oxiri::Iri::parse(u) {
                c.error(
                    "url-invalid",
                    Some(el.line),
                    format!("{owner}: url {u:?} is not a valid URL ({e})"),
                );
            }
        } else {
            c.warning(
                "url-scheme",
                Some(el.line),
                format!("{owner}: url {u:?} uses the scheme {scheme}: a browser cannot launch it, only an application registered for {scheme}:"),
            );
        }
        return;
    }
    if standalone {
        c.error(
            "url-relative",
            Some(el.line),
            format!("{owner}: url {u:?} is relative, but a cmi5.xml without its zip must give fully qualified URLs (cmi5 §14.2); validate the zip or folder instead"),
        );
        return;
    }
    let path = match resolve(&[], u) {
        Ok(p) if p.is_empty() => {
            c.error(
                "url-invalid",
                Some(el.line),
                format!("{owner}: url {u:?} names no file"),
            );
            return;
        }
        Ok(p) => p,
        Err(why) => {
            c.error(
                "path-invalid",
                Some(el.line),
                format!("{owner}: url {u:?} {why}"),
            );
            return;
        }
    };
    let Some(files) = files else { return };
    if files.contains(&path) {
        return;
    }
    let hint = c.case_hint(files, &path);
    let (shown, _) = split_suffix(u);
    let names = if shown == path {
        String::new()
    } else {
        format!(", that is {path:?},")
    };
    c.error(
        "launch-file-missing",
        Some(el.line),
        format!("{owner}: url {u:?}{names} is not a file of the package{hint}"),
    );
}

#[cfg(test)]
mod tests;

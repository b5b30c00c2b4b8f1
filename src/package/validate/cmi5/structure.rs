//! The course structure's XSD (`schemas/cmi5/CourseStructure.xsd`), in
//! full: which elements may appear where, in which order and how often,
//! which attributes they take, and where extensions (elements and
//! attributes of other namespaces, `##other`) may go. The XSD is small
//! enough that checking it here costs less than shipping a schema engine,
//! and every finding can name the element and line.

use super::super::Checker;
use super::super::xmltree::Element;
use super::CMI5_NS;

/// What an element of the course structure is: its XSD type, which can
/// depend on the parent (`objectives` lists definitions under
/// `courseStructure`, references under `au` and `block`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    CourseStructure,
    Course,
    ObjectiveDefinitions,
    ObjectiveDefinition,
    ObjectiveReferences,
    ObjectiveReference,
    Block,
    Au,
    /// `title`, `description`: one or more `langstring`.
    Text,
    LangString,
    Url,
    /// `launchParameters`, `entitlementKey`: untyped in the XSD (anything
    /// goes); the spec says they are strings, checked in [`super`].
    Untyped,
}

/// One slot of an `xs:sequence`: the element names it accepts (several
/// for an `xs:choice`), how often, and what they are.
struct Particle {
    names: &'static [(&'static str, Kind)],
    min: usize,
    /// `None`: unbounded.
    max: Option<usize>,
}

const fn one(name: &'static [(&'static str, Kind)]) -> Particle {
    Particle {
        names: name,
        min: 1,
        max: Some(1),
    }
}

const fn optional(name: &'static [(&'static str, Kind)]) -> Particle {
    Particle {
        names: name,
        min: 0,
        max: Some(1),
    }
}

const fn many(names: &'static [(&'static str, Kind)]) -> Particle {
    Particle {
        names,
        min: 1,
        max: None,
    }
}

const TITLE: &[(&str, Kind)] = &[("title", Kind::Text)];
const DESCRIPTION: &[(&str, Kind)] = &[("description", Kind::Text)];
const AU_OR_BLOCK: &[(&str, Kind)] = &[("au", Kind::Au), ("block", Kind::Block)];
const OBJECTIVE_REFERENCES: &[(&str, Kind)] = &[("objectives", Kind::ObjectiveReferences)];

const COURSE_STRUCTURE: &[Particle] = &[
    one(&[("course", Kind::Course)]),
    optional(&[("objectives", Kind::ObjectiveDefinitions)]),
    many(AU_OR_BLOCK),
];
const COURSE: &[Particle] = &[one(TITLE), one(DESCRIPTION)];
const OBJECTIVE_DEFINITIONS: &[Particle] = &[many(&[("objective", Kind::ObjectiveDefinition)])];
const OBJECTIVE_REFERENCES_MODEL: &[Particle] = &[many(&[("objective", Kind::ObjectiveReference)])];
const BLOCK: &[Particle] = &[
    one(TITLE),
    one(DESCRIPTION),
    optional(OBJECTIVE_REFERENCES),
    many(AU_OR_BLOCK),
];
const AU: &[Particle] = &[
    one(TITLE),
    one(DESCRIPTION),
    optional(OBJECTIVE_REFERENCES),
    one(&[("url", Kind::Url)]),
    optional(&[("launchParameters", Kind::Untyped)]),
    optional(&[("entitlementKey", Kind::Untyped)]),
];
const OBJECTIVE_DEFINITION: &[(&str, Kind)] = &[("title", Kind::Text), ("description", Kind::Text)];
const TEXT: &[Particle] = &[many(&[("langstring", Kind::LangString)])];

/// The content model of a kind.
enum Model {
    /// A sequence, then (if `open`) elements of other namespaces.
    Sequence(&'static [Particle], bool),
    /// `xs:all`: each child exactly once, in any order; nothing else.
    All(&'static [(&'static str, Kind)]),
    /// Text only, no child elements.
    Text,
    /// No children at all.
    Empty,
    /// Anything.
    Any,
}

struct Spec {
    model: Model,
    /// Attributes in no namespace that the element takes.
    attrs: &'static [&'static str],
    required: &'static [&'static str],
    /// Whether attributes of other namespaces are allowed (`xs:anyAttribute`).
    open_attrs: bool,
}

fn spec(kind: Kind) -> Spec {
    let (model, attrs, required, open_attrs): (Model, &[&str], &[&str], bool) = match kind {
        Kind::CourseStructure => (Model::Sequence(COURSE_STRUCTURE, true), &[], &[], true),
        Kind::Course => (Model::Sequence(COURSE, true), &["id"], &["id"], true),
        Kind::ObjectiveDefinitions => {
            (Model::Sequence(OBJECTIVE_DEFINITIONS, true), &[], &[], true)
        }
        Kind::ObjectiveDefinition => (Model::All(OBJECTIVE_DEFINITION), &["id"], &["id"], false),
        Kind::ObjectiveReferences => (
            Model::Sequence(OBJECTIVE_REFERENCES_MODEL, true),
            &[],
            &[],
            true,
        ),
        Kind::ObjectiveReference => (Model::Empty, &["idref"], &[], false),
        Kind::Block => (Model::Sequence(BLOCK, true), &["id"], &["id"], true),
        Kind::Au => (
            Model::Sequence(AU, true),
            &[
                "id",
                "moveOn",
                "masteryScore",
                "launchMethod",
                "activityType",
            ],
            &["id"],
            true,
        ),
        Kind::Text => (Model::Sequence(TEXT, true), &[], &[], true),
        Kind::LangString => (Model::Text, &["lang"], &[], true),
        Kind::Url => (Model::Text, &[], &[], false),
        Kind::Untyped => (Model::Any, &[], &[], true),
    };
    Spec {
        model,
        attrs,
        required,
        open_attrs,
    }
}

/// Checks `el` (of kind `kind`) and everything below it; pushes every
/// course-structure element it recognises, with its kind, onto `found`,
/// in document order, for the value rules.
pub fn check<'a>(
    c: &mut Checker,
    el: &'a Element,
    kind: Kind,
    found: &mut Vec<(&'a Element, Kind)>,
) {
    found.push((el, kind));
    let spec = spec(kind);
    check_attributes(c, el, &spec);
    match spec.model {
        Model::Any => {}
        Model::Empty => {
            for child in &el.children {
                c.error(
                    "structure",
                    Some(child.line),
                    format!("<{}> must be empty; found <{}>", el.qname, child.qname),
                );
            }
            no_text(c, el);
        }
        Model::Text => {
            for child in &el.children {
                c.error(
                    "structure",
                    Some(child.line),
                    format!("<{}> holds text only; found <{}>", el.qname, child.qname),
                );
            }
        }
        Model::All(names) => {
            no_text(c, el);
            let mut seen = vec![0usize; names.len()];
            for child in &el.children {
                match names
                    .iter()
                    .position(|(n, _)| child.ns.as_deref() == Some(CMI5_NS) && child.local == *n)
                {
                    Some(i) => {
                        seen[i] += 1;
                        if seen[i] == 2 {
                            c.error(
                                "structure",
                                Some(child.line),
                                format!("<{}> may contain only one <{}>", el.qname, child.qname),
                            );
                        }
                        check(c, child, names[i].1, found);
                    }
                    None => c.error(
                        "structure",
                        Some(child.line),
                        format!("<{}> is not allowed inside <{}>", child.qname, el.qname),
                    ),
                }
            }
            for ((name, _), n) in names.iter().zip(seen) {
                if n == 0 {
                    c.error(
                        "structure",
                        Some(el.line),
                        format!("<{}> needs a <{name}>", el.qname),
                    );
                }
            }
        }
        Model::Sequence(particles, open) => {
            no_text(c, el);
            sequence(c, el, particles, open, found);
        }
    }
}

/// Element-only content: text between the children is an error.
fn no_text(c: &mut Checker, el: &Element) {
    let text = el.text.trim();
    if !text.is_empty() {
        let excerpt: String = text.chars().take(30).collect();
        c.error(
            "structure",
            Some(el.line),
            format!("<{}> may not contain text (found {excerpt:?})", el.qname),
        );
    }
}

fn sequence<'a>(
    c: &mut Checker,
    el: &'a Element,
    particles: &[Particle],
    open: bool,
    found: &mut Vec<(&'a Element, Kind)>,
) {
    let mut pos = 0usize;
    let mut count = 0usize;
    let mut extension: Option<&Element> = None;
    let mut last: Option<&Element> = None;
    let accepts = |p: &Particle, child: &Element| {
        p.names
            .iter()
            .find(|(n, _)| *n == child.local)
            .map(|(_, k)| *k)
    };
    for child in &el.children {
        if child.ns.as_deref() != Some(CMI5_NS) {
            if child.ns.is_none() {
                c.error(
                    "structure",
                    Some(child.line),
                    format!(
                        "<{}> is in no namespace: course-structure elements are in {CMI5_NS} and extensions in a namespace of their own",
                        child.qname
                    ),
                );
            } else if !open {
                c.error(
                    "structure",
                    Some(child.line),
                    format!("<{}> may not contain <{}>", el.qname, child.qname),
                );
            }
            extension.get_or_insert(child);
            continue;
        }
        // Where in the sequence does this child fit, from here on?
        let fits = (pos..particles.len()).find_map(|i| {
            let kind = accepts(&particles[i], child)?;
            let room = i > pos || particles[i].max.is_none_or(|m| count < m);
            room.then_some((i, kind))
        });
        let Some((i, kind)) = fits else {
            let message = if particles.get(pos).and_then(|p| accepts(p, child)).is_some() {
                format!("<{}> may contain only one <{}>", el.qname, child.qname)
            } else if particles[..pos].iter().any(|p| accepts(p, child).is_some()) {
                format!(
                    "<{}> must come before <{}> inside <{}>",
                    child.qname,
                    last.map_or("?", |l: &Element| l.qname.as_str()),
                    el.qname
                )
            } else {
                format!("<{}> is not allowed inside <{}>", child.qname, el.qname)
            };
            c.error("structure", Some(child.line), message);
            continue;
        };
        if let Some(ext) = extension {
            c.error(
                "structure",
                Some(child.line),
                format!(
                    "<{}> must come before the extension element <{}> (line {})",
                    child.qname, ext.qname, ext.line
                ),
            );
        }
        if i > pos {
            missing(c, el, &particles[pos..i], count, Some(child));
            pos = i;
            count = 0;
        }
        count += 1;
        last = Some(child);
        check(c, child, kind, found);
    }
    if pos < particles.len() {
        missing(c, el, &particles[pos..], count, None);
    }
}

/// Reports the particles in `skipped` that needed more occurrences; the
/// first has already been seen `count` times.
fn missing(
    c: &mut Checker,
    el: &Element,
    skipped: &[Particle],
    count: usize,
    before: Option<&Element>,
) {
    for (j, p) in skipped.iter().enumerate() {
        let seen = if j == 0 { count } else { 0 };
        if seen < p.min {
            let what = p
                .names
                .iter()
                .map(|(n, _)| format!("<{n}>"))
                .collect::<Vec<_>>()
                .join(" or ");
            let message = match before {
                Some(b) => format!("<{}> needs {what} before <{}>", el.qname, b.qname),
                None => format!("<{}> needs {what}", el.qname),
            };
            c.error("structure", Some(el.line), message);
        }
    }
}

fn check_attributes(c: &mut Checker, el: &Element, spec: &Spec) {
    for a in &el.attrs {
        match a.ns.as_deref() {
            None if spec.attrs.contains(&a.local.as_str()) => {}
            None => {
                let takes = match spec.attrs {
                    [] => "takes no attributes".to_string(),
                    names => format!("takes {}", names.join(", ")),
                };
                let hint = spec
                    .attrs
                    .iter()
                    .find(|n| n.eq_ignore_ascii_case(&a.local))
                    .map(|n| format!(" (names are case-sensitive: {n})"))
                    .unwrap_or_default();
                c.error(
                    "structure",
                    Some(el.line),
                    format!(
                        "<{}>: attribute {} is not allowed; a cmi5 <{}> {takes}{hint}",
                        el.qname, a.qname, el.local
                    ),
                );
            }
            Some(ns) if ns == CMI5_NS || !spec.open_attrs => c.error(
                "structure",
                Some(el.line),
                format!("<{}>: attribute {} is not allowed", el.qname, a.qname),
            ),
            Some(_) => {}
        }
    }
    for name in spec.required {
        if el.attr(name).is_none() {
            c.error(
                "structure",
                Some(el.line),
                format!("<{}>: required attribute {name} is missing", el.qname),
            );
        }
    }
}

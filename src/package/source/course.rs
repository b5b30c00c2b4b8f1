//! `course.toml`: a programme's id, titles, languages and ordered modules
//! (`packages/FORMAT.md`, section "course.toml"; JSON Schema
//! `schemas/course.schema.json`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::diag::{Diagnostics, line_at};
use super::{check_id, check_language_tag, toml_error};

/// A parsed and checked course file.
#[derive(Debug, Clone)]
pub struct Course {
    pub id: String,
    pub iri: String,
    pub version: String,
    pub languages: Vec<String>,
    pub default_language: String,
    pub title: BTreeMap<String, String>,
    pub description: BTreeMap<String, String>,
    pub modules: Vec<CourseEntry>,
}

/// One step of the programme, in order.
#[derive(Debug, Clone)]
pub enum CourseEntry {
    /// A module folder, present in every language folder. `line` points at
    /// the entry in `course.toml`, for errors about a missing folder.
    Local { id: String, line: usize },
    /// Taken elsewhere; the course only links to it.
    External(ExternalModule),
}

impl CourseEntry {
    pub fn id(&self) -> &str {
        match self {
            CourseEntry::Local { id, .. } => id,
            CourseEntry::External(e) => &e.id,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ExternalModule {
    pub id: String,
    pub url: String,
    pub duration_minutes: Option<u32>,
    pub title: BTreeMap<String, String>,
    pub description: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CourseToml {
    id: Spanned<String>,
    iri: Spanned<String>,
    version: Spanned<String>,
    languages: Spanned<Vec<Spanned<String>>>,
    default_language: Spanned<String>,
    title: Spanned<BTreeMap<String, String>>,
    #[serde(default)]
    description: Option<Spanned<BTreeMap<String, String>>>,
    modules: Spanned<Vec<Spanned<EntryToml>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryToml {
    id: Spanned<String>,
    #[serde(default)]
    external: bool,
    url: Option<Spanned<String>>,
    duration_minutes: Option<u32>,
    title: Option<Spanned<BTreeMap<String, String>>>,
    description: Option<Spanned<BTreeMap<String, String>>>,
}

/// Parses `course.toml`; `file` is used in messages only.
pub fn parse_course(file: &Path, text: &str) -> Result<(Course, Diagnostics), Diagnostics> {
    let mut diags = Diagnostics::default();
    let raw: CourseToml = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            diags.push(toml_error(file, text, &e));
            return Err(diags);
        }
    };
    let line = |span: std::ops::Range<usize>| Some(line_at(text, span.start));

    check_id(
        &mut diags,
        file,
        line(raw.id.span()),
        "course id",
        raw.id.get_ref(),
    );
    if let Err(e) = oxiri::Iri::parse(raw.iri.get_ref().as_str()) {
        diags.error(
            file,
            line(raw.iri.span()),
            format!("iri {:?} is not an absolute IRI: {e}", raw.iri.get_ref()),
        );
    }
    if raw.version.get_ref().trim().is_empty()
        || raw.version.get_ref().contains(char::is_whitespace)
    {
        diags.error(
            file,
            line(raw.version.span()),
            "version must be a non-empty word such as \"1.0.0\"",
        );
    }

    let mut languages = Vec::new();
    let mut seen = BTreeSet::new();
    for lang in raw.languages.get_ref() {
        check_language_tag(&mut diags, file, line(lang.span()), lang.get_ref());
        if !seen.insert(lang.get_ref().clone()) {
            diags.error(
                file,
                line(lang.span()),
                format!("language {:?} is listed twice", lang.get_ref()),
            );
        }
        languages.push(lang.get_ref().clone());
    }
    if languages.is_empty() {
        diags.error(
            file,
            line(raw.languages.span()),
            "languages must list at least one language",
        );
    }
    if !seen.contains(raw.default_language.get_ref()) {
        diags.error(
            file,
            line(raw.default_language.span()),
            format!(
                "default_language {:?} is not in languages",
                raw.default_language.get_ref()
            ),
        );
    }
    check_translations(
        &mut diags,
        file,
        line(raw.title.span()),
        "title",
        raw.title.get_ref(),
        &languages,
        true,
    );
    if let Some(d) = &raw.description {
        check_translations(
            &mut diags,
            file,
            line(d.span()),
            "description",
            d.get_ref(),
            &languages,
            false,
        );
    }

    let mut modules = Vec::new();
    let mut ids = BTreeSet::new();
    if raw.modules.get_ref().is_empty() {
        diags.error(
            file,
            line(raw.modules.span()),
            "a course needs at least one [[modules]] entry",
        );
    }
    for entry in raw.modules.into_inner() {
        let entry_line = line(entry.span()).unwrap_or(1);
        let entry = entry.into_inner();
        let id_line = line(entry.id.span());
        let id = entry.id.into_inner();
        check_id(&mut diags, file, id_line, "module id", &id);
        if !ids.insert(id.clone()) {
            diags.error(file, id_line, format!("module {id:?} is listed twice"));
        }
        if entry.external {
            let url = match entry.url {
                Some(url) => {
                    let ok = (url.get_ref().starts_with("https://")
                        || url.get_ref().starts_with("http://"))
                        && oxiri::Iri::parse(url.get_ref().as_str()).is_ok();
                    if !ok {
                        diags.error(
                            file,
                            line(url.span()),
                            format!(
                                "external module {id:?}: url {:?} is not an http(s) URL",
                                url.get_ref()
                            ),
                        );
                    }
                    url.into_inner()
                }
                None => {
                    diags.error(
                        file,
                        Some(entry_line),
                        format!("external module {id:?} needs a url"),
                    );
                    String::new()
                }
            };
            let title = match entry.title {
                Some(t) => {
                    check_translations(
                        &mut diags,
                        file,
                        line(t.span()),
                        "title",
                        t.get_ref(),
                        &languages,
                        true,
                    );
                    t.into_inner()
                }
                None => {
                    diags.error(
                        file,
                        Some(entry_line),
                        format!("external module {id:?} needs a title for each language ([modules.title])"),
                    );
                    BTreeMap::new()
                }
            };
            let description = match entry.description {
                Some(d) => {
                    check_translations(
                        &mut diags,
                        file,
                        line(d.span()),
                        "description",
                        d.get_ref(),
                        &languages,
                        false,
                    );
                    d.into_inner()
                }
                None => BTreeMap::new(),
            };
            modules.push(CourseEntry::External(ExternalModule {
                id,
                url,
                duration_minutes: entry.duration_minutes,
                title,
                description,
            }));
        } else {
            // Local modules take these from their own module.toml; accepting
            // them here would leave two places that disagree.
            let stray = [
                ("url", entry.url.is_some()),
                ("title", entry.title.is_some()),
                ("description", entry.description.is_some()),
                ("duration_minutes", entry.duration_minutes.is_some()),
            ];
            for (key, present) in stray {
                if present {
                    diags.error(
                        file,
                        Some(entry_line),
                        format!("module {id:?}: {key} is only for external modules (a local module sets it in its module.toml)"),
                    );
                }
            }
            modules.push(CourseEntry::Local {
                id,
                line: entry_line,
            });
        }
    }

    if diags.has_errors() {
        return Err(diags);
    }
    Ok((
        Course {
            id: raw.id.into_inner(),
            iri: raw.iri.into_inner(),
            version: raw.version.into_inner(),
            languages,
            default_language: raw.default_language.into_inner(),
            title: raw.title.into_inner(),
            description: raw.description.map(Spanned::into_inner).unwrap_or_default(),
            modules,
        },
        diags,
    ))
}

/// A `{ en = "…", fr = "…" }` table must cover every course language.
fn check_translations(
    diags: &mut Diagnostics,
    file: &Path,
    line: Option<usize>,
    what: &str,
    map: &BTreeMap<String, String>,
    languages: &[String],
    required: bool,
) {
    for lang in languages {
        match map.get(lang) {
            Some(text) if !text.trim().is_empty() => {}
            _ if required => diags.error(file, line, format!("{what} has no {lang:?} text")),
            _ => diags.warning(file, line, format!("{what} has no {lang:?} text")),
        }
    }
    for lang in map.keys() {
        if !languages.contains(lang) {
            diags.warning(
                file,
                line,
                format!("{what} has text for {lang:?}, which is not in languages"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "demo"
iri = "urn:kmh:course:demo"
version = "1.0.0"
languages = ["en", "fr"]
default_language = "en"

[title]
en = "Demo"
fr = "Démo"

[[modules]]
id = "m1"

[[modules]]
id = "ext"
external = true
url = "https://example.org/course"
duration_minutes = 60
[modules.title]
en = "Elsewhere"
fr = "Ailleurs"
"#;

    #[test]
    fn parses_local_and_external_modules() {
        let (course, diags) = parse_course(Path::new("course.toml"), GOOD).expect("valid");
        assert!(!diags.has_errors());
        assert_eq!(course.languages, ["en", "fr"]);
        assert_eq!(course.modules.len(), 2);
        assert!(
            matches!(&course.modules[0], CourseEntry::Local { id, .. } if id == "m1"),
            "{:?}",
            course.modules[0]
        );
        let CourseEntry::External(ext) = &course.modules[1] else {
            panic!("second entry should be external")
        };
        assert_eq!(ext.title["fr"], "Ailleurs");
    }

    #[test]
    fn unknown_keys_name_the_line() {
        let text = GOOD.replace(
            "version = \"1.0.0\"",
            "version = \"1.0.0\"\nlanguage = \"en\"",
        );
        let err = parse_course(Path::new("c/course.toml"), &text).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("c/course.toml:5: "), "{msg}");
        assert!(msg.contains("unknown field `language`"), "{msg}");
    }

    #[test]
    fn missing_translation_and_bad_default_language() {
        let text = GOOD
            .replace("fr = \"Démo\"\n", "")
            .replace("default_language = \"en\"", "default_language = \"de\"");
        let msg = parse_course(Path::new("course.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("course.toml:6: default_language \"de\" is not in languages"),
            "{msg}"
        );
        assert!(msg.contains("title has no \"fr\" text"), "{msg}");
    }

    #[test]
    fn external_module_needs_url() {
        let text = GOOD.replace("url = \"https://example.org/course\"\n", "");
        let msg = parse_course(Path::new("course.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("external module \"ext\" needs a url"), "{msg}");
    }
}

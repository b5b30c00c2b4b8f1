//! A course rendered for the web rather than for a zip: the same pages,
//! assets and `kmh-runtime.json` as its packages (the stages of
//! [`super::build`]), held in memory per language so that `kmh serve` can
//! publish them to learners, who launch modules standalone with Tin Can
//! launch parameters.

use std::path::Path;

use crate::package::assets;
use crate::package::build::{self, ModuleInfo, Target, Unit};
use crate::package::error::PackageError;
use crate::package::render::Files;
use crate::package::source::{self, Diagnostics, Source};

/// One course, every language rendered.
#[derive(Debug, Clone)]
pub struct WebCourse {
    pub id: String,
    pub iri: String,
    pub version: String,
    pub default_language: String,
    /// What a credential that lets learners report about this course is
    /// limited to ([`build::activity_prefixes`]).
    pub activity_prefixes: Vec<String>,
    pub languages: Vec<WebLanguage>,
    /// Warnings from the sources (errors stop the load).
    pub warnings: Diagnostics,
}

#[derive(Debug, Clone)]
pub struct WebLanguage {
    pub language: String,
    pub title: String,
    pub description: String,
    pub modules: Vec<WebModule>,
    /// Every file of this language, keyed by path (`<module>/launch.html`,
    /// `kmh/kmh.css`, `kmh-runtime.json`, …).
    pub files: Files,
}

#[derive(Debug, Clone)]
pub struct WebModule {
    pub id: String,
    pub title: String,
    pub description: String,
    pub duration_minutes: Option<u32>,
    /// Path of its launch page among the language's files.
    pub launch: String,
    /// Taken elsewhere (the launch page links to it; nothing is tracked).
    pub external: bool,
}

/// Renders the course in `dir` (a folder with `course.toml`). Problems in
/// the sources come back as [`PackageError::Source`], with file and line.
pub fn load(dir: &Path) -> Result<WebCourse, PackageError> {
    let (src, mut warnings) = source::load(dir, None)?;
    let Source::Course(course) = &src else {
        return Err(PackageError::Usage(format!(
            "{}: a course folder (with course.toml) is expected, not a module folder",
            dir.display()
        )));
    };
    let mut diags = Diagnostics::default();
    let rendered = build::render_course(course, &mut diags);
    let errors = diags.has_errors();
    warnings.extend(diags);
    if errors {
        return Err(PackageError::Source(warnings.sorted()));
    }
    let c = &course.course;
    let mut languages = Vec::new();
    for (lang, mods) in &rendered {
        let unit = Unit {
            stem: format!("{}-{lang}", c.id),
            identifier: format!("kmh-{}-{lang}", c.id),
            org_identifier: format!("ORG-{}", c.id),
            title: c.title.get(lang).cloned().unwrap_or_else(|| c.id.clone()),
            version: c.version.clone(),
            language: lang.clone(),
            course: Some(c),
            whole_course: true,
            modules: mods.iter().map(|(_, r)| r).collect(),
            info: mods.iter().map(|(i, _)| *i).collect(),
        };
        let mut files = Files::new();
        for (_, r) in mods {
            files.extend(r.files.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        files.insert(assets::CSS_PATH.to_string(), assets::CSS.to_vec());
        files.insert(
            assets::RUNTIME_JS_PATH.to_string(),
            assets::RUNTIME_JS.to_vec(),
        );
        // No LRS in the config: a learner's launch URL names the endpoint
        // and the credential. The target only matters to a runtime looking
        // for an LMS, which a standalone launch never does.
        let config = build::runtime_config(&unit, Target::Scorm2004, None);
        let config = serde_json::to_vec_pretty(&config)
            .map_err(|e| PackageError::Internal(e.to_string()))?;
        files.insert(assets::RUNTIME_CONFIG_PATH.to_string(), config);
        let modules = mods
            .iter()
            .map(|(info, r)| match info {
                ModuleInfo::Sco(m) => WebModule {
                    id: r.id.clone(),
                    title: r.title.clone(),
                    description: m.header.description.clone(),
                    duration_minutes: m.header.duration_minutes,
                    launch: r.launch.clone(),
                    external: false,
                },
                ModuleInfo::External(e) => WebModule {
                    id: r.id.clone(),
                    title: r.title.clone(),
                    description: e.description.get(lang).cloned().unwrap_or_default(),
                    duration_minutes: e.duration_minutes,
                    launch: r.launch.clone(),
                    external: true,
                },
            })
            .collect();
        languages.push(WebLanguage {
            language: lang.clone(),
            title: unit.title.clone(),
            description: c.description.get(lang).cloned().unwrap_or_default(),
            modules,
            files,
        });
    }
    Ok(WebCourse {
        id: c.id.clone(),
        iri: c.iri.clone(),
        version: c.version.clone(),
        default_language: c.default_language.clone(),
        activity_prefixes: build::activity_prefixes(dir, None)?,
        languages,
        warnings: warnings.sorted(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_course() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/package/demo-course")
    }

    #[test]
    fn renders_every_language_with_launch_pages_and_runtime() {
        let c = load(&demo_course()).expect("the demo course loads");
        assert_eq!(c.id, "demo-course");
        assert!(!c.languages.is_empty());
        for l in &c.languages {
            assert!(!l.modules.is_empty(), "{} has modules", l.language);
            for m in &l.modules {
                assert!(l.files.contains_key(&m.launch), "{} is rendered", m.launch);
            }
            let config: serde_json::Value =
                serde_json::from_slice(&l.files[assets::RUNTIME_CONFIG_PATH]).unwrap();
            assert_eq!(config["language"], l.language.as_str());
            assert!(config["lrs"].is_null(), "no credential in the files");
            assert!(l.files.contains_key(assets::RUNTIME_JS_PATH));
        }
        assert!(c.activity_prefixes.iter().all(|p| p.ends_with('/')));
    }

    #[test]
    fn a_module_folder_is_not_a_course() {
        let module = demo_course().join("en/m01-basics");
        let err = load(&module).unwrap_err().to_string();
        assert!(err.contains("course.toml"), "{err}");
    }
}

//! Reading curriculum sources (`packages/FORMAT.md`): a course folder or a
//! single module folder becomes checked, in-memory data. Every problem is
//! collected with its file and line; nothing is rendered here.

pub mod course;
pub mod diag;
pub mod module;
pub mod paths;
pub mod quiz;
#[cfg(test)]
mod schema_sync;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use course::{Course, CourseEntry, ExternalModule};
pub use diag::{Diagnostic, Diagnostics};
pub use module::{Completion, Kind, ModuleHeader};
pub use quiz::Quiz;

use crate::package::error::PackageError;

/// A module ready to render: header, ordered steps and the other files of
/// its folder.
#[derive(Debug, Clone)]
pub struct LoadedModule {
    pub header: ModuleHeader,
    /// Canonical module folder.
    pub dir: PathBuf,
    /// Canonical language folder (the module folder's parent): `../shared/`
    /// paths resolve against it.
    pub lang_dir: PathBuf,
    pub completion: Completion,
    pub steps: Vec<Step>,
    /// Files of the module folder that are not steps: handouts (`.md`,
    /// rendered) and media (copied), sorted by output path.
    pub files: Vec<SourceFile>,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub source: PathBuf,
    /// Output path relative to the module's folder in the package.
    pub out: String,
    pub content: StepContent,
}

#[derive(Debug, Clone)]
pub enum StepContent {
    Page(String),
    Quiz(Quiz),
}

#[derive(Debug, Clone)]
pub struct SourceFile {
    pub source: PathBuf,
    pub out: String,
}

impl LoadedModule {
    pub fn id(&self) -> &str {
        &self.header.id
    }

    /// True when some quiz counts towards the score.
    pub fn has_scored_quiz(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(&s.content, StepContent::Quiz(q) if q.scored))
    }

    /// Where a source file inside this module's folder, or inside the
    /// language's `shared/` folder, goes in the module's package folder.
    /// Markdown and quizzes become `.html`.
    pub fn out_path(&self, source: &Path) -> Result<String, String> {
        out_path(&self.dir, &self.lang_dir, source)
    }
}

fn out_path(module_dir: &Path, lang_dir: &Path, source: &Path) -> Result<String, String> {
    let source = paths::normalize(source);
    let rel = if let Ok(rel) = source.strip_prefix(module_dir) {
        paths::to_slash(rel)
    } else if let Ok(rel) = source.strip_prefix(lang_dir.join("shared")) {
        paths::to_slash(rel).map(|r| format!("shared/{r}"))
    } else {
        return Err("is outside the module folder and the language's shared/ folder".to_string());
    }
    .ok_or_else(|| "has a name that is not valid UTF-8".to_string())?;
    if rel.is_empty() {
        return Err("is a folder, not a file".to_string());
    }
    Ok(match rel.rsplit_once('.') {
        Some((stem, "md" | "quiz")) if !stem.ends_with('/') => format!("{stem}.html"),
        _ => rel,
    })
}

/// A course with every requested language's modules loaded.
#[derive(Debug, Clone)]
pub struct LoadedCourse {
    pub dir: PathBuf,
    pub course: Course,
    pub languages: Vec<LanguageCourse>,
}

#[derive(Debug, Clone)]
pub struct LanguageCourse {
    pub language: String,
    pub entries: Vec<LanguageEntry>,
}

#[derive(Debug, Clone)]
pub enum LanguageEntry {
    Module(Box<LoadedModule>),
    External(ExternalModule),
}

/// What `kmh package` was pointed at.
#[derive(Debug, Clone)]
pub enum Source {
    Course(LoadedCourse),
    /// One module folder; `course` is its course when the module sits in a
    /// course's language folder.
    Module {
        module: Box<LoadedModule>,
        course: Option<Course>,
    },
}

/// Reads a course folder (with `course.toml`) or a module folder (with
/// `module.toml`). `languages` limits which language folders of a course
/// are read (`None` = all of them).
pub fn load(
    path: &Path,
    languages: Option<&[String]>,
) -> Result<(Source, Diagnostics), PackageError> {
    let dir = path.canonicalize().map_err(|e| PackageError::io(path, e))?;
    if dir.join("course.toml").is_file() {
        let (course, diags) = load_course(&dir, languages)?;
        Ok((Source::Course(course), diags))
    } else if dir.join("module.toml").is_file() {
        let mut diags = Diagnostics::default();
        // A module inside `<course>/<lang>/` is checked against its course.
        let course = dir
            .parent()
            .and_then(Path::parent)
            .map(|c| c.join("course.toml"))
            .filter(|c| c.is_file())
            .and_then(|file| {
                let text = std::fs::read_to_string(&file).ok()?;
                match course::parse_course(&file, &text) {
                    Ok((c, d)) => {
                        diags.extend(d);
                        Some(c)
                    }
                    Err(d) => {
                        diags.extend(d);
                        None
                    }
                }
            });
        if diags.has_errors() {
            return Err(PackageError::Source(diags.sorted()));
        }
        let lang = course.as_ref().and_then(|_| {
            dir.parent()
                .and_then(Path::file_name)
                .and_then(|n| n.to_str())
                .map(str::to_string)
        });
        let module = load_module(&dir, lang.as_deref(), &mut diags);
        match module {
            Some(m) if !diags.has_errors() => Ok((
                Source::Module {
                    module: Box::new(m),
                    course,
                },
                diags.sorted(),
            )),
            _ => Err(PackageError::Source(diags.sorted())),
        }
    } else {
        Err(PackageError::Usage(format!(
            "{}: neither course.toml nor module.toml found; point kmh package at a course or module folder",
            path.display()
        )))
    }
}

fn load_course(
    dir: &Path,
    languages: Option<&[String]>,
) -> Result<(LoadedCourse, Diagnostics), PackageError> {
    let file = dir.join("course.toml");
    let text = std::fs::read_to_string(&file).map_err(|e| PackageError::io(&file, e))?;
    let (course, mut diags) =
        course::parse_course(&file, &text).map_err(|d| PackageError::Source(d.sorted()))?;

    let wanted: Vec<String> = match languages {
        None => course.languages.clone(),
        Some(list) => {
            for l in list {
                if !course.languages.contains(l) {
                    return Err(PackageError::Usage(format!(
                        "--lang {l}: the course has no such language (it has {})",
                        course.languages.join(", ")
                    )));
                }
            }
            course
                .languages
                .iter()
                .filter(|l| list.contains(l))
                .cloned()
                .collect()
        }
    };

    let mut out = Vec::new();
    for lang in &wanted {
        let lang_dir = dir.join(lang);
        if !lang_dir.is_dir() {
            diags.error(
                &file,
                None,
                format!(
                    "language {lang:?} has no folder {}",
                    diag::display_path(&lang_dir).display()
                ),
            );
            continue;
        }
        let mut entries = Vec::new();
        for entry in &course.modules {
            match entry {
                CourseEntry::External(ext) => entries.push(LanguageEntry::External(ext.clone())),
                CourseEntry::Local { id, line } => {
                    let mdir = lang_dir.join(id);
                    if !mdir.join("module.toml").is_file() {
                        diags.error(
                            &file,
                            Some(*line),
                            format!(
                                "module {id:?} has no {}",
                                diag::display_path(&mdir.join("module.toml")).display()
                            ),
                        );
                        continue;
                    }
                    if let Some(m) = load_module(&mdir, Some(lang), &mut diags) {
                        entries.push(LanguageEntry::Module(Box::new(m)));
                    }
                }
            }
        }
        out.push(LanguageCourse {
            language: lang.clone(),
            entries,
        });
    }
    if diags.has_errors() {
        return Err(PackageError::Source(diags.sorted()));
    }
    Ok((
        LoadedCourse {
            dir: dir.to_path_buf(),
            course,
            languages: out,
        },
        diags.sorted(),
    ))
}

/// Reads one module folder. Problems go to `diags`; `None` when the module
/// cannot be used at all.
pub fn load_module(
    dir: &Path,
    expected_lang: Option<&str>,
    diags: &mut Diagnostics,
) -> Option<LoadedModule> {
    let dir = dir.canonicalize().ok()?;
    let lang_dir = dir.parent().unwrap_or(&dir).to_path_buf();
    let file = dir.join("module.toml");
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => {
            diags.error(&file, None, format!("cannot read: {e}"));
            return None;
        }
    };
    let (header, d) = match module::parse_module(&file, &text) {
        Ok(ok) => ok,
        Err(d) => {
            diags.extend(d);
            return None;
        }
    };
    diags.extend(d);
    let errors_before = diags.errors().count();

    let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if header.id != folder {
        diags.error(
            &file,
            Some(header.lines.id),
            format!("id {:?} differs from the folder name {folder:?}", header.id),
        );
    }
    if let Some(lang) = expected_lang
        && header.language != lang
    {
        diags.error(
            &file,
            Some(header.lines.language),
            format!(
                "language {:?} differs from the language folder {lang:?}",
                header.language
            ),
        );
    }

    let objective_ids: BTreeSet<&str> = header.objectives.iter().map(|o| o.id.as_str()).collect();
    let mut steps = Vec::new();
    let mut step_sources = BTreeSet::new();
    for (written, line) in &header.sequence {
        if written.starts_with('/') || written.contains('\\') || written.is_empty() {
            diags.error(
                &file,
                Some(*line),
                format!("sequence path {written:?} must be relative and use /"),
            );
            continue;
        }
        let source = paths::normalize(&dir.join(written));
        let out = match out_path(&dir, &lang_dir, &source) {
            Ok(out) => out,
            Err(why) => {
                diags.error(
                    &file,
                    Some(*line),
                    format!("sequence path {written:?} {why}"),
                );
                continue;
            }
        };
        if !source.is_file() {
            diags.error(
                &file,
                Some(*line),
                format!("sequence path {written:?}: no such file"),
            );
            continue;
        }
        // Claimed by the sequence even if it fails to parse below, so that
        // one broken quiz gives one error, not "not in sequence" as well.
        step_sources.insert(source.clone());
        let content = match source.extension().and_then(|e| e.to_str()) {
            Some("md") => match std::fs::read_to_string(&source) {
                Ok(t) => StepContent::Page(t),
                Err(e) => {
                    diags.error(&source, None, format!("cannot read: {e}"));
                    continue;
                }
            },
            Some("quiz") => {
                let text = match std::fs::read_to_string(&source) {
                    Ok(t) => t,
                    Err(e) => {
                        diags.error(&source, None, format!("cannot read: {e}"));
                        continue;
                    }
                };
                match quiz::parse_quiz(&source, &text) {
                    Ok((q, d)) => {
                        diags.extend(d);
                        for question in &q.questions {
                            if let Some((obj, l)) = &question.objective
                                && !objective_ids.contains(obj.as_str())
                            {
                                diags.error(
                                    &source,
                                    Some(*l),
                                    format!(
                                        "objective {obj:?} is not one of module {:?}'s objectives ({})",
                                        header.id,
                                        objective_ids.iter().copied().collect::<Vec<_>>().join(", ")
                                    ),
                                );
                            }
                        }
                        StepContent::Quiz(q)
                    }
                    Err(d) => {
                        diags.extend(d);
                        continue;
                    }
                }
            }
            _ => {
                diags.error(
                    &file,
                    Some(*line),
                    format!("sequence path {written:?} must be a .md page or a .quiz"),
                );
                continue;
            }
        };
        steps.push(Step {
            source,
            out,
            content,
        });
    }

    // From the paths, not the parsed steps: a quiz with errors is still the
    // module's quiz.
    let has_quiz = header.sequence.iter().any(|(p, _)| p.ends_with(".quiz"));
    let has_scored_quiz = steps
        .iter()
        .any(|s| matches!(&s.content, StepContent::Quiz(q) if q.scored));
    let completion = header.completion.unwrap_or(if has_quiz {
        Completion::PagesAndQuiz
    } else {
        Completion::Pages
    });
    if matches!(completion, Completion::Quiz | Completion::PagesAndQuiz)
        && !has_quiz
        && !header.sequence.is_empty()
    {
        diags.error(
            &file,
            Some(header.lines.completion),
            "completion needs a quiz, but the sequence has none (use completion = \"pages\")",
        );
    }
    if header.mastery_score.is_some() && !has_scored_quiz && diags.errors().count() == errors_before
    {
        diags.warning(
            &file,
            None,
            "mastery_score has no effect: no quiz in the sequence is scored",
        );
    }

    let files = collect_files(&dir, &lang_dir, &step_sources, diags);

    // Two sources must not end up as one package file (a.md next to a.html).
    let mut outs: BTreeMap<&str, &Path> = BTreeMap::new();
    for (out, src) in steps
        .iter()
        .map(|s| (s.out.as_str(), s.source.as_path()))
        .chain(files.iter().map(|f| (f.out.as_str(), f.source.as_path())))
    {
        if let Some(other) = outs.insert(out, src) {
            diags.error(
                src,
                None,
                format!(
                    "becomes {out} in the package, like {}",
                    diag::display_path(other).display()
                ),
            );
        }
    }
    if diags.errors().count() > errors_before {
        return None;
    }
    Some(LoadedModule {
        header,
        dir,
        lang_dir,
        completion,
        steps,
        files,
    })
}

/// Every other file of the module folder, sorted: `.md` become handouts,
/// the rest is copied. Hidden files, `module.toml` and quizzes that the
/// sequence does not use are left out.
fn collect_files(
    dir: &Path,
    lang_dir: &Path,
    steps: &BTreeSet<PathBuf>,
    diags: &mut Diagnostics,
) -> Vec<SourceFile> {
    let mut found = Vec::new();
    walk(dir, &mut found, diags);
    found.sort();
    let mut files = Vec::new();
    for source in found {
        if steps.contains(&source) || source == dir.join("module.toml") {
            continue;
        }
        if source.extension().is_some_and(|e| e == "quiz") {
            diags.warning(
                &source,
                None,
                "not in module.toml's sequence, so not packaged",
            );
            continue;
        }
        match out_path(dir, lang_dir, &source) {
            Ok(out) => files.push(SourceFile { source, out }),
            Err(why) => diags.error(&source, None, format!("file {why}")),
        }
    }
    files.sort_by(|a, b| a.out.cmp(&b.out));
    files
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, diags: &mut Diagnostics) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            diags.error(dir, None, format!("cannot list folder: {e}"));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry
            .file_name()
            .to_str()
            .is_none_or(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(&path, out, diags),
            Ok(_) => out.push(path),
            Err(e) => diags.error(&path, None, format!("cannot read: {e}")),
        }
    }
}

/// `[a-z0-9-]+`: ids become file names, identifiers and IRI segments.
pub fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn check_id(diags: &mut Diagnostics, file: &Path, line: Option<usize>, what: &str, id: &str) {
    if !is_id(id) {
        diags.error(file, line, format!("{what} {id:?} must use only a-z, 0-9 and - (it becomes part of file names and identifiers)"));
    }
}

fn check_language_tag(diags: &mut Diagnostics, file: &Path, line: Option<usize>, tag: &str) {
    if oxilangtag::LanguageTag::parse(tag).is_err() {
        diags.error(
            file,
            line,
            format!("{tag:?} is not a BCP 47 language tag (such as en, fr, pt-BR)"),
        );
    }
}

/// A TOML syntax or type error, with the line it points at.
fn toml_error(file: &Path, text: &str, e: &toml::de::Error) -> Diagnostic {
    let line = e.span().map(|s| diag::line_at(text, s.start));
    Diagnostic::error(file, line, e.message().trim().to_string())
}

//! `kmh package`: sources → rendered files → manifest → deterministic zip,
//! for each requested language and target. Nothing is written unless every
//! source is valid, and every package is checked with our own validator
//! before it is written.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::package::assets;
use crate::package::error::PackageError;
use crate::package::manifest::cmi5::{self, AuPlan, CoursePlan, MoveOn};
use crate::package::manifest::{self, ItemKind, Plan, PlanItem};
use crate::package::render::{self, Files, RenderedModule};
use crate::package::schemas;
use crate::package::source::{
    self, Course, Diagnostics, LanguageEntry, LoadedCourse, LoadedModule, Source,
};
use crate::package::validate;
use crate::package::zipper;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// SCORM 1.2
    Scorm12,
    /// SCORM 2004 4th Edition
    Scorm2004,
    /// cmi5 (xAPI profile; `cmi5.xml` course structure)
    Cmi5,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Scorm12 => "scorm12",
            Target::Scorm2004 => "scorm2004",
            Target::Cmi5 => "cmi5",
        }
    }

    /// Every target, in the order `--target` lists them (the default).
    pub const ALL: [Target; 3] = [Target::Scorm12, Target::Scorm2004, Target::Cmi5];
}

#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub targets: Vec<Target>,
    pub out_dir: PathBuf,
    /// xAPI endpoint written to `kmh-runtime.json` for the runtime.
    pub lrs: Option<String>,
    /// The package credential written to `kmh-runtime.json` with the
    /// endpoint (issued by `kmh package --lrs-data`, see [`activity_prefixes`]).
    pub lrs_credential: Option<LrsCredential>,
    /// Languages of a course to build (`None` = all).
    pub languages: Option<Vec<String>>,
    /// One zip per module instead of one per course and language.
    pub per_module: bool,
    /// The cohort and country every statement of the package carries.
    pub context: LearnerContext,
}

/// Who a package is built for (`kmh package --cohort --country`): its
/// statements carry them as the `urn:kmh:ext:cohort` and
/// `urn:kmh:ext:country` context extensions, so that a partner's LMS that
/// knows nothing of xAPI still gives the analytics its cohort and country.
/// Launch parameters (`cohort=`, `country=`) override them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LearnerContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cohort: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl LearnerContext {
    fn is_empty(&self) -> bool {
        self.cohort.is_none() && self.country.is_none()
    }
}

/// A cohort name as `--cohort` takes it: 1 to 100 characters, no control
/// characters (it is shown in the dashboard and in CSV files).
pub fn parse_cohort(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("a cohort cannot be empty".into());
    }
    if s.chars().count() > 100 {
        return Err(format!("cohort {s:?} is longer than 100 characters"));
    }
    if s.chars().any(char::is_control) {
        return Err(format!("cohort {s:?} contains a control character"));
    }
    Ok(s.to_owned())
}

/// A country as `--country` takes it: ISO 3166-1 alpha-2 (`SN`, `sn`).
pub fn parse_country(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(s.to_ascii_uppercase())
    } else {
        Err(format!(
            "country {s:?} is not an ISO 3166-1 alpha-2 code (two letters, e.g. SN)"
        ))
    }
}

/// A package credential: it may only write statements and State about the
/// package's own activities (the LRS enforces it) and can be revoked with
/// `kmh creds revoke KEY`.
#[derive(Debug, Clone, Serialize)]
pub struct LrsCredential {
    pub key: String,
    pub secret: String,
}

/// The activity IRI prefixes a package credential for `source_path` is
/// limited to: the activity id of every module that would be packaged,
/// with a trailing `/` (statements about pages, quizzes and objectives have
/// ids below it; the slash keeps module `m1` from covering `m10`, see
/// [`crate::lrs::credentials::Credential::allows_activity`]).
pub fn activity_prefixes(
    source_path: &Path,
    languages: Option<&[String]>,
) -> Result<Vec<String>, PackageError> {
    let (src, _) = source::load(source_path, languages)?;
    let mut out = BTreeSet::new();
    match &src {
        Source::Course(c) => {
            for lang in &c.languages {
                for entry in &lang.entries {
                    if let LanguageEntry::Module(m) = entry {
                        out.insert(format!("{}/", activity_id(Some(&c.course), &m.header.id)));
                    }
                }
            }
        }
        Source::Module { module, course } => {
            out.insert(format!(
                "{}/",
                activity_id(course.as_ref(), &module.header.id)
            ));
        }
    }
    Ok(out.into_iter().collect())
}

/// One written package.
#[derive(Debug, Clone)]
pub struct Built {
    pub path: PathBuf,
    pub size: u64,
    pub target: Target,
    pub language: String,
    pub scos: usize,
    pub links: usize,
    pub files: usize,
}

/// Warnings from the sources, and what was written.
#[derive(Debug, Default)]
pub struct Outcome {
    pub warnings: Diagnostics,
    pub built: Vec<Built>,
}

/// One zip to build, for every target requested (or one language of a
/// course published on the web, [`super::web`]).
pub(super) struct Unit<'a> {
    /// File name without target and extension.
    pub(super) stem: String,
    pub(super) identifier: String,
    pub(super) org_identifier: String,
    pub(super) title: String,
    pub(super) version: String,
    pub(super) language: String,
    pub(super) course: Option<&'a Course>,
    /// True for a whole course, false for one module packaged alone.
    pub(super) whole_course: bool,
    pub(super) modules: Vec<&'a RenderedModule>,
    /// Kind of each of `modules` (parallel), for the plan and config.
    pub(super) info: Vec<ModuleInfo<'a>>,
}

#[derive(Clone, Copy)]
pub(super) enum ModuleInfo<'a> {
    Sco(&'a LoadedModule),
    External(&'a source::ExternalModule),
}

pub fn check_lrs(url: &str) -> Result<(), PackageError> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && oxiri::Iri::parse(url).is_ok();
    if ok {
        Ok(())
    } else {
        Err(PackageError::Usage(format!(
            "--lrs {url:?}: expected an http(s) URL such as https://lrs.example.org/xapi/"
        )))
    }
}

/// Builds packages. `progress` is told the number of zips once the sources
/// are read, then ticks once per zip written.
pub fn build(
    source_path: &Path,
    opts: &BuildOptions,
    progress: &dyn Fn(Progress),
) -> Result<Outcome, PackageError> {
    if let Some(lrs) = &opts.lrs {
        check_lrs(lrs)?;
    }
    let mut targets = opts.targets.clone();
    targets.sort();
    targets.dedup();
    if targets.is_empty() {
        return Err(PackageError::Usage("no --target given".into()));
    }

    let (src, mut warnings) = source::load(source_path, opts.languages.as_deref())?;

    // Render everything before writing anything: a broken page in the last
    // module must not leave half a dist/ behind.
    let mut diags = Diagnostics::default();
    let mut rendered: Vec<(String, Vec<(ModuleInfo, RenderedModule)>)> = Vec::new();
    let course = match &src {
        Source::Course(c) => {
            rendered = render_course(c, &mut diags);
            Some(&c.course)
        }
        Source::Module { module, course } => {
            if let Some(langs) = &opts.languages
                && !langs.contains(&module.header.language)
            {
                return Err(PackageError::Usage(format!(
                    "--lang: module {} is in {:?}",
                    module.header.id, module.header.language
                )));
            }
            let course_title = course
                .as_ref()
                .and_then(|c| c.title.get(&module.header.language))
                .map(String::as_str);
            if let Some(r) = render::render_module(module, course_title, &mut diags) {
                rendered.push((
                    module.header.language.clone(),
                    vec![(ModuleInfo::Sco(module), r)],
                ));
            }
            course.as_ref()
        }
    };
    let errors = diags.has_errors();
    warnings.extend(diags);
    if errors {
        return Err(PackageError::Source(warnings.sorted()));
    }

    let per_module = opts.per_module || matches!(src, Source::Module { .. });
    let mut units = Vec::new();
    for (lang, mods) in &rendered {
        if per_module {
            for (info, r) in mods {
                if let ModuleInfo::Sco(m) = info {
                    units.push(module_unit(course, lang, m, r));
                }
            }
        } else if let Some(c) = course {
            units.push(Unit {
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
            });
        }
    }

    progress(Progress::Start((units.len() * targets.len()) as u64));
    std::fs::create_dir_all(&opts.out_dir).map_err(|e| PackageError::io(&opts.out_dir, e))?;
    let mut built = Vec::new();
    for unit in &units {
        for &target in &targets {
            let name = format!("{}-{}.zip", unit.stem, target.name());
            progress(Progress::Building(name.clone()));
            let lrs = opts.lrs.as_deref().map(|endpoint| LrsConfig {
                endpoint,
                key: opts.lrs_credential.as_ref().map(|c| c.key.as_str()),
                secret: opts.lrs_credential.as_ref().map(|c| c.secret.as_str()),
            });
            let files = package_files(unit, target, lrs, &opts.context)?;
            self_check(&name, target, &files)?;
            let bytes =
                zipper::zip_files(&files, zipper::timestamp()).map_err(|e| PackageError::Zip {
                    path: PathBuf::from(&name),
                    message: e.to_string(),
                })?;
            let path = opts.out_dir.join(&name);
            write_atomically(&path, &bytes)?;
            let scos = unit
                .info
                .iter()
                .filter(|i| matches!(i, ModuleInfo::Sco(_)))
                .count();
            built.push(Built {
                path,
                size: bytes.len() as u64,
                target,
                language: unit.language.clone(),
                scos,
                links: unit.info.len() - scos,
                files: files.len(),
            });
            progress(Progress::Done);
        }
    }
    Ok(Outcome {
        warnings: warnings.sorted(),
        built,
    })
}

/// Each language of a course with its modules rendered, in course order
/// (problems go to `diags`; a module with errors is left out).
pub(super) fn render_course<'a>(
    c: &'a LoadedCourse,
    diags: &mut Diagnostics,
) -> Vec<(String, Vec<(ModuleInfo<'a>, RenderedModule)>)> {
    let mut rendered = Vec::new();
    for lang in &c.languages {
        let course_title = c.course.title.get(&lang.language).map(String::as_str);
        let mut mods = Vec::new();
        for entry in &lang.entries {
            match entry {
                LanguageEntry::Module(m) => {
                    if let Some(r) = render::render_module(m, course_title, diags) {
                        mods.push((ModuleInfo::Sco(m), r));
                    }
                }
                LanguageEntry::External(e) => mods.push((
                    ModuleInfo::External(e),
                    render::render_external(e, &lang.language, course_title),
                )),
            }
        }
        rendered.push((lang.language.clone(), mods));
    }
    rendered
}

pub enum Progress {
    Start(u64),
    Building(String),
    Done,
}

fn module_unit<'a>(
    course: Option<&'a Course>,
    lang: &str,
    m: &'a LoadedModule,
    r: &'a RenderedModule,
) -> Unit<'a> {
    let stem = match course {
        Some(c) => format!("{}-{}-{lang}", c.id, m.header.id),
        None => format!("{}-{lang}", m.header.id),
    };
    Unit {
        identifier: format!("kmh-{stem}"),
        stem,
        org_identifier: format!("ORG-{}", m.header.id),
        title: m.header.title.clone(),
        version: m.header.version.clone(),
        language: lang.to_string(),
        course,
        whole_course: false,
        modules: vec![r],
        info: vec![ModuleInfo::Sco(m)],
    }
}

/// Every file of one zip, keyed by package path.
fn package_files(
    unit: &Unit,
    target: Target,
    lrs: Option<LrsConfig>,
    context: &LearnerContext,
) -> Result<Files, PackageError> {
    let mut files = Files::new();
    for m in &unit.modules {
        files.extend(m.files.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    files.insert(assets::CSS_PATH.to_string(), assets::CSS.to_vec());
    files.insert(
        assets::RUNTIME_JS_PATH.to_string(),
        assets::RUNTIME_JS.to_vec(),
    );
    let mut config = runtime_config(unit, target, lrs);
    config.context = (!context.is_empty()).then_some(context);
    let config =
        serde_json::to_vec_pretty(&config).map_err(|e| PackageError::Internal(e.to_string()))?;
    files.insert(assets::RUNTIME_CONFIG_PATH.to_string(), config);
    for (name, bytes) in schemas::control_documents(target) {
        files.insert((*name).to_string(), bytes.to_vec());
    }
    match target {
        Target::Scorm12 => files.insert(
            validate::input::MANIFEST.to_string(),
            manifest::scorm12::write(&scorm_plan(unit)).into_bytes(),
        ),
        Target::Scorm2004 => files.insert(
            validate::input::MANIFEST.to_string(),
            manifest::scorm2004::write(&scorm_plan(unit)).into_bytes(),
        ),
        Target::Cmi5 => files.insert(
            cmi5::COURSE_STRUCTURE.to_string(),
            cmi5::write(&cmi5_plan(unit)).into_bytes(),
        ),
    };
    Ok(files)
}

/// The module's pass mark, when it can decide pass/fail: only a module
/// with a scored quiz can reach one.
fn pass_mark(m: &LoadedModule) -> Option<f64> {
    m.header.mastery_score.filter(|_| m.has_scored_quiz())
}

/// An AU's `moveOn` and `masteryScore`, from the module's pass mark and
/// completion rule. A module with a pass mark is satisfied by passing, and
/// also by completing unless completing means taking the quiz (passing it
/// already says so); one without a pass mark (a pre-assessment, a survey,
/// a lesson) by completing; an external activity's link page tracks
/// nothing, so it never holds the learner back.
pub(super) fn au_rules(info: &ModuleInfo) -> (MoveOn, Option<f64>) {
    match info {
        ModuleInfo::Sco(m) => match pass_mark(m) {
            Some(mastery) if m.completion == source::Completion::Quiz => {
                (MoveOn::Passed, Some(mastery))
            }
            Some(mastery) => (MoveOn::CompletedAndPassed, Some(mastery)),
            None => (MoveOn::Completed, None),
        },
        ModuleInfo::External(_) => (MoveOn::NotApplicable, None),
    }
}

/// `course/@id` of a cmi5 package: below the course IRI (or, for a module
/// packaged alone, its activity id) and per language, so that an LMS
/// importing the English and the French package gets two courses. It can
/// never equal an AU id: those have one path segment after the course IRI.
fn cmi5_course_id(unit: &Unit) -> String {
    let base = match (unit.whole_course, unit.course) {
        (true, Some(c)) => c.iri.trim_end_matches('/').to_string(),
        _ => activity_id(
            unit.course,
            unit.modules
                .first()
                .map(|m| m.id.as_str())
                .unwrap_or_default(),
        ),
    };
    format!("{base}/course/{}", unit.language)
}

/// What `cmi5.xml` describes: one AU per module, in course order.
fn cmi5_plan(unit: &Unit) -> CoursePlan {
    let lang = unit.language.as_str();
    let description = match (unit.whole_course, unit.course, unit.info.first()) {
        (true, Some(c), _) => c.description.get(lang).cloned(),
        (false, _, Some(ModuleInfo::Sco(m))) => Some(m.header.description.clone()),
        _ => None,
    };
    let aus = unit
        .modules
        .iter()
        .zip(&unit.info)
        .map(|(r, info)| {
            let (move_on, mastery_score) = au_rules(info);
            let (description, activity_type) = match info {
                ModuleInfo::Sco(m) => (
                    m.header.description.clone(),
                    match m.header.kind {
                        source::Kind::Lesson => "http://adlnet.gov/expapi/activities/lesson",
                        source::Kind::Assessment | source::Kind::Survey => {
                            "http://adlnet.gov/expapi/activities/assessment"
                        }
                    },
                ),
                ModuleInfo::External(e) => (
                    e.description.get(lang).cloned().unwrap_or_default(),
                    "http://adlnet.gov/expapi/activities/link",
                ),
            };
            AuPlan {
                id: activity_id(unit.course, &r.id),
                title: r.title.clone(),
                // cmi5 requires a description; the title says at least that much.
                description: non_empty_or(description, &r.title),
                launch: r.launch.clone(),
                move_on,
                mastery_score,
                activity_type,
            }
        })
        .collect();
    CoursePlan {
        id: cmi5_course_id(unit),
        language: unit.language.clone(),
        title: unit.title.clone(),
        description: non_empty_or(description.unwrap_or_default(), &unit.title),
        aus,
    }
}

fn non_empty_or(text: String, fallback: &str) -> String {
    if text.trim().is_empty() {
        fallback.to_string()
    } else {
        text
    }
}

/// What a SCORM manifest describes.
fn scorm_plan(unit: &Unit) -> Plan {
    Plan {
        identifier: unit.identifier.clone(),
        version: unit.version.clone(),
        org_identifier: unit.org_identifier.clone(),
        title: unit.title.clone(),
        common_files: {
            let mut v = vec![
                assets::CSS_PATH.to_string(),
                assets::RUNTIME_JS_PATH.to_string(),
                assets::RUNTIME_CONFIG_PATH.to_string(),
            ];
            v.sort();
            v
        },
        items: unit
            .modules
            .iter()
            .zip(&unit.info)
            .map(|(r, info)| PlanItem {
                id: r.id.clone(),
                title: r.title.clone(),
                launch: r.launch.clone(),
                files: r.files.keys().cloned().collect(),
                kind: match info {
                    ModuleInfo::Sco(m) => ItemKind::Sco {
                        // Only a module with a scored quiz can reach a pass mark.
                        mastery: pass_mark(m),
                        objectives: m.header.objectives.iter().map(|o| o.id.clone()).collect(),
                    },
                    ModuleInfo::External(_) => ItemKind::Link,
                },
            })
            .collect(),
    }
}

/// Our packages must pass our own validator with no finding at all; if one
/// does not, that is a kmh bug and nothing is written.
fn self_check(name: &str, target: Target, files: &Files) -> Result<(), PackageError> {
    let present: BTreeSet<String> = files.keys().cloned().collect();
    let control = match target {
        Target::Scorm12 | Target::Scorm2004 => validate::input::MANIFEST,
        Target::Cmi5 => cmi5::COURSE_STRUCTURE,
    };
    let document = files.get(control).map(Vec::as_slice).unwrap_or_default();
    let report =
        validate::validate_document(name, control, document, Some(&present), false, vec![]);
    if report.findings.is_empty() {
        Ok(())
    } else {
        Err(PackageError::Internal(format!(
            "{name} fails kmh validate:\n{}",
            report.to_text()
        )))
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PackageError> {
    let tmp = path.with_extension("zip.tmp");
    std::fs::write(&tmp, bytes).map_err(|e| PackageError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| PackageError::io(path, e))
}

/// `kmh-runtime.json`: what the content runtime needs to know about the
/// package it runs in (`schemas/kmh-runtime.schema.json`). It never holds
/// an all-powerful secret: at most the package credential of
/// [`LrsCredential`], limited to the package's own activities.
#[derive(Serialize)]
pub(super) struct RuntimeConfig<'a> {
    format: &'static str,
    target: Target,
    language: &'a str,
    course: Option<CourseConfig<'a>>,
    lrs: Option<LrsConfig<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<&'a LearnerContext>,
    modules: Vec<ModuleConfig<'a>>,
}

#[derive(Serialize)]
struct CourseConfig<'a> {
    id: &'a str,
    iri: &'a str,
    version: &'a str,
    title: Option<&'a str>,
}

#[derive(Serialize)]
pub(super) struct LrsConfig<'a> {
    endpoint: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
}

#[derive(Serialize)]
struct ModuleConfig<'a> {
    id: &'a str,
    activity_id: String,
    title: &'a str,
    kind: &'static str,
    launch: &'a str,
    overview: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pages: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    quizzes: Vec<&'a render::QuizStep>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mastery_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completion: Option<source::Completion>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    objectives: Vec<ObjectiveConfig<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    /// Only in a cmi5 package.
    #[serde(skip_serializing_if = "Option::is_none")]
    cmi5: Option<Cmi5AuConfig>,
}

/// What `cmi5.xml` says about a module's AU, so that the runtime can
/// honour it when the LMS's `LMS.LaunchData` leaves it out.
#[derive(Serialize)]
struct Cmi5AuConfig {
    /// The AU's id in `cmi5.xml` (the publisher id): the module's
    /// `activity_id`.
    au_id: String,
    move_on: MoveOn,
    /// Only when `cmi5.xml` gives one (the module decides pass/fail).
    #[serde(skip_serializing_if = "Option::is_none")]
    mastery_score: Option<f64>,
    launch_method: &'static str,
}

#[derive(Serialize)]
struct ObjectiveConfig<'a> {
    id: &'a str,
    activity_id: String,
}

/// Activity ids do not depend on the language, so that learners' results
/// in English and French are about the same activities.
pub(super) fn activity_id(course: Option<&Course>, module: &str) -> String {
    match course {
        Some(c) => format!("{}/{module}", c.iri.trim_end_matches('/')),
        None => format!("urn:kmh:module:{module}"),
    }
}

pub(super) fn runtime_config<'a>(
    unit: &'a Unit,
    target: Target,
    lrs: Option<LrsConfig<'a>>,
) -> RuntimeConfig<'a> {
    let modules = unit
        .modules
        .iter()
        .zip(&unit.info)
        .map(|(r, info)| {
            let activity = activity_id(unit.course, &r.id);
            let cmi5 = (target == Target::Cmi5).then(|| {
                let (move_on, mastery_score) = au_rules(info);
                Cmi5AuConfig {
                    au_id: activity.clone(),
                    move_on,
                    mastery_score,
                    launch_method: cmi5::LAUNCH_METHOD,
                }
            });
            match info {
                ModuleInfo::Sco(m) => ModuleConfig {
                    id: &r.id,
                    title: &r.title,
                    kind: match m.header.kind {
                        source::Kind::Lesson => "lesson",
                        source::Kind::Assessment => "assessment",
                        source::Kind::Survey => "survey",
                    },
                    launch: &r.launch,
                    overview: &r.overview,
                    pages: r.pages.iter().map(String::as_str).collect(),
                    quizzes: r.quizzes.iter().collect(),
                    version: Some(&m.header.version),
                    mastery_score: m.header.mastery_score,
                    completion: Some(m.completion),
                    objectives: m
                        .header
                        .objectives
                        .iter()
                        .map(|o| ObjectiveConfig {
                            id: &o.id,
                            activity_id: format!("{activity}/objectives/{}", o.id),
                        })
                        .collect(),
                    url: None,
                    cmi5,
                    activity_id: activity,
                },
                ModuleInfo::External(e) => ModuleConfig {
                    id: &r.id,
                    title: &r.title,
                    kind: "external",
                    launch: &r.launch,
                    overview: &r.overview,
                    pages: vec![],
                    quizzes: vec![],
                    version: None,
                    mastery_score: None,
                    completion: None,
                    objectives: vec![],
                    url: Some(&e.url),
                    cmi5,
                    activity_id: activity,
                },
            }
        })
        .collect();
    RuntimeConfig {
        format: "kmh-runtime/1",
        target,
        language: &unit.language,
        course: unit.course.map(|c| CourseConfig {
            id: &c.id,
            iri: &c.iri,
            version: &c.version,
            title: c.title.get(&unit.language).map(String::as_str),
        }),
        lrs,
        context: None,
        modules,
    }
}

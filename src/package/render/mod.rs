//! Loaded sources → the files of a package: one folder per module with an
//! overview page, one HTML page per step (Markdown page or quiz), rendered
//! handouts and copied media; a small page per external activity.

pub mod html;
pub mod i18n;
pub mod markdown;
pub mod page;
pub mod quiz;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;

use html::esc;
use i18n::{Strings, strings};
use markdown::{MarkdownContext, render_markdown};
use page::{Nav, Page, TocEntry};

use crate::package::source::{Diagnostics, ExternalModule, LoadedModule, StepContent};

/// Package files, keyed by package path. A `BTreeMap` so that every
/// consumer (manifest, zip) sees them in one sorted order.
pub type Files = BTreeMap<String, Vec<u8>>;

#[derive(Debug, Clone)]
pub struct RenderedModule {
    pub id: String,
    pub title: String,
    /// Package path of the page the SCO launches (`<module>/launch.html`,
    /// which shows the pages in a frame; an external activity's own page).
    pub launch: String,
    /// Package path of the first page shown (the module's overview).
    pub overview: String,
    /// Package paths of the steps, in order (for the runtime config).
    pub pages: Vec<String>,
    /// The quiz steps among `pages`, for the runtime's completion rules.
    pub quizzes: Vec<QuizStep>,
    pub files: Files,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct QuizStep {
    /// Package path of the quiz page.
    pub page: String,
    /// False for surveys: they complete the module but give no score.
    pub scored: bool,
}

/// Renders one module into `<module-id>/…`.
pub fn render_module(
    module: &LoadedModule,
    course_title: Option<&str>,
    diags: &mut Diagnostics,
) -> Option<RenderedModule> {
    let errors_before = diags.errors().count();
    let h = &module.header;
    let s = strings(&h.language);
    let prefix = format!("{}/", h.id);
    let step_outs: Vec<String> = module.steps.iter().map(|st| st.out.clone()).collect();

    // Pass 1: each step's main content and title (titles feed every
    // page's table of contents, so all are needed before any page).
    let mut mains = Vec::new();
    // Parallel to `mains`: whether a quiz step is scored (None: a page).
    let mut quiz_flags: Vec<Option<bool>> = Vec::new();
    let mut references: VecDeque<(PathBuf, String)> = VecDeque::new();
    for step in &module.steps {
        match &step.content {
            StepContent::Page(text) => {
                let ctx = MarkdownContext {
                    module,
                    source: &step.source,
                    out: &step.out,
                    strings: s,
                    step_outs: &step_outs,
                };
                let r = render_markdown(text, &ctx, diags);
                references.extend(r.references);
                mains.push(("page", r.title.unwrap_or_default(), r.html));
                quiz_flags.push(None);
            }
            StepContent::Quiz(q) => {
                let id = step
                    .source
                    .file_stem()
                    .and_then(|x| x.to_str())
                    .unwrap_or("quiz")
                    .to_string();
                let qp = quiz::QuizPage {
                    quiz: q,
                    id: &id,
                    module: &h.id,
                    pass: q.pass.or(h.mastery_score),
                    strings: s,
                };
                match quiz::render(&qp) {
                    Ok(html) => {
                        mains.push(("quiz", q.title.clone(), html));
                        quiz_flags.push(Some(q.scored));
                    }
                    Err(e) => diags.error(
                        &step.source,
                        None,
                        format!("cannot write the quiz model: {e}"),
                    ),
                }
            }
        }
    }

    let mut toc = vec![TocEntry {
        href: format!("{prefix}index.html"),
        title: s.overview.to_string(),
    }];
    for (step, (_, title, _)) in module.steps.iter().zip(&mains) {
        toc.push(TocEntry {
            href: format!("{prefix}{}", step.out),
            title: title.clone(),
        });
    }

    let mut files = Files::new();
    let mut pages = Vec::new();
    let mut quizzes = Vec::new();
    let page_for = |out: &str, title: &str, kind: &str, main: &str, current: usize| {
        page::render(&Page {
            lang: &h.language,
            strings: s,
            out,
            title,
            course_title,
            module_title: &h.title,
            module_id: &h.id,
            kind,
            main,
            nav: Some(Nav {
                entries: &toc,
                current,
            }),
        })
    };

    let index = format!("{prefix}index.html");
    let launch = format!("{prefix}launch.html");
    files.insert(
        launch.clone(),
        page::render_launch(&h.language, s, &launch, &h.title, &h.id, &index).into_bytes(),
    );
    files.insert(
        index.clone(),
        page_for(&index, &h.title, "overview", &overview(module, s, &toc), 0).into_bytes(),
    );
    for (i, (kind, title, main)) in mains.iter().enumerate() {
        let out = &toc[i + 1].href;
        files.insert(
            out.clone(),
            page_for(out, title, kind, main, i + 1).into_bytes(),
        );
        pages.push(out.clone());
        if let Some(scored) = quiz_flags[i] {
            quizzes.push(QuizStep {
                page: out.clone(),
                scored,
            });
        }
    }

    // Handouts and media: every file of the module folder, then whatever
    // pages and handouts link to (which may sit in ../shared/).
    for f in &module.files {
        references.push_back((f.source.clone(), f.out.clone()));
    }
    let mut done: BTreeSet<String> = step_outs.iter().cloned().collect();
    while let Some((source, out)) = references.pop_front() {
        if !done.insert(out.clone()) {
            continue;
        }
        if source.extension().is_some_and(|e| e == "md") {
            let text = match std::fs::read_to_string(&source) {
                Ok(t) => t,
                Err(e) => {
                    diags.error(&source, None, format!("cannot read: {e}"));
                    continue;
                }
            };
            let ctx = MarkdownContext {
                module,
                source: &source,
                out: &out,
                strings: s,
                step_outs: &step_outs,
            };
            let r = render_markdown(&text, &ctx, diags);
            references.extend(r.references);
            let path = format!("{prefix}{out}");
            let html = page::render(&Page {
                lang: &h.language,
                strings: s,
                out: &path,
                title: r.title.as_deref().unwrap_or_default(),
                course_title,
                module_title: &h.title,
                module_id: &h.id,
                kind: "handout",
                main: &format!(
                    "{}<p class=\"kmh-print-hint\">{}</p>\n",
                    r.html,
                    esc(s.print_hint)
                ),
                nav: None,
            });
            files.insert(path, html.into_bytes());
        } else {
            match std::fs::read(&source) {
                Ok(bytes) => {
                    files.insert(format!("{prefix}{out}"), bytes);
                }
                Err(e) => diags.error(&source, None, format!("cannot read: {e}")),
            }
        }
    }

    if diags.errors().count() > errors_before {
        return None;
    }
    Some(RenderedModule {
        id: h.id.clone(),
        title: h.title.clone(),
        launch,
        overview: index,
        pages,
        quizzes,
        files,
    })
}

/// The module's start page: what it is about, how long it takes, what the
/// learner will be able to do, and a way in.
fn overview(module: &LoadedModule, s: &Strings, toc: &[TocEntry]) -> String {
    let h = &module.header;
    let mut m = format!("<h1>{}</h1>\n", esc(&h.title));
    if !h.description.trim().is_empty() {
        m.push_str(&format!(
            "<p class=\"kmh-description\">{}</p>\n",
            esc(h.description.trim())
        ));
    }
    let mut facts = String::new();
    if let Some(d) = h.duration_minutes {
        facts.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>\n",
            esc(s.estimated_time),
            esc(&s.duration(d))
        ));
    }
    if let Some(p) = h.mastery_score
        && module.has_scored_quiz()
    {
        facts.push_str(&format!(
            "<dt>{}</dt><dd>{} %</dd>\n",
            esc(s.pass_mark),
            quiz::percent(p)
        ));
    }
    if !facts.is_empty() {
        m.push_str(&format!("<dl class=\"kmh-facts\">\n{facts}</dl>\n"));
    }
    if !h.objectives.is_empty() {
        m.push_str(&format!(
            "<h2>{}</h2>\n<ul class=\"kmh-objectives\">\n",
            esc(s.objectives)
        ));
        for o in &h.objectives {
            m.push_str(&format!(
                "<li id=\"objective-{}\">{}</li>\n",
                esc(&o.id),
                esc(&o.text)
            ));
        }
        m.push_str("</ul>\n");
    }
    if let Some(first) = toc.get(1) {
        m.push_str(&format!(
            "<p><a class=\"kmh-start\" href=\"{}\">{}</a></p>\n",
            crate::package::source::paths::relative_url(&toc[0].href, &first.href),
            esc(s.start)
        ));
    }
    m
}

/// An external activity: a local page that explains it and links to it
/// (the package cannot contain it).
pub fn render_external(
    ext: &ExternalModule,
    lang: &str,
    course_title: Option<&str>,
) -> RenderedModule {
    let s = strings(lang);
    let title = ext
        .title
        .get(lang)
        .cloned()
        .unwrap_or_else(|| ext.id.clone());
    let out = format!("external/{}.html", ext.id);
    let mut m = format!(
        "<p class=\"kmh-kicker\">{}</p>\n<h1>{}</h1>\n",
        esc(s.external_activity),
        esc(&title)
    );
    if let Some(d) = ext.description.get(lang) {
        m.push_str(&format!(
            "<p class=\"kmh-description\">{}</p>\n",
            esc(d.trim())
        ));
    }
    if let Some(d) = ext.duration_minutes {
        m.push_str(&format!(
            "<dl class=\"kmh-facts\">\n<dt>{}</dt><dd>{}</dd>\n</dl>\n",
            esc(s.estimated_time),
            esc(&s.duration(d))
        ));
    }
    m.push_str(&format!(
        "<p><a class=\"kmh-start\" href=\"{}\" target=\"_blank\" rel=\"noopener\">{}<span class=\"kmh-sr\"> {}</span></a></p>\n",
        esc(&ext.url),
        esc(s.open_external),
        esc(s.new_window)
    ));
    let html = page::render(&Page {
        lang,
        strings: s,
        out: &out,
        title: &title,
        course_title,
        module_title: &title,
        module_id: &ext.id,
        kind: "external",
        main: &m,
        nav: None,
    });
    let mut files = Files::new();
    files.insert(out.clone(), html.into_bytes());
    RenderedModule {
        id: ext.id.clone(),
        title,
        launch: out.clone(),
        overview: out.clone(),
        pages: vec![out],
        quizzes: vec![],
        files,
    }
}

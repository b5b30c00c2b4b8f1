//! The HTML document around every page: language, viewport, landmarks
//! (banner, navigation, main, contentinfo), a skip link, the module's table
//! of contents and previous/next links, so that each page reads and
//! navigates without JavaScript. Styles and the (placeholder) runtime are
//! shared files at the package root (`kmh/`), never a CDN.

use super::html::esc;
use super::i18n::Strings;
use crate::package::assets;
use crate::package::source::paths::{relative_url, root_prefix};

/// One entry of a module's table of contents.
pub struct TocEntry {
    /// Package path (`<module>/pages/01-intro.html`).
    pub href: String,
    pub title: String,
}

pub struct Nav<'a> {
    pub entries: &'a [TocEntry],
    /// Index of this page in `entries`.
    pub current: usize,
}

pub struct Page<'a> {
    pub lang: &'a str,
    pub strings: &'static Strings,
    /// Package path of this page; links are made relative to it.
    pub out: &'a str,
    pub title: &'a str,
    pub course_title: Option<&'a str>,
    pub module_title: &'a str,
    pub module_id: &'a str,
    /// What the page is, for the stylesheet and the runtime:
    /// `overview`, `page`, `quiz`, `handout`, `external`.
    pub kind: &'a str,
    pub main: &'a str,
    pub nav: Option<Nav<'a>>,
}

pub fn render(p: &Page) -> String {
    let s = p.strings;
    let root = root_prefix(p.out);
    let mut h = String::with_capacity(p.main.len() + 2048);
    h.push_str("<!DOCTYPE html>\n");
    h.push_str(&format!("<html lang=\"{}\">\n<head>\n", esc(p.lang)));
    h.push_str("<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let doc_title = if p.title == p.module_title {
        p.title.to_string()
    } else {
        format!("{} – {}", p.title, p.module_title)
    };
    h.push_str(&format!("<title>{}</title>\n", esc(&doc_title)));
    h.push_str(&format!(
        "<link rel=\"stylesheet\" href=\"{root}{}\">\n",
        assets::CSS_PATH
    ));
    h.push_str(&format!(
        "<script src=\"{root}{}\" defer></script>\n",
        assets::RUNTIME_JS_PATH
    ));
    h.push_str("</head>\n");
    h.push_str(&format!(
        "<body class=\"kmh-{}\" data-kmh-module=\"{}\" data-kmh-root=\"{root}\">\n",
        esc(p.kind),
        esc(p.module_id)
    ));
    h.push_str(&format!(
        "<a class=\"kmh-skip\" href=\"#main\">{}</a>\n",
        esc(s.skip_to_content)
    ));
    h.push_str("<header class=\"kmh-header\">\n");
    if let Some(course) = p.course_title {
        h.push_str(&format!("<p class=\"kmh-course\">{}</p>\n", esc(course)));
    }
    h.push_str(&format!(
        "<p class=\"kmh-module-title\">{}</p>\n",
        esc(p.module_title)
    ));
    h.push_str("</header>\n<div class=\"kmh-layout\">\n");

    if let Some(nav) = &p.nav {
        h.push_str("<nav class=\"kmh-toc\" aria-labelledby=\"kmh-toc-title\">\n");
        h.push_str(&format!(
            "<h2 id=\"kmh-toc-title\">{}</h2>\n<ol>\n",
            esc(s.module_contents)
        ));
        for (i, e) in nav.entries.iter().enumerate() {
            let current = if i == nav.current {
                " aria-current=\"page\""
            } else {
                ""
            };
            h.push_str(&format!(
                "<li><a href=\"{}\"{current}>{}</a></li>\n",
                relative_url(p.out, &e.href),
                esc(&e.title)
            ));
        }
        h.push_str("</ol>\n</nav>\n");
    }

    h.push_str("<main id=\"main\" class=\"kmh-main\" tabindex=\"-1\">\n");
    h.push_str(p.main);
    if !p.main.ends_with('\n') {
        h.push('\n');
    }
    h.push_str("</main>\n</div>\n");

    h.push_str("<footer class=\"kmh-footer\">\n");
    if let Some(nav) = &p.nav {
        h.push_str(&format!(
            "<nav class=\"kmh-pager\" aria-label=\"{}\">\n",
            esc(s.page_navigation)
        ));
        if nav.current > 0 {
            let e = &nav.entries[nav.current - 1];
            h.push_str(&format!(
                "<a class=\"kmh-prev\" rel=\"prev\" href=\"{}\"><span class=\"kmh-pager-label\">{}</span> {}</a>\n",
                relative_url(p.out, &e.href),
                esc(s.previous),
                esc(&e.title)
            ));
        }
        if let Some(e) = nav.entries.get(nav.current + 1) {
            let label = if nav.current == 0 { s.start } else { s.next };
            h.push_str(&format!(
                "<a class=\"kmh-next\" rel=\"next\" href=\"{}\"><span class=\"kmh-pager-label\">{}</span> {}</a>\n",
                relative_url(p.out, &e.href),
                esc(label),
                esc(&e.title)
            ));
        } else {
            h.push_str(&format!(
                "<p class=\"kmh-end\">{}</p>\n",
                esc(s.end_of_module)
            ));
        }
        h.push_str("</nav>\n");
        if nav.current > 0 {
            h.push_str(&format!(
                "<p class=\"kmh-progress\">{}</p>\n",
                esc(&Strings::n_of_m(
                    s.page_n_of_m,
                    nav.current,
                    nav.entries.len() - 1
                ))
            ));
        }
    }
    h.push_str("</footer>\n</body>\n</html>\n");
    h
}

/// The page an LMS launches for a module (the SCO's `href`): it holds the
/// SCORM API connection and the xAPI session for the whole visit and shows
/// the module's pages in a frame, because every page is its own HTML file
/// and a SCORM session must survive page loads (SCORM 2004 RTE §3.1: one
/// Initialize/Terminate pair per SCO launch). Without JavaScript it offers
/// a link to the overview page.
pub fn render_launch(
    lang: &str,
    s: &Strings,
    out: &str,
    module_title: &str,
    module_id: &str,
    start: &str,
) -> String {
    let root = root_prefix(out);
    let start = relative_url(out, start);
    let mut h = String::with_capacity(1024);
    h.push_str("<!DOCTYPE html>\n");
    h.push_str(&format!("<html lang=\"{}\">\n<head>\n", esc(lang)));
    h.push_str("<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str(&format!("<title>{}</title>\n", esc(module_title)));
    h.push_str(&format!(
        "<link rel=\"stylesheet\" href=\"{root}{}\">\n",
        assets::CSS_PATH
    ));
    h.push_str(&format!(
        "<script src=\"{root}{}\" defer></script>\n",
        assets::RUNTIME_JS_PATH
    ));
    h.push_str("</head>\n");
    h.push_str(&format!(
        "<body class=\"kmh-launch\" data-kmh-module=\"{}\" data-kmh-root=\"{root}\" data-kmh-start=\"{}\">\n",
        esc(module_id),
        esc(&start)
    ));
    h.push_str("<main id=\"main\" class=\"kmh-stage\">\n");
    h.push_str(&format!(
        "<iframe class=\"kmh-frame\" id=\"kmh-frame\" name=\"kmh-content\" title=\"{}\"></iframe>\n",
        esc(module_title)
    ));
    h.push_str(&format!(
        "<noscript><p class=\"kmh-noscript\"><a href=\"{}\">{}</a></p></noscript>\n",
        esc(&start),
        esc(s.start)
    ));
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::render::i18n::strings;

    #[test]
    fn page_has_landmarks_language_and_relative_links() {
        let entries = [
            TocEntry {
                href: "m/index.html".into(),
                title: "Overview".into(),
            },
            TocEntry {
                href: "m/pages/a.html".into(),
                title: "A".into(),
            },
            TocEntry {
                href: "m/pages/b.html".into(),
                title: "B & C".into(),
            },
        ];
        let html = render(&Page {
            lang: "fr",
            strings: strings("fr"),
            out: "m/pages/a.html",
            title: "A",
            course_title: Some("Cours"),
            module_title: "Module",
            module_id: "m",
            kind: "page",
            main: "<h1>A</h1>",
            nav: Some(Nav {
                entries: &entries,
                current: 1,
            }),
        });
        assert!(html.contains("<html lang=\"fr\">"));
        assert!(html.contains("<a class=\"kmh-skip\" href=\"#main\">Aller au contenu</a>"));
        assert!(html.contains("<main id=\"main\""));
        assert!(html.contains("<link rel=\"stylesheet\" href=\"../../kmh/kmh.css\">"));
        assert!(html.contains("<a href=\"a.html\" aria-current=\"page\">A</a>"));
        assert!(html.contains("rel=\"prev\" href=\"../index.html\""));
        assert!(html.contains("rel=\"next\" href=\"b.html\"><span class=\"kmh-pager-label\">Suivant</span> B &amp; C</a>"));
        assert!(html.contains("Page 1 sur 2"));
        assert!(!html.contains("http"), "no remote resources");
    }
}

//! The two pages written here: the index of courses and, per course and
//! language, its modules with the learner's launch form (`courses.js`
//! does the launching).

use crate::package::render::html::{esc, script_json};
use crate::package::web::{WebLanguage, WebModule};

use super::{PublishedCourse, basic_auth};

struct Strings {
    courses: &'static str,
    modules: &'static str,
    learner: &'static str,
    learner_help: &'static str,
    name: &'static str,
    email: &'static str,
    anonymous: &'static str,
    cohort: &'static str,
    country: &'static str,
    optional: &'static str,
    start: &'static str,
    open: &'static str,
    elsewhere: &'static str,
    minutes: &'static str,
    other_languages: &'static str,
}

const EN: Strings = Strings {
    courses: "Courses",
    modules: "Modules",
    learner: "Who is learning?",
    learner_help: "Your progress is recorded under this name and e-mail address, or under an anonymous id kept in this browser.",
    name: "Name",
    email: "E-mail address",
    anonymous: "Stay anonymous",
    cohort: "Cohort",
    country: "Country (two letters, e.g. SN)",
    optional: "optional",
    start: "Start",
    open: "Open",
    elsewhere: "taken elsewhere, not recorded here",
    minutes: "min",
    other_languages: "Other languages",
};

const FR: Strings = Strings {
    courses: "Formations",
    modules: "Modules",
    learner: "Qui suit la formation ?",
    learner_help: "Votre progression est enregistrée sous ce nom et cette adresse e-mail, ou sous un identifiant anonyme gardé dans ce navigateur.",
    name: "Nom",
    email: "Adresse e-mail",
    anonymous: "Rester anonyme",
    cohort: "Cohorte",
    country: "Pays (deux lettres, p. ex. SN)",
    optional: "facultatif",
    start: "Commencer",
    open: "Ouvrir",
    elsewhere: "suivi ailleurs, non enregistré ici",
    minutes: "min",
    other_languages: "Autres langues",
};

fn strings(lang: &str) -> &'static Strings {
    if lang.starts_with("fr") { &FR } else { &EN }
}

fn head(lang: &str, title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<link rel=\"stylesheet\" href=\"/courses/courses.css\">\n</head>\n",
        esc(lang),
        esc(title)
    )
}

/// `/courses/`: every course with a link per language.
pub fn index(courses: &[PublishedCourse]) -> String {
    let mut out = head("en", "Courses");
    out.push_str("<body>\n<main>\n<h1>Courses <span lang=\"fr\">/ Formations</span></h1>\n");
    if courses.is_empty() {
        out.push_str("<p>No course is published on this server.</p>\n");
    }
    out.push_str("<ul class=\"kmh-courses\">\n");
    for c in courses {
        out.push_str("<li>\n");
        for l in &c.course.languages {
            out.push_str(&format!(
                "<p lang=\"{lang}\"><a href=\"/courses/{id}/{lang}/\">{title}</a> \
                 <span class=\"kmh-lang\">{upper}</span> · {n} modules</p>\n",
                id = esc(&c.course.id),
                lang = esc(&l.language),
                upper = esc(&l.language.to_uppercase()),
                title = esc(&l.title),
                n = l.modules.len(),
            ));
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n</main>\n</body>\n</html>\n");
    out
}

/// `/courses/<course>/<lang>/`: the learner form and the modules.
pub fn language(c: &PublishedCourse, l: &WebLanguage) -> String {
    let s = strings(&l.language);
    let mut out = head(&l.language, &l.title);
    // The launch settings for courses.js: the xAPI endpoint is found from
    // this page's address, so that the server may be reached by any name.
    let config = serde_json::json!({
        "course": c.course.id,
        "language": l.language,
        "auth": basic_auth(c),
    });
    out.push_str(&format!(
        "<body>\n<main>\n<p class=\"kmh-crumbs\"><a href=\"/courses/\">{courses}</a></p>\n\
         <h1>{title}</h1>\n<p>{description}</p>\n",
        courses = esc(s.courses),
        title = esc(&l.title),
        description = esc(&l.description),
    ));
    let others: Vec<String> = c
        .course
        .languages
        .iter()
        .filter(|o| o.language != l.language)
        .map(|o| {
            format!(
                "<a href=\"/courses/{}/{lang}/\" lang=\"{lang}\" hreflang=\"{lang}\">{}</a>",
                esc(&c.course.id),
                esc(&o.title),
                lang = esc(&o.language),
            )
        })
        .collect();
    if !others.is_empty() {
        out.push_str(&format!(
            "<p class=\"kmh-languages\">{}: {}</p>\n",
            esc(s.other_languages),
            others.join(" · ")
        ));
    }
    out.push_str(&format!(
        "<form id=\"kmh-learner\" class=\"kmh-learner\">\n<h2>{learner}</h2>\n<p>{help}</p>\n\
         <p><label>{name} <input id=\"kmh-name\" name=\"name\" autocomplete=\"name\" maxlength=\"100\"></label></p>\n\
         <p><label>{email} <input id=\"kmh-email\" name=\"email\" type=\"email\" autocomplete=\"email\" maxlength=\"200\"></label></p>\n\
         <p><label><input id=\"kmh-anonymous\" name=\"anonymous\" type=\"checkbox\"> {anonymous}</label></p>\n\
         <p><label>{cohort} ({optional}) <input id=\"kmh-cohort\" name=\"cohort\" maxlength=\"100\"></label></p>\n\
         <p><label>{country} ({optional}) <input id=\"kmh-country\" name=\"country\" maxlength=\"2\" pattern=\"[A-Za-z]{{2}}\" size=\"3\"></label></p>\n\
         <p id=\"kmh-problem\" class=\"kmh-problem\" role=\"alert\" hidden></p>\n</form>\n",
        learner = esc(s.learner),
        help = esc(s.learner_help),
        name = esc(s.name),
        email = esc(s.email),
        anonymous = esc(s.anonymous),
        cohort = esc(s.cohort),
        country = esc(s.country),
        optional = esc(s.optional),
    ));
    out.push_str(&format!(
        "<h2>{}</h2>\n<ol class=\"kmh-modules\">\n",
        esc(s.modules)
    ));
    for m in &l.modules {
        out.push_str(&module_item(s, m));
    }
    out.push_str("</ol>\n</main>\n");
    out.push_str(&format!(
        "<script type=\"application/json\" id=\"kmh-course\">{}</script>\n\
         <script src=\"/courses/courses.js\"></script>\n</body>\n</html>\n",
        script_json(&config).unwrap_or_else(|_| "{}".into())
    ));
    out
}

fn module_item(s: &Strings, m: &WebModule) -> String {
    let duration = m
        .duration_minutes
        .map(|n| format!(" <span class=\"kmh-duration\">{n} {}</span>", s.minutes))
        .unwrap_or_default();
    let action = if m.external {
        format!(
            "<a class=\"kmh-open\" href=\"{}\">{}</a> <small>({})</small>",
            esc(&m.launch),
            esc(s.open),
            esc(s.elsewhere)
        )
    } else {
        format!(
            "<a class=\"kmh-start\" data-module=\"{}\" href=\"{}\">{}</a>",
            esc(&m.id),
            esc(&m.launch),
            esc(s.start)
        )
    };
    format!(
        "<li id=\"module-{id}\">\n<h3>{title}{duration}</h3>\n<p>{description}</p>\n<p>{action}</p>\n</li>\n",
        id = esc(&m.id),
        title = esc(&m.title),
        description = esc(&m.description),
    )
}

//! `cmi5.xml`, the cmi5 course structure (cmi5 spec §13, §14; XSD
//! `schemas/cmi5/CourseStructure.xsd`). One AU per module, in course
//! order, with no blocks: `course.toml` has no sections to make blocks of.

use serde::Serialize;

use super::xml::XmlWriter;
use crate::package::source::paths::encode_path;

/// Namespace of the course structure, which is also the XSD's address.
pub const CMI5_NS: &str = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd";

/// Package path of the course structure (cmi5 §14: "MUST be named cmi5.xml").
pub const COURSE_STRUCTURE: &str = "cmi5.xml";

/// The only launch method we write: the pages work in a frame, a new
/// window or a redirected one alike.
pub const LAUNCH_METHOD: &str = "AnyWindow";

/// When the LMS counts an AU as satisfied (cmi5 §13.1.4 `moveOn`); serialized
/// with the spec's spelling, in `cmi5.xml` and in `kmh-runtime.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MoveOn {
    Passed,
    Completed,
    CompletedAndPassed,
    CompletedOrPassed,
    NotApplicable,
}

impl MoveOn {
    pub const ALL: [MoveOn; 5] = [
        MoveOn::NotApplicable,
        MoveOn::Passed,
        MoveOn::Completed,
        MoveOn::CompletedAndPassed,
        MoveOn::CompletedOrPassed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MoveOn::Passed => "Passed",
            MoveOn::Completed => "Completed",
            MoveOn::CompletedAndPassed => "CompletedAndPassed",
            MoveOn::CompletedOrPassed => "CompletedOrPassed",
            MoveOn::NotApplicable => "NotApplicable",
        }
    }
}

/// The course structure as `cmi5.xml` must describe it.
#[derive(Debug, Clone)]
pub struct CoursePlan {
    /// Course IRI (`course/@id`).
    pub id: String,
    /// Language of every langstring: a package holds one language.
    pub language: String,
    pub title: String,
    pub description: String,
    pub aus: Vec<AuPlan>,
}

#[derive(Debug, Clone)]
pub struct AuPlan {
    /// The module's xAPI activity id, so that the publisher id the LMS
    /// puts in every statement's grouping is the id the analytics know.
    pub id: String,
    pub title: String,
    pub description: String,
    /// Package path of the launch page (written URL-encoded, relative).
    pub launch: String,
    pub move_on: MoveOn,
    /// Scaled pass mark; only for an AU that decides pass/fail.
    pub mastery_score: Option<f64>,
    /// xAPI activity type the LMS may show before the first launch.
    pub activity_type: &'static str,
}

pub fn write(plan: &CoursePlan) -> String {
    let mut w = XmlWriter::new();
    w.start("courseStructure", &[("xmlns", CMI5_NS)]);
    w.start("course", &[("id", &plan.id)]);
    langstrings(&mut w, "title", &plan.language, &plan.title);
    langstrings(&mut w, "description", &plan.language, &plan.description);
    w.end();
    for au in &plan.aus {
        let mastery = au.mastery_score.map(super::decimal);
        let mut attrs = vec![("id", au.id.as_str()), ("moveOn", au.move_on.as_str())];
        if let Some(m) = &mastery {
            attrs.push(("masteryScore", m));
        }
        attrs.push(("launchMethod", LAUNCH_METHOD));
        attrs.push(("activityType", au.activity_type));
        w.start("au", &attrs);
        langstrings(&mut w, "title", &plan.language, &au.title);
        langstrings(&mut w, "description", &plan.language, &au.description);
        w.text_element("url", &[], &encode_path(&au.launch));
        w.end();
    }
    w.finish()
}

fn langstrings(w: &mut XmlWriter, element: &'static str, lang: &str, text: &str) {
    w.start(element, &[]);
    w.text_element("langstring", &[("lang", lang)], text.trim());
    w.end();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_one_au_per_module_with_its_rules() {
        let plan = CoursePlan {
            id: "urn:kmh:course:demo/course/fr".into(),
            language: "fr".into(),
            title: "Démo & co".into(),
            description: " Un cours. ".into(),
            aus: vec![
                AuPlan {
                    id: "urn:kmh:course:demo/m1".into(),
                    title: "Un".into(),
                    description: "Le premier".into(),
                    launch: "m1/launch.html".into(),
                    move_on: MoveOn::CompletedAndPassed,
                    mastery_score: Some(0.8),
                    activity_type: "http://adlnet.gov/expapi/activities/lesson",
                },
                AuPlan {
                    id: "urn:kmh:course:demo/ext".into(),
                    title: "Ailleurs".into(),
                    description: "Lien".into(),
                    launch: "external/a b.html".into(),
                    move_on: MoveOn::NotApplicable,
                    mastery_score: None,
                    activity_type: "http://adlnet.gov/expapi/activities/link",
                },
            ],
        };
        let xml = write(&plan);
        assert!(xml.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<courseStructure xmlns=\"https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd\">\n  <course id=\"urn:kmh:course:demo/course/fr\">\n    <title>\n      <langstring lang=\"fr\">Démo &amp; co</langstring>"
        ), "{xml}");
        assert!(xml.contains("<langstring lang=\"fr\">Un cours.</langstring>"));
        assert!(xml.contains(
            "<au id=\"urn:kmh:course:demo/m1\" moveOn=\"CompletedAndPassed\" masteryScore=\"0.8\" launchMethod=\"AnyWindow\" activityType=\"http://adlnet.gov/expapi/activities/lesson\">"
        ), "{xml}");
        assert!(xml.contains("<au id=\"urn:kmh:course:demo/ext\" moveOn=\"NotApplicable\" launchMethod=\"AnyWindow\""), "{xml}");
        assert!(xml.contains("<url>external/a%20b.html</url>"));
    }
}

//! The part of the learners a staff credential may see: a [`Slice`] of
//! courses, cohorts and countries (`kmh creds add --course --cohort
//! --country`). The same rule decides for the indicators (by enrolment)
//! and for GET /statements (by statement), so a reader never sees in one
//! what the other hides.
//!
//! An empty list does not restrict; several values in one list mean any
//! of them; lists restrict together (course *and* cohort *and* country).
//! A learner's cohort matches by the `urn:kmh:ext:cohort` value or by a
//! registration, as the `cohort` filter does.
//!
//! Statements: one is visible when it is about a course of the slice and
//! its learner is in the slice. The cohort and country are the statement's
//! own extensions; when it carries none, those the read models hold for
//! the learner in that course (from their other statements). A statement
//! the read models cannot place (no course, a group as actor, a voiding
//! statement) is not visible to a restricted credential.

use serde_json::Value;

use super::extract::extract;
use super::model::{Enrolment, Str, enrol_key};
use super::state::State;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slice {
    /// Course IRIs or ids (`reintegration-me`).
    pub courses: Vec<String>,
    /// Cohort labels or registrations.
    pub cohorts: Vec<String>,
    /// ISO 3166-1 alpha-2, uppercase.
    pub countries: Vec<String>,
}

impl Slice {
    /// Restricts nothing.
    pub fn is_all(&self) -> bool {
        self.courses.is_empty() && self.cohorts.is_empty() && self.countries.is_empty()
    }

    pub fn admits_course(&self, iri: &str) -> bool {
        self.courses.is_empty()
            || self
                .courses
                .iter()
                .any(|c| c == iri || iri.rsplit([':', '/']).next() == Some(c.as_str()))
    }

    fn admits_cohort(&self, cohort: Option<&str>, registrations: &[Str]) -> bool {
        self.cohorts.is_empty()
            || self.cohorts.iter().any(|c| {
                cohort == Some(c.as_str())
                    || registrations.iter().any(|r| r.eq_ignore_ascii_case(c))
            })
    }

    fn admits_country(&self, country: Option<&str>) -> bool {
        self.countries.is_empty()
            || country.is_some_and(|x| self.countries.iter().any(|c| c.eq_ignore_ascii_case(x)))
    }

    /// The learner's enrolment is in the slice.
    pub fn admits(&self, e: &Enrolment) -> bool {
        self.admits_course(&e.course)
            && self.admits_cohort(e.cohort.as_deref(), &e.registrations)
            && self.admits_country(e.country.as_deref())
    }

    /// A stored statement is in the slice (see the module's rules).
    pub fn admits_statement(&self, statement: &Value, state: &State) -> bool {
        if self.is_all() {
            return true;
        }
        let Some(f) = extract(statement, &mut |s| Str::from(s)) else {
            return false;
        };
        if !self.admits_course(&f.course) {
            return false;
        }
        let needs_learner = !self.cohorts.is_empty() && f.cohort.is_none()
            || !self.countries.is_empty() && f.country.is_none();
        let known = needs_learner
            .then(|| state.enrolments.get(&enrol_key(&f.course, &f.learner)))
            .flatten();
        let mut registrations: Vec<Str> = f.registration.iter().cloned().collect();
        let cohort = match &f.cohort {
            Some(c) => Some(c.clone()),
            None => {
                if let Some(e) = known {
                    registrations.extend(e.registrations.iter().cloned());
                }
                known.and_then(|e| e.cohort.clone())
            }
        };
        let country = f
            .country
            .clone()
            .or_else(|| known.and_then(|e| e.country.clone()));
        self.admits_cohort(cohort.as_deref(), &registrations)
            && self.admits_country(country.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const COURSE: &str = "urn:kmh:course:reintegration-me";

    fn statement(learner: &str, ext: Value) -> Value {
        json!({
            "actor": {"account": {"homePage": "https://lms.example.org", "name": learner}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": format!("{COURSE}/s01-intro/pages/01")},
            "context": {"registration": "6c6a8c8e-3c1d-4f6e-9a54-0d7b8f0a1b2c",
                        "contextActivities": {"grouping": [{"id": COURSE, "definition": {"type": crate::analytics::COURSE_TYPE}}]},
                        "extensions": ext},
            "timestamp": "2026-03-02T10:00:00.000Z",
        })
    }

    fn slice(courses: &[&str], cohorts: &[&str], countries: &[&str]) -> Slice {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect();
        Slice {
            courses: v(courses),
            cohorts: v(cohorts),
            countries: v(countries),
        }
    }

    #[test]
    fn statements_by_their_own_extensions_else_by_the_learners_enrolment() {
        let mut state = State::new([7; 16]);
        // l1 is known to be in cohort C1, Senegal, from an earlier statement.
        state.fold(&statement(
            "l1",
            json!({"urn:kmh:ext:cohort": "C1", "urn:kmh:ext:country": "SN"}),
        ));
        let bare1 = statement("l1", json!({}));
        let bare2 = statement("l2", json!({}));
        let tagged2 = statement(
            "l2",
            json!({"urn:kmh:ext:cohort": "C2", "urn:kmh:ext:country": "ML"}),
        );

        let c1 = slice(&[], &["C1"], &[]);
        assert!(c1.admits_statement(&bare1, &state), "from the enrolment");
        assert!(!c1.admits_statement(&bare2, &state), "unknown learner");
        assert!(!c1.admits_statement(&tagged2, &state));
        let ml = slice(&["reintegration-me"], &[], &["ml"]);
        assert!(ml.admits_statement(&tagged2, &state));
        assert!(!ml.admits_statement(&bare1, &state));
        let other_course = slice(&["urn:kmh:course:other"], &[], &[]);
        assert!(!other_course.admits_statement(&tagged2, &state));
        let by_registration = slice(&[], &["6C6A8C8E-3C1D-4F6E-9A54-0D7B8F0A1B2C"], &[]);
        assert!(by_registration.admits_statement(&bare2, &state));
        // Not about a course: only an unrestricted reader sees it.
        let outside = json!({"actor": {"mbox": "mailto:a@example.org"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": "https://elsewhere.example/x"}});
        assert!(!ml.admits_statement(&outside, &state));
        assert!(Slice::default().admits_statement(&outside, &state));
    }
}

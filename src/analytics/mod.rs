//! Training analytics: read models kept at ingest, programme indicators,
//! the dashboard's API and `kmh report`.
//!
//! The store's writer hands every new statement to a [`Group`]
//! ([`Group::project`]); the rows it changes (learner × course, learner ×
//! module, learner × question) go into the same atomic batch as the
//! statements, so the read models never drift from the log, and a voided
//! statement is taken back out. `kmh reindex` rebuilds them from the
//! statements. Queries ([`indicators`]) run over the in-memory [`State`],
//! never over the raw log.
//!
//! # What statements are read
//!
//! Statements follow the xAPI SCORM Profile
//! (`../shared/standards/xapi/xapi-scorm-profile/`): `initialized`,
//! `completed`, `passed`/`failed`, `answered` (or `responded`) with
//! `result.response` and an interaction definition, `terminated` with
//! `result.duration`; the learner as an `account` actor; the course and
//! module as `grouping`/`parent` context activities; `context.registration`
//! the attempt. Activity ids: the course IRI (`urn:kmh:course:<id>`), a
//! module `<course IRI>/<module id>`, a question
//! `<module IRI>/interactions/<question id>`, a page
//! `<module IRI>/pages/<page>` ([`extract`] has the exact rules).
//!
//! # Extensions kmh relies on
//!
//! | IRI | where | value |
//! |---|---|---|
//! | `urn:kmh:ext:cohort` | `context.extensions` | the learner's cohort (e.g. `2026-C1`); a `cohort` filter also matches `context.registration` |
//! | `urn:kmh:ext:country` | `context.extensions` | the learner's country, ISO 3166-1 alpha-2 (`SN`); without it, the country of the learner's LMS ([`lms`]) |
//! | `urn:kmh:ext:language` | `context.extensions` | the language taken, when `context.language` is absent |
//! | `urn:kmh:ext:tag` | the question's `definition.extensions` | `knowledge`, `skills` or `attitude` (assessment parts); without it, a question id `k-…`, `s-…` or `a-…` has that tag |
//! | `urn:kmh:ext:role` | the module's `definition.extensions` | `pre-assessment`, `post-assessment`, `survey` or `lesson` |
//! | `urn:kmh:ext:page` | `result.extensions` or `context.extensions` | the page the learner is on |
//!
//! Without `urn:kmh:ext:role`, a module whose id contains
//! `pre-assessment` / `post-assessment` / `survey` (or `satisfaction`) has
//! that role.
//!
//! # Privacy
//!
//! Every view names learners by a pseudonym (`P-` and 10 hex digits, a
//! salted hash of the learner's identity, stable per data folder) unless
//! the reader's credential has the `identities` scope. Free-text survey
//! answers are shown without any learner id.

pub mod demo;
mod extract;
pub mod http;
pub mod indicators;
pub mod lms;
mod model;
mod slice;
mod state;

pub use extract::{COURSE_TYPE, Fact, duration_ms, parse_ms};
pub use indicators::Filter;
pub use lms::LmsCountries;
pub use model::{EnrolKey, Enrolment, ModuleProgress, QuestionStat, RowChange, RowReader, Tag};
pub use model::{all_rows, enrol_key};
pub use slice::Slice;
pub use state::{Group, State, StatementSource, pseudonym};

/// What the read models take from a statement, read without touching the
/// shared state, so that it can run on the request's own thread; the
/// statement's strings are shared with the state's later, in
/// [`Group::project_fact`].
pub fn fact_of(statement: &serde_json::Value) -> Option<Fact> {
    extract::extract(statement, &mut |s| model::Str::from(s))
}

pub const EXT_COHORT: &str = "urn:kmh:ext:cohort";
pub const EXT_COUNTRY: &str = "urn:kmh:ext:country";
pub const EXT_LANGUAGE: &str = "urn:kmh:ext:language";
pub const EXT_TAG: &str = "urn:kmh:ext:tag";
pub const EXT_ROLE: &str = "urn:kmh:ext:role";
pub const EXT_PAGE: &str = "urn:kmh:ext:page";

/// Version of the read models' rules. A store whose read models were
/// built by other rules rebuilds them from its statements when opened.
pub const VERSION: u32 = 4;

#[cfg(test)]
mod tests;

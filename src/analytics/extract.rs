//! What one statement says about a learner's progress: a [`Fact`], read
//! from the statement following the xAPI SCORM Profile
//! (`../shared/standards/xapi/xapi-scorm-profile/`, §3 "Statement
//! guidelines" and §5 "Supporting the SCORM temporal model") and the
//! extensions documented in [`super`].
//!
//! How a statement is placed:
//! - **course**: a `parent`/`grouping` context activity of type
//!   `http://adlnet.gov/expapi/activities/course`; else the object itself
//!   when it has that type; else a `parent`/`grouping` activity whose IRI
//!   followed by `/` starts the object's IRI (the profile's "SCO IRIs should
//!   be `<courseIRI>/<sco path>`"). A statement with no course is not
//!   about a course and is left out of the read models.
//! - **module** (SCO): `<courseIRI>/<first path segment of the object>`
//!   when the object's IRI is under the course's (the profile's IRI
//!   scheme, which kmh's runtime follows: a quiz page and its questions
//!   are `<module>/quiz/…` with the quiz page as `parent`); else the first
//!   `parent` that is neither the course nor an attempt; else the object.
//! - **target**: the course, the module itself, a question inside it
//!   (`answered`/`responded`, or an interaction activity), a page inside it
//!   (`experienced`/`progressed`), or something else inside it.

use serde_json::Value;

use super::model::{MAX_RESPONSE_CHARS, Str, Tag};
use super::{EXT_COHORT, EXT_COUNTRY, EXT_LANGUAGE, EXT_PAGE, EXT_TAG};

pub const COURSE_TYPE: &str = "http://adlnet.gov/expapi/activities/course";
const ATTEMPT_TYPE: &str = "http://adlnet.gov/expapi/activities/attempt";
const PROFILE_TYPE: &str = "http://adlnet.gov/expapi/activities/profile";
const INTERACTION_TYPES: [&str; 2] = [
    "http://adlnet.gov/expapi/activities/cmi.interaction",
    "http://adlnet.gov/expapi/activities/interaction",
];

/// The verbs the read models understand (ADL vocabulary, as the SCORM
/// Profile and cmi5 use it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Registered,
    Launched,
    Initialized,
    Resumed,
    Suspended,
    Terminated,
    Experienced,
    Progressed,
    Attempted,
    Completed,
    Passed,
    Failed,
    Scored,
    Answered,
    Satisfied,
    Voided,
    Other,
}

impl Verb {
    pub fn from_iri(iri: &str) -> Verb {
        let name = iri
            .strip_prefix("http://adlnet.gov/expapi/verbs/")
            .or_else(|| iri.strip_prefix("https://w3id.org/xapi/adl/verbs/"));
        match name {
            Some("registered") => Verb::Registered,
            Some("launched") => Verb::Launched,
            Some("initialized") => Verb::Initialized,
            Some("resumed") => Verb::Resumed,
            Some("suspended") => Verb::Suspended,
            Some("terminated") => Verb::Terminated,
            Some("experienced") => Verb::Experienced,
            Some("progressed") => Verb::Progressed,
            Some("attempted") => Verb::Attempted,
            Some("completed") => Verb::Completed,
            Some("passed") => Verb::Passed,
            Some("failed") => Verb::Failed,
            Some("scored") => Verb::Scored,
            Some("answered") | Some("responded") => Verb::Answered,
            Some("satisfied") => Verb::Satisfied,
            Some("voided") => Verb::Voided,
            _ => Verb::Other,
        }
    }
}

/// What a statement is about, within its course.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Course,
    Module,
    /// A question (interaction) of the module, by IRI.
    Question(Str),
    /// A page of the module, by its path under the module's IRI.
    Page(Str),
    /// Some other activity inside the module.
    Other,
}

/// What one statement says, reduced to what the read models keep.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    pub course: Str,
    pub learner: Str,
    pub name: Option<Str>,
    /// `None` for statements about the course itself.
    pub module: Option<Str>,
    pub target: Target,
    pub verb: Verb,
    /// When it happened (`timestamp`), Unix ms.
    pub at_ms: i64,
    pub score: Option<f64>,
    pub success: Option<bool>,
    pub completion: Option<bool>,
    pub duration_ms: Option<u64>,
    pub response: Option<Str>,
    pub interaction: Option<Str>,
    pub tag: Option<Tag>,
    pub cohort: Option<Str>,
    pub country: Option<Str>,
    pub language: Option<Str>,
    pub registration: Option<Str>,
    pub page: Option<Str>,
}

/// Longest attribute value kept (cohort, country, names).
const MAX_ATTR_CHARS: usize = 100;

/// Reads a stored statement. `intern` shares repeated strings.
pub fn extract(statement: &Value, intern: &mut dyn FnMut(&str) -> Str) -> Option<Fact> {
    let verb = Verb::from_iri(statement.get("verb")?.get("id")?.as_str()?);
    if verb == Verb::Voided {
        return None;
    }
    let actor = statement.get("actor")?;
    if !matches!(
        actor.get("objectType").and_then(Value::as_str),
        None | Some("Agent")
    ) {
        return None;
    }
    let learner = crate::xapi::ifi::identity(actor)?;
    let object = statement.get("object")?;
    if !matches!(
        object.get("objectType").and_then(Value::as_str),
        None | Some("Activity")
    ) {
        return None;
    }
    let object_id = object.get("id")?.as_str()?;
    let context = statement.get("context");
    let parents = context_activities(context, "parent");
    let groupings = context_activities(context, "grouping");

    let course = find_course(object, object_id, &parents, &groupings)?;
    let (module, target) = if object_id == course {
        (None, Target::Course)
    } else {
        let module: &str = match object_id
            .strip_prefix(course)
            .and_then(|r| r.strip_prefix('/'))
        {
            Some(rest) => {
                let seg = rest.split(['/', '?', '#']).next().unwrap_or(rest);
                &object_id[..course.len() + 1 + seg.len()]
            }
            None => parents
                .iter()
                .find(|a| {
                    a.get("id").and_then(Value::as_str) != Some(course) && !is_attempt_or_profile(a)
                })
                .and_then(|p| p.get("id"))
                .and_then(Value::as_str)
                .unwrap_or(object_id),
        };
        let target = if object_id == module {
            Target::Module
        } else if verb == Verb::Answered || is_interaction(object) {
            Target::Question(intern(object_id))
        } else if matches!(verb, Verb::Experienced | Verb::Progressed) {
            let page = object_id
                .strip_prefix(module)
                .and_then(|r| r.strip_prefix('/'))
                .unwrap_or(object_id);
            Target::Page(intern(page))
        } else {
            Target::Other
        };
        (Some(intern(module)), target)
    };

    let result = statement.get("result");
    let score = result.and_then(|r| r.get("score")).and_then(scaled_score);
    let success = result
        .and_then(|r| r.get("success"))
        .and_then(Value::as_bool);
    let completion = result
        .and_then(|r| r.get("completion"))
        .and_then(Value::as_bool);
    let duration_ms = result
        .and_then(|r| r.get("duration"))
        .and_then(Value::as_str)
        .and_then(duration_ms);
    let is_question = matches!(target, Target::Question(_));
    // Answers are kept only where no success is reported (surveys: Likert
    // points and free text); a scored answer's success is what counts, and
    // keeping every response would multiply the read models' memory.
    let response = if is_question && success.is_none() {
        result
            .and_then(|r| r.get("response"))
            .and_then(Value::as_str)
            .map(|s| {
                if s.len() <= 32 {
                    intern(s)
                } else {
                    Str::from(truncate(s, MAX_RESPONSE_CHARS))
                }
            })
    } else {
        None
    };
    let definition = object.get("definition");
    let interaction = if is_question {
        definition
            .and_then(|d| d.get("interactionType"))
            .and_then(Value::as_str)
            .map(&mut *intern)
    } else {
        None
    };
    let tag = if is_question {
        definition
            .and_then(|d| d.get("extensions"))
            .and_then(|e| e.get(EXT_TAG))
            .or_else(|| ext(context, EXT_TAG))
            .and_then(Value::as_str)
            .and_then(Tag::parse)
            .or_else(|| tag_from_id(object_id))
    } else {
        None
    };
    let text = |v: &Value| -> Option<String> {
        let s = match v {
            Value::String(s) => s.trim().to_owned(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        (!s.is_empty()).then(|| truncate(&s, MAX_ATTR_CHARS).to_owned())
    };
    let cohort = ext(context, EXT_COHORT).and_then(text).map(|s| intern(&s));
    let country = ext(context, EXT_COUNTRY)
        .and_then(text)
        .map(|s| intern(&s.to_ascii_uppercase()));
    let language = context
        .and_then(|c| c.get("language"))
        .or_else(|| ext(context, EXT_LANGUAGE))
        .and_then(text)
        .map(|s| {
            let primary = s.split(['-', '_']).next().unwrap_or(&s);
            intern(&primary.to_ascii_lowercase())
        });
    let registration = context
        .and_then(|c| c.get("registration"))
        .and_then(Value::as_str)
        .map(|s| intern(&s.to_ascii_lowercase()));
    let page = result
        .and_then(|r| r.get("extensions"))
        .and_then(|e| e.get(EXT_PAGE))
        .or_else(|| ext(context, EXT_PAGE))
        .and_then(text)
        .map(|s| intern(&s));
    let name = actor
        .get("name")
        .and_then(Value::as_str)
        .map(|s| intern(truncate(s.trim(), MAX_ATTR_CHARS)));
    let at_ms = statement
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(parse_ms)
        .or_else(|| {
            statement
                .get("stored")
                .and_then(Value::as_str)
                .and_then(parse_ms)
        })
        .unwrap_or(0);

    Some(Fact {
        course: intern(course),
        learner: intern(&learner),
        name,
        module,
        target,
        verb,
        at_ms,
        score,
        success,
        completion,
        duration_ms,
        response,
        interaction,
        tag,
        cohort,
        country,
        language,
        registration,
        page,
    })
}

/// The curriculum's convention when no `urn:kmh:ext:tag` is sent: the
/// knowledge / skills / attitude questions of the assessment are named
/// `k-…`, `s-…` and `a-…`.
fn tag_from_id(question_iri: &str) -> Option<Tag> {
    let id = question_iri.rsplit('/').next().unwrap_or(question_iri);
    match id.split_once('-')?.0 {
        "k" => Some(Tag::Knowledge),
        "s" => Some(Tag::Skills),
        "a" => Some(Tag::Attitude),
        _ => None,
    }
}

fn context_activities<'a>(context: Option<&'a Value>, kind: &str) -> Vec<&'a Value> {
    match context
        .and_then(|c| c.get("contextActivities"))
        .and_then(|c| c.get(kind))
    {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        _ => Vec::new(),
    }
}

fn activity_type(activity: &Value) -> Option<&str> {
    activity
        .get("definition")
        .and_then(|d| d.get("type"))
        .and_then(Value::as_str)
}

fn is_attempt_or_profile(activity: &Value) -> bool {
    matches!(
        activity_type(activity),
        Some(ATTEMPT_TYPE) | Some(PROFILE_TYPE)
    ) || activity
        .get("id")
        .and_then(Value::as_str)
        .is_some_and(|id| id.contains("attemptId=") || id == "https://w3id.org/xapi/scorm")
}

fn is_interaction(object: &Value) -> bool {
    object
        .get("definition")
        .is_some_and(|d| d.get("interactionType").is_some())
        || activity_type(object).is_some_and(|t| INTERACTION_TYPES.contains(&t))
}

fn find_course<'a>(
    object: &'a Value,
    object_id: &'a str,
    parents: &[&'a Value],
    groupings: &[&'a Value],
) -> Option<&'a str> {
    let context = || groupings.iter().chain(parents.iter());
    if let Some(c) = context().find(|a| activity_type(a) == Some(COURSE_TYPE)) {
        return c.get("id").and_then(Value::as_str);
    }
    if activity_type(object) == Some(COURSE_TYPE) {
        return Some(object_id);
    }
    context()
        .filter(|a| !is_attempt_or_profile(a))
        .filter_map(|a| a.get("id").and_then(Value::as_str))
        .find(|id| {
            object_id
                .strip_prefix(id)
                .is_some_and(|rest| rest.starts_with('/'))
        })
}

fn ext<'a>(context: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    context?.get("extensions")?.get(key)
}

/// `score.scaled`, else `raw` scaled between `min` and `max`.
fn scaled_score(score: &Value) -> Option<f64> {
    if let Some(s) = score.get("scaled").and_then(Value::as_f64) {
        return Some(s.clamp(-1.0, 1.0));
    }
    let raw = score.get("raw").and_then(Value::as_f64)?;
    let min = score.get("min").and_then(Value::as_f64).unwrap_or(0.0);
    let max = score.get("max").and_then(Value::as_f64)?;
    (max > min).then(|| ((raw - min) / (max - min)).clamp(0.0, 1.0))
}

fn truncate(s: &str, chars: usize) -> &str {
    match s.char_indices().nth(chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// An RFC 3339 timestamp as Unix milliseconds.
pub fn parse_ms(ts: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// An ISO 8601 duration (as xAPI allows it, already validated on ingest)
/// in milliseconds; years and months count as 365 and 30 days.
pub fn duration_ms(s: &str) -> Option<u64> {
    let rest = s.strip_prefix('P')?;
    let mut total = 0f64;
    let mut in_time = false;
    let mut number = String::new();
    for c in rest.chars() {
        match c {
            'T' => in_time = true,
            '0'..='9' | '.' | ',' => number.push(if c == ',' { '.' } else { c }),
            unit => {
                let n: f64 = number.parse().ok()?;
                number.clear();
                let secs = match (unit, in_time) {
                    ('Y', false) => 365.0 * 86400.0,
                    ('M', false) => 30.0 * 86400.0,
                    ('W', false) => 7.0 * 86400.0,
                    ('D', false) => 86400.0,
                    ('H', true) => 3600.0,
                    ('M', true) => 60.0,
                    ('S', true) => 1.0,
                    _ => return None,
                };
                total += n * secs;
            }
        }
    }
    if !number.is_empty() || !total.is_finite() || total < 0.0 {
        return None;
    }
    Some((total * 1000.0).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn intern(s: &str) -> Str {
        Str::from(s)
    }

    fn statement(verb: &str, object: Value, context: Value) -> Value {
        json!({
            "actor": {"account": {"homePage": "https://lms.example.org", "name": "l1"}, "name": "Awa"},
            "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}")},
            "object": object,
            "context": context,
            "timestamp": "2026-03-02T10:00:00.000Z",
        })
    }

    const COURSE: &str = "urn:kmh:course:reintegration-me";

    #[test]
    fn scorm_profile_answer_is_a_question_of_its_parent_module() {
        let s = statement(
            "answered",
            json!({"id": format!("{COURSE}/s00-pre-assessment/interactions/k-smart"),
                   "definition": {"interactionType": "fill-in", "extensions": {"urn:kmh:ext:tag": "knowledge"}}}),
            json!({"registration": "6C6A8C8E-3C1D-4F6E-9A54-0D7B8F0A1B2C", "language": "fr-SN",
                   "contextActivities": {
                       "parent": [{"id": format!("{COURSE}/s00-pre-assessment")}],
                       "grouping": [{"id": COURSE, "definition": {"type": COURSE_TYPE}},
                                    {"id": format!("{COURSE}/s00-pre-assessment?attemptId=1"),
                                     "definition": {"type": ATTEMPT_TYPE}}]},
                   "extensions": {"urn:kmh:ext:cohort": "2026-C1", "urn:kmh:ext:country": "sn"}}),
        );
        let mut s = s;
        s["result"] = json!({"response": "specific", "success": true});
        let f = extract(&s, &mut intern).unwrap();
        assert_eq!(&*f.course, COURSE);
        assert_eq!(
            f.module.as_deref(),
            Some("urn:kmh:course:reintegration-me/s00-pre-assessment")
        );
        assert!(matches!(&f.target, Target::Question(q) if q.ends_with("/k-smart")));
        assert_eq!(f.tag, Some(Tag::Knowledge));
        assert_eq!(f.success, Some(true));
        assert_eq!(f.score, None);
        assert_eq!(f.country.as_deref(), Some("SN"));
        assert_eq!(f.language.as_deref(), Some("fr"));
        assert_eq!(f.cohort.as_deref(), Some("2026-C1"));
        assert_eq!(
            f.registration.as_deref(),
            Some("6c6a8c8e-3c1d-4f6e-9a54-0d7b8f0a1b2c")
        );
        assert_eq!(f.at_ms, 1_772_445_600_000);
    }

    #[test]
    fn course_found_by_iri_prefix_and_module_by_first_segment() {
        let s = statement(
            "experienced",
            json!({"id": format!("{COURSE}/s03-me/pages/02-why")}),
            json!({"contextActivities": {"grouping": [{"id": COURSE}]}}),
        );
        let f = extract(&s, &mut intern).unwrap();
        assert_eq!(f.module.as_deref(), Some(&*format!("{COURSE}/s03-me")));
        assert_eq!(f.target, Target::Page(Str::from("pages/02-why")));
    }

    #[test]
    fn statements_about_the_course_and_outside_any_course() {
        let s = statement(
            "registered",
            json!({"id": COURSE, "definition": {"type": COURSE_TYPE}}),
            json!({}),
        );
        let f = extract(&s, &mut intern).unwrap();
        assert_eq!(f.target, Target::Course);
        assert_eq!(f.module, None);
        let s = statement(
            "completed",
            json!({"id": "https://elsewhere.example/x"}),
            json!({}),
        );
        assert_eq!(extract(&s, &mut intern), None);
    }

    /// Shaped like the statements of kmh's content runtime
    /// (`assets/package/kmh-runtime.js`): the quiz page is the parent, the
    /// module is in `grouping`, no tag extension.
    #[test]
    fn runtime_answer_belongs_to_its_module_not_its_quiz_page() {
        let module = format!("{COURSE}/s09-post-assessment");
        let quiz = format!("{module}/quiz/ksa-assessment");
        let s = json!({
            "actor": {"account": {"homePage": "https://lms.example.org", "name": "l1"}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
            "object": {"id": format!("{quiz}/s-sampling"),
                       "definition": {"type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                                      "interactionType": "choice"}},
            "result": {"success": false, "response": "c2"},
            "context": {"registration": "6c6a8c8e-3c1d-4f6e-9a54-0d7b8f0a1b2c", "language": "fr",
                        "contextActivities": {
                            "parent": [{"id": quiz}],
                            "grouping": [{"id": module},
                                         {"id": format!("{module}/attempt/6c6a8c8e"),
                                          "definition": {"type": ATTEMPT_TYPE}},
                                         {"id": COURSE, "definition": {"type": COURSE_TYPE}}]}},
            "timestamp": "2026-03-02T10:00:00.000Z",
        });
        let f = extract(&s, &mut intern).unwrap();
        assert_eq!(f.module.as_deref(), Some(module.as_str()));
        assert!(matches!(&f.target, Target::Question(q) if q.ends_with("/s-sampling")));
        assert_eq!(f.tag, Some(Tag::Skills));
        // A page of the module, with the module as parent.
        let mut page = s.clone();
        page["verb"]["id"] = json!("http://adlnet.gov/expapi/verbs/experienced");
        page["object"] = json!({"id": format!("{module}/pages/01-about")});
        page["context"]["contextActivities"]["parent"] = json!([{"id": module}]);
        let f = extract(&page, &mut intern).unwrap();
        assert_eq!(f.module.as_deref(), Some(module.as_str()));
        assert_eq!(f.target, Target::Page(Str::from("pages/01-about")));
    }

    #[test]
    fn scores_and_durations() {
        assert_eq!(
            scaled_score(&json!({"raw": 7, "min": 0, "max": 10})),
            Some(0.7)
        );
        assert_eq!(scaled_score(&json!({"scaled": 0.25, "raw": 1})), Some(0.25));
        assert_eq!(scaled_score(&json!({"raw": 7})), None);
        assert_eq!(duration_ms("PT1H2M3.5S"), Some(3_723_500));
        assert_eq!(duration_ms("P1DT1S"), Some(86_401_000));
        assert_eq!(duration_ms("PT"), Some(0));
        assert_eq!(duration_ms("1H"), None);
        assert_eq!(duration_ms("PT5"), None);
    }
}

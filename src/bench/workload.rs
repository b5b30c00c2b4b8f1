//! Realistic statements for the load generator: learners of an LMS taking
//! modules of the hub's course, with context, result and extensions, each
//! with a fresh id so that the store never sees the same statement twice.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use uuid::Uuid;

const VERBS: [&str; 6] = [
    "http://adlnet.gov/expapi/verbs/initialized",
    "http://adlnet.gov/expapi/verbs/answered",
    "http://adlnet.gov/expapi/verbs/completed",
    "http://adlnet.gov/expapi/verbs/passed",
    "http://adlnet.gov/expapi/verbs/failed",
    "http://adlnet.gov/expapi/verbs/terminated",
];
const COUNTRIES: [&str; 8] = ["SN", "ML", "NE", "GN", "CI", "NG", "GM", "ET"];

pub struct Workload {
    learners: u64,
    activities: u64,
    /// A cheap pseudo-random sequence (xorshift) shared by all clients.
    state: AtomicU64,
}

impl Workload {
    pub fn new(learners: u64, activities: u64) -> Self {
        Workload {
            learners,
            activities,
            state: AtomicU64::new(0x9E37_79B9_7F4A_7C15),
        }
    }

    fn random(&self) -> u64 {
        let mut x = self
            .state
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        x ^= x >> 30;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^= x >> 27;
        x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }

    /// The JSON body of one request: one statement, or an array of `n`.
    pub fn body(&self, _request: usize, n: usize) -> Vec<u8> {
        let value = if n == 1 {
            self.statement()
        } else {
            Value::Array((0..n).map(|_| self.statement()).collect())
        };
        serde_json::to_vec(&value).unwrap_or_default()
    }

    fn statement(&self) -> Value {
        let r = self.random();
        let learner = r % self.learners;
        let activity = (r >> 20) % self.activities;
        let module = activity % 8;
        let verb = VERBS[((r >> 40) % VERBS.len() as u64) as usize];
        let country = COUNTRIES[(learner % COUNTRIES.len() as u64) as usize];
        let lang = if learner.is_multiple_of(3) {
            "fr"
        } else {
            "en"
        };
        json!({
            "id": Uuid::new_v4().to_string(),
            "actor": {"objectType": "Agent", "name": format!("Learner {learner}"),
                      "account": {"homePage": "https://elearning.example.org", "name": format!("learner-{learner}")}},
            "verb": {"id": verb, "display": {"en-US": verb.rsplit('/').next().unwrap_or(verb)}},
            "object": {"objectType": "Activity",
                       "id": format!("urn:kmh:course:reintegration-me/s0{module}/q{activity}"),
                       "definition": {"type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                                      "name": {"en": format!("Question {activity} of session {module}"),
                                               "fr": format!("Question {activity} de la séance {module}")},
                                      "interactionType": "choice",
                                      "correctResponsesPattern": ["b"],
                                      "choices": [{"id": "a", "description": {"en": "Economic only"}},
                                                  {"id": "b", "description": {"en": "Economic, social and psychosocial"}},
                                                  {"id": "c", "description": {"en": "Legal and political"}}]}},
            "result": {"success": !r.is_multiple_of(4), "completion": true, "response": "b",
                       "score": {"scaled": (r % 100) as f64 / 100.0, "raw": r % 100, "min": 0, "max": 100},
                       "duration": format!("PT{}M{}S", r % 50, r % 60)},
            "context": {"registration": Uuid::from_u64_pair(learner, 7).to_string(),
                        "platform": "Moodle 4.3", "language": lang,
                        "contextActivities": {
                            "parent": [{"id": format!("urn:kmh:course:reintegration-me/s0{module}"), "objectType": "Activity"}],
                            "grouping": [{"id": "urn:kmh:course:reintegration-me", "objectType": "Activity"}],
                            "category": [{"id": "https://w3id.org/xapi/scorm", "objectType": "Activity"}]},
                        "extensions": {"urn:kmh:ext:country": country, "urn:kmh:ext:cohort": format!("2026-{}", learner % 12 + 1),
                                       "urn:kmh:ext:attempt": (r >> 8) % 3 + 1}},
            "timestamp": "2026-11-20T10:15:30.250Z"
        })
    }

    pub fn agent_filter(&self, i: usize) -> String {
        let learner = (i as u64 * 7919) % self.learners;
        let agent = format!(
            r#"{{"account":{{"homePage":"https://elearning.example.org","name":"learner-{learner}"}}}}"#
        );
        format!(
            "agent={}&limit=50",
            form_urlencoded::byte_serialize(agent.as_bytes()).collect::<String>()
        )
    }

    pub fn activity_filter(&self, i: usize) -> String {
        let activity = (i as u64 * 104_729) % self.activities;
        format!(
            "activity=urn:kmh:course:reintegration-me/s0{}/q{activity}&limit=50",
            activity % 8
        )
    }
}

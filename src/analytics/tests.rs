//! Unit tests of the read models: folding, row encoding, voiding.

use std::collections::HashMap;
use std::sync::RwLock;

use serde_json::{Value, json};
use uuid::Uuid;

use super::model::{RowReader, Str, all_rows, row_changes};
use super::state::{Group, State, StatementSource};
use super::{Enrolment, Tag, enrol_key};

const COURSE: &str = "urn:kmh:course:reintegration-me";

fn st(id: u128, learner: &str, verb: &str, object: &str, result: Value, ts: &str) -> Value {
    json!({
        "id": Uuid::from_u128(id).to_string(),
        "actor": {"account": {"homePage": "https://lms.example.org", "name": learner}},
        "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}")},
        "object": {"id": format!("{COURSE}/{object}"),
                   "definition": {"extensions": {"urn:kmh:ext:tag": "skills"}}},
        "result": result,
        "context": {"contextActivities": {"grouping": [{"id": COURSE}]},
                    "language": "fr", "extensions": {"urn:kmh:ext:country": "ML"}},
        "timestamp": ts,
    })
}

fn learner(name: &str) -> String {
    format!("account:https://lms.example.org\u{1f}{name}")
}

fn statements() -> Vec<Value> {
    vec![
        st(
            1,
            "a",
            "initialized",
            "s00-pre",
            json!({}),
            "2026-01-05T09:00:00Z",
        ),
        st(
            2,
            "a",
            "answered",
            "s00-pre/interactions/q1",
            json!({"success": false, "response": "b"}),
            "2026-01-05T09:05:00Z",
        ),
        st(
            3,
            "a",
            "answered",
            "s00-pre/interactions/q1",
            json!({"success": true, "response": "a"}),
            "2026-01-05T09:06:00Z",
        ),
        st(
            4,
            "a",
            "completed",
            "s00-pre",
            json!({"score": {"scaled": 0.4}}),
            "2026-01-05T09:10:00Z",
        ),
        st(
            5,
            "a",
            "terminated",
            "s00-pre",
            json!({"duration": "PT10M"}),
            "2026-01-05T09:10:01Z",
        ),
        st(
            6,
            "a",
            "experienced",
            "s01-intro/pages/02-why",
            json!({}),
            "2026-01-06T10:00:00Z",
        ),
        st(
            7,
            "a",
            "failed",
            "s01-intro",
            json!({"score": {"scaled": 0.6}}),
            "2026-01-06T10:30:00Z",
        ),
        st(
            8,
            "a",
            "passed",
            "s01-intro",
            json!({"score": {"scaled": 0.9}}),
            "2026-01-07T10:30:00Z",
        ),
    ]
}

fn fold_all(list: &[Value]) -> Enrolment {
    let mut state = State::new([7; 16]);
    for s in list {
        state.fold(s);
    }
    let key = enrol_key(COURSE, &learner("a"));
    (*state.enrolments[&key]).clone()
}

#[test]
fn fold_keeps_progress_per_module_and_question() {
    let e = fold_all(&statements());
    assert_eq!(e.country.as_deref(), Some("ML"));
    assert_eq!(e.language.as_deref(), Some("fr"));
    assert!(e.pid.starts_with("P-") && e.pid.len() == 12);
    let pre = e.module(&format!("{COURSE}/s00-pre")).unwrap();
    assert_eq!(pre.attempts, 1);
    assert_eq!(pre.time_ms, 600_000);
    assert_eq!(pre.latest_score(), Some(0.4));
    assert!(pre.completed_ms().is_some());
    let intro = e.module(&format!("{COURSE}/s01-intro")).unwrap();
    assert_eq!(intro.success, Some(true));
    assert_eq!(intro.best_score(), Some(0.9));
    assert_eq!(intro.latest_score(), Some(0.9));
    assert_eq!(intro.page.as_deref(), Some("pages/02-why"));
    let q = &e.questions[0];
    assert_eq!((q.attempts, q.graded, q.correct), (2, 2, 1));
    assert_eq!(q.last_success, Some(true));
    // A scored answer keeps its success, not its text.
    assert_eq!(e.response(q), None);
    assert_eq!(q.tag, Some(Tag::Skills));
}

#[test]
fn fold_does_not_depend_on_arrival_order() {
    let mut list = statements();
    let forward = fold_all(&list);
    list.reverse();
    let mut backward = fold_all(&list);
    // When an attribute was set is bookkeeping: the values agree.
    backward.attrs_ms = forward.attrs_ms;
    // Rows are kept in first-seen order; compare them sorted.
    assert_eq!(canonical(forward), canonical(backward));
}

/// Rows sorted by IRI, with each question's module index following its
/// module.
fn canonical(mut e: Enrolment) -> Enrolment {
    let names: Vec<Str> = e.modules.iter().map(|m| m.module.clone()).collect();
    e.modules.sort_by(|a, b| a.module.cmp(&b.module));
    for q in &mut e.questions {
        let name = &names[q.module as usize];
        q.module = e.modules.iter().position(|m| &m.module == name).unwrap() as u16;
    }
    e.questions.sort_by(|a, b| a.question.cmp(&b.question));
    e
}

#[test]
fn rows_round_trip() {
    let e = fold_all(&statements());
    let mut rows = Vec::new();
    all_rows(&e, &mut rows);
    rows.sort();
    let mut intern = |s: &str| Str::from(s);
    let salt = [7; 16];
    let pid = |s: &str| super::pseudonym(&salt, s);
    let mut reader = RowReader::new(&mut intern, &pid);
    let mut out = Vec::new();
    for (k, v) in &rows {
        out.extend(reader.push(k, v.as_ref().unwrap()).unwrap());
    }
    out.extend(reader.finish());
    assert_eq!(out.len(), 1);
    let back = out.pop().unwrap().1;
    assert_eq!(canonical(back), canonical(e.clone()));
}

#[test]
fn unchanged_rows_are_not_rewritten() {
    let list = statements();
    let before = fold_all(&list[..7]);
    let after = fold_all(&list);
    let key = enrol_key(COURSE, &learner("a"));
    let mut rows = Vec::new();
    row_changes(&key, Some(&before), Some(&after), &mut rows);
    // Only the s01-intro module row changed (passed).
    assert_eq!(rows.len(), 1, "{rows:?}");
}

#[derive(Default)]
struct Fake {
    stored: HashMap<Uuid, (u64, Value)>,
    voided: Vec<u64>,
}

impl StatementSource for Fake {
    fn statement(&self, id: Uuid) -> Result<Option<(u64, Value, bool)>, String> {
        Ok(self
            .stored
            .get(&id)
            .map(|(seq, v)| (*seq, v.clone(), self.voided.contains(seq))))
    }
    fn statements_of_actor(&self, identity: &str) -> Result<Vec<(u64, Value)>, String> {
        let mut out: Vec<(u64, Value)> = self
            .stored
            .values()
            .filter(|(seq, v)| {
                !self.voided.contains(seq)
                    && crate::xapi::ifi::identity(&v["actor"]).as_deref() == Some(identity)
            })
            .cloned()
            .collect();
        out.sort_by_key(|x| x.0);
        Ok(out)
    }
}

fn voiding(id: u128, target: u128) -> Value {
    json!({
        "id": Uuid::from_u128(id).to_string(),
        "actor": {"mbox": "mailto:admin@example.org"},
        "verb": {"id": crate::xapi::VOIDED},
        "object": {"objectType": "StatementRef", "id": Uuid::from_u128(target).to_string()},
        "timestamp": "2026-02-01T00:00:00Z",
    })
}

#[test]
fn voiding_takes_a_statement_back_out() {
    let list = statements();
    let lock = RwLock::new(State::new([7; 16]));
    let mut source = Fake::default();
    // First group: everything.
    let mut g = Group::new(&lock);
    for (i, s) in list.iter().enumerate() {
        g.project(s, i as u64 + 1, false, &source).unwrap();
        source
            .stored
            .insert(Uuid::from_u128(i as u128 + 1), (i as u64 + 1, s.clone()));
    }
    let rows = g.finish(&source).unwrap();
    assert!(!rows.is_empty());
    g.publish();
    let key = enrol_key(COURSE, &learner("a"));
    let best = |lock: &RwLock<State>| {
        lock.read().unwrap().enrolments[&key]
            .module(&format!("{COURSE}/s01-intro"))
            .and_then(|m| m.best_score())
    };
    assert_eq!(best(&lock), Some(0.9));

    // Second group: void the `passed` (id 8) and, in the same group, add a
    // statement and void it too.
    let mut g = Group::new(&lock);
    g.project(&voiding(100, 8), 100, false, &source).unwrap();
    let extra = st(
        9,
        "a",
        "answered",
        "s00-pre/interactions/q2",
        json!({"success": true}),
        "2026-01-08T00:00:00Z",
    );
    g.project(&extra, 101, false, &source).unwrap();
    g.project(&voiding(102, 9), 102, false, &source).unwrap();
    let rows = g.finish(&source).unwrap();
    source.voided.push(8);
    // The s01-intro row is rewritten; no q2 row appears.
    assert!(rows.iter().any(|(_, v)| v.is_some()));
    g.publish();
    assert_eq!(best(&lock), Some(0.6));
    let state = lock.read().unwrap();
    let e = &state.enrolments[&key];
    assert_eq!(e.questions.len(), 1);
    assert_eq!(
        e.module(&format!("{COURSE}/s01-intro")).unwrap().success,
        Some(false)
    );
}

#[test]
fn a_statement_voided_before_it_arrived_is_skipped() {
    let lock = RwLock::new(State::new([7; 16]));
    let source = Fake::default();
    let mut g = Group::new(&lock);
    g.project(&statements()[0], 1, true, &source).unwrap();
    assert!(g.finish(&source).unwrap().is_empty());
    g.publish();
    assert!(lock.read().unwrap().is_empty());
}

#[test]
fn survey_answers_keep_their_latest_text_through_the_rows() {
    let answer = |id: u128, response: Option<&str>, ts: &str| {
        let result = match response {
            Some(r) => json!({"response": r}),
            None => json!({}),
        };
        st(
            id,
            "a",
            "answered",
            "s10-survey/interactions/q1",
            result,
            ts,
        )
    };
    let e = fold_all(&[
        answer(1, Some("agree"), "2026-01-02T00:00:00Z"),
        answer(2, Some("disagree"), "2026-01-03T00:00:00Z"),
        // Older: counted, but the latest text stays.
        answer(3, Some("neutral"), "2026-01-01T00:00:00Z"),
    ]);
    let q = &e.questions[0];
    assert_eq!(q.attempts, 3);
    assert_eq!(e.response(q).map(|s| &**s), Some("disagree"));
    assert_eq!(e.responses.len(), 1, "replaced in place");
    assert_eq!(std::mem::size_of::<super::model::QuestionStat>(), 48);

    let key = enrol_key(COURSE, &learner("a"));
    let mut rows = Vec::new();
    row_changes(&key, None, Some(&e), &mut rows);
    rows.sort();
    let mut intern = |s: &str| Str::from(s);
    let pid = |s: &str| Str::from(s);
    let mut reader = RowReader::new(&mut intern, &pid);
    for (k, v) in &rows {
        assert!(reader.push(k, v.as_ref().unwrap()).unwrap().is_none());
    }
    let (_, back) = reader.finish().unwrap();
    assert_eq!(
        back.response(&back.questions[0]).map(|s| &**s),
        Some("disagree")
    );

    // A later answer without text leaves none.
    let e = fold_all(&[
        answer(1, Some("agree"), "2026-01-02T00:00:00Z"),
        answer(2, None, "2026-01-03T00:00:00Z"),
    ]);
    assert_eq!(e.response(&e.questions[0]), None);
}

/// A store that keeps learners by pseudonym: it knows which account each
/// pseudonym replaced.
struct Pseudonymising(HashMap<String, Value>);

impl StatementSource for Pseudonymising {
    fn statement(&self, _: Uuid) -> Result<Option<(u64, Value, bool)>, String> {
        Ok(None)
    }
    fn statements_of_actor(&self, _: &str) -> Result<Vec<(u64, Value)>, String> {
        Ok(Vec::new())
    }
    fn learner_home(&self, identity: &str) -> Option<String> {
        super::lms::home_of_identity(identity, |p| self.0.get(p).cloned().into_iter().collect())
    }
}

#[test]
fn country_from_the_learners_lms_unless_the_statements_say_one() {
    let mut lms = super::LmsCountries::default();
    lms.insert_entry("https://moodle.example.sn=SN").unwrap();
    lms.insert_entry("https://lms.example.org=ML").unwrap();
    let mut state = State::new([7; 16]);
    state.set_lms_countries(lms.clone());
    let lock = RwLock::new(state);
    let source = Pseudonymising(HashMap::from([(
        "p1".to_string(),
        json!({"account": {"homePage": "HTTPS://Moodle.example.SN/", "name": "42"}}),
    )]));
    let without_country = |id: u128, actor: Value| {
        let mut s = st(
            1,
            "x",
            "initialized",
            "s01-intro",
            json!({}),
            "2026-01-02T00:00:00Z",
        );
        s["id"] = json!(Uuid::from_u128(id).to_string());
        s["actor"] = actor;
        s["context"]["extensions"] = json!({});
        s
    };
    let pseudonym = json!({"account": {"homePage": "urn:kmh:pseudonym", "name": "p1"}});
    let stated = st(
        3,
        "b",
        "initialized",
        "s01-intro",
        json!({}),
        "2026-01-02T00:00:00Z",
    );
    let mut g = Group::new(&lock);
    for (i, s) in [
        without_country(1, pseudonym.clone()),
        without_country(
            2,
            json!({"account": {"homePage": "https://other.example", "name": "c"}}),
        ),
        stated,
    ]
    .iter()
    .enumerate()
    {
        g.project(s, i as u64 + 1, false, &source).unwrap();
    }
    let rows = g.finish(&source).unwrap();
    g.publish();
    let country = |lock: &RwLock<State>, identity: &str| {
        lock.read().unwrap().enrolments[&enrol_key(COURSE, identity)]
            .country
            .as_deref()
            .map(str::to_owned)
    };
    let p1 = "account:urn:kmh:pseudonym\u{1f}p1";
    // The pseudonym's own account was on the Senegal LMS.
    assert_eq!(country(&lock, p1).as_deref(), Some("SN"));
    assert_eq!(country(&lock, "account:https://other.example\u{1f}c"), None);
    // b is on the Mali LMS and its statements say ML; a later statement
    // with another country extension wins over the LMS.
    assert_eq!(country(&lock, &learner("b")).as_deref(), Some("ML"));
    let mut g = Group::new(&lock);
    let mut moved = st(
        4,
        "b",
        "initialized",
        "s01-intro",
        json!({}),
        "2026-01-03T00:00:00Z",
    );
    moved["context"]["extensions"] = json!({"urn:kmh:ext:country": "ng"});
    g.project(&moved, 4, false, &source).unwrap();
    g.finish(&source).unwrap();
    g.publish();
    assert_eq!(country(&lock, &learner("b")).as_deref(), Some("NG"));

    // The rows keep the stated country and the LMS, not the LMS's country:
    // read back with another mapping (the pseudonym's identity record is
    // not asked again), the pseudonymous learner counts by the new one.
    let mut stored: Vec<_> = rows
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect();
    stored.sort();
    let mut intern = |s: &str| Str::from(s);
    let pid = |s: &str| Str::from(s);
    let mut reader = RowReader::new(&mut intern, &pid);
    let mut loaded = Vec::new();
    for (k, v) in &stored {
        loaded.extend(reader.push(k, v).unwrap());
    }
    loaded.extend(reader.finish());
    let mut state = State::new([7; 16]);
    for (k, e) in loaded {
        assert_eq!(e.lms_country, None, "not stored");
        state.insert(k, e);
    }
    let home =
        |state: &State, identity: &str| state.enrolments[&enrol_key(COURSE, identity)].home.clone();
    assert_eq!(
        home(&state, p1).as_deref(),
        Some("https://moodle.example.sn")
    );
    let other = "account:https://other.example\u{1f}c";
    assert_eq!(
        home(&state, other).as_deref(),
        Some("https://other.example")
    );
    let mut moved_lms = super::LmsCountries::default();
    moved_lms
        .insert_entry("https://moodle.example.sn=GM")
        .unwrap();
    state.set_lms_countries(moved_lms);
    let e = &state.enrolments[&enrol_key(COURSE, p1)];
    assert_eq!(e.country.as_deref(), Some("GM"));
    let e = &state.enrolments[&enrol_key(COURSE, &learner("b"))];
    assert_eq!(e.country.as_deref(), Some("ML"), "its own extension");
    // No mapping: no LMS country.
    state.set_lms_countries(super::LmsCountries::default());
    assert_eq!(state.enrolments[&enrol_key(COURSE, p1)].country, None);
}

/// Statements shaped like `kmh bench`'s workload: learners of an LMS
/// answering questions of the course's modules, every verb of the SCORM
/// profile, context with registration and kmh extensions.
fn bench_like(n: u64) -> Value {
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 30;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 27;
    let learner = x % 5000;
    let activity = (x >> 20) % 400;
    let module = activity % 8;
    let verbs = [
        "initialized",
        "answered",
        "completed",
        "passed",
        "failed",
        "terminated",
    ];
    let verb = verbs[((x >> 40) % 6) as usize];
    json!({
        "id": Uuid::from_u64_pair(n, x).to_string(),
        "actor": {"objectType": "Agent", "name": format!("Learner {learner}"),
                  "account": {"homePage": "https://elearning.example.org", "name": format!("learner-{learner}")}},
        "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}")},
        "object": {"objectType": "Activity", "id": format!("{COURSE}/s0{module}/q{activity}"),
                   "definition": {"type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                                  "interactionType": "choice"}},
        "result": {"success": !x.is_multiple_of(4), "completion": true, "response": "b",
                   "score": {"scaled": (x % 100) as f64 / 100.0}, "duration": "PT12M30S"},
        "context": {"registration": Uuid::from_u64_pair(learner, 7).to_string(), "language": "fr",
                    "contextActivities": {"parent": [{"id": format!("{COURSE}/s0{module}")}],
                                          "grouping": [{"id": COURSE}]},
                    "extensions": {"urn:kmh:ext:country": "SN", "urn:kmh:ext:cohort": "2026-3"}},
        "timestamp": "2026-11-20T10:15:30.250Z",
    })
}

/// The CPU the read models add to each stored statement: project, diff
/// and encode the changed rows, publish. Run with
/// `cargo test --release --lib analytics::tests::projection_cost -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark; run in release with --ignored --nocapture"]
fn projection_cost() {
    let source = Fake::default();
    let lock = RwLock::new(State::new([7; 16]));
    let group = |from: u64, to: u64| {
        let mut rows = 0;
        for start in (from..to).step_by(100) {
            let mut g = Group::new(&lock);
            for n in start..(start + 100).min(to) {
                g.project(&bench_like(n), n, false, &source).unwrap();
            }
            rows += g.finish(&source).unwrap().len();
            g.publish();
        }
        rows
    };
    // CPU time of this thread (the machine is shared: wall time is not
    // the cost), from /proc, in seconds.
    let cpu = || -> f64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let ticks: f64 = fields
            .get(11..13)
            .map(|f| f.iter().filter_map(|x| x.parse::<f64>().ok()).sum())
            .unwrap_or(0.0);
        ticks / 100.0
    };
    // Statements are built outside the timed part by doing it twice.
    let (warm, timed) = (300_000u64, 200_000u64);
    group(0, warm);
    let t = cpu();
    for n in warm..warm + timed {
        std::hint::black_box(bench_like(n));
    }
    let making = cpu() - t;
    let t = cpu();
    let rows = group(warm, warm + timed);
    let total = cpu() - t - making;
    let state = lock.read().unwrap();
    eprintln!(
        "projection: {:.2} µs of CPU per statement ({} rows written per 100 statements; {} enrolments after {} statements)",
        total * 1e6 / timed as f64,
        rows * 100 / timed as usize,
        state.len(),
        warm + timed
    );
}

#[test]
#[ignore = "benchmark; run in release with --ignored --nocapture"]
fn projection_cost_parts() {
    let statements: Vec<Value> = (0..50_000).map(bench_like).collect();
    let t = std::time::Instant::now();
    let mut n = 0;
    for s in &statements {
        n += super::extract::extract(s, &mut |x| Str::from(x)).is_some() as usize;
    }
    eprintln!(
        "extract: {:.2} µs ({n})",
        t.elapsed().as_secs_f64() * 1e6 / 50_000.0
    );
    let t = std::time::Instant::now();
    for s in &statements {
        std::hint::black_box(crate::xapi::ifi::identity(&s["actor"]));
    }
    eprintln!(
        "identity: {:.2} µs",
        t.elapsed().as_secs_f64() * 1e6 / 50_000.0
    );
    let t = std::time::Instant::now();
    for _ in &statements {
        std::hint::black_box(super::extract::parse_ms("2026-11-20T10:15:30.250Z"));
    }
    eprintln!(
        "timestamp: {:.2} µs",
        t.elapsed().as_secs_f64() * 1e6 / 50_000.0
    );
    let t = std::time::Instant::now();
    for s in &statements {
        std::hint::black_box(enrol_key(COURSE, s["actor"]["name"].as_str().unwrap()));
    }
    eprintln!(
        "enrol_key: {:.2} µs",
        t.elapsed().as_secs_f64() * 1e6 / 50_000.0
    );
    let mut state = State::new([7; 16]);
    let t = std::time::Instant::now();
    for s in &statements {
        state.fold(s);
    }
    eprintln!(
        "fold into state: {:.2} µs",
        t.elapsed().as_secs_f64() * 1e6 / 50_000.0
    );
}

/// What the read models hold in memory per enrolment, with the demo's
/// learners (the course as a learner meets it). Run with
/// `cargo test --lib analytics::tests::read_model_memory -- --ignored --nocapture`.
#[test]
#[ignore = "measurement; run with --ignored --nocapture"]
fn read_model_memory() {
    let rss = || -> usize {
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
        statm
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(0)
            * 4096
    };
    let cfg = crate::analytics::demo::Config {
        learners: 1500,
        seed: 3,
        now_ms: 1_790_000_000_000,
    };
    let mut state = State::new([7; 16]);
    let before = rss();
    let mut statements = 0;
    for n in 0..cfg.learners {
        for s in crate::analytics::demo::learner_statements(&cfg, n) {
            state.fold(&s);
            statements += 1;
        }
    }
    state.refresh_catalogs();
    let after = rss();
    let (mut modules, mut questions, mut rows_bytes) = (0, 0, 0);
    for e in state.enrolments.values() {
        modules += e.modules.len();
        questions += e.questions.len();
        // The enrolment (behind its Arc), its module rows (each behind an
        // Arc), its inline question rows and its survey answers' texts;
        // shared strings not counted.
        rows_bytes += 16
            + std::mem::size_of::<Enrolment>()
            + e.modules.capacity() * 8
            + e.modules.len() * (16 + std::mem::size_of::<super::model::ModuleProgress>())
            + e.questions.capacity() * std::mem::size_of::<super::model::QuestionStat>()
            + e.registrations.capacity() * 16
            + e.responses.capacity() * 16;
    }
    eprintln!(
        "{statements} statements, {} enrolments, {modules} module rows, {questions} question rows; \
         rows hold {} bytes per enrolment; RSS +{} KB = {} bytes per enrolment (system allocator, \
         with the parsed statements' garbage); sizes: Enrolment {}, ModuleProgress {}, QuestionStat {}",
        state.len(),
        rows_bytes / state.len().max(1),
        (after - before) / 1024,
        (after - before) / state.len().max(1),
        std::mem::size_of::<Enrolment>(),
        std::mem::size_of::<super::model::ModuleProgress>(),
        std::mem::size_of::<super::model::QuestionStat>(),
    );
}

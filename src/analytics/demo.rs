//! Demo data: a realistic cohort taking the hub's course
//! (`packages/reintegration-me`) in English and French, as the content
//! runtime reports it (xAPI SCORM Profile statements, the extensions in
//! [`super`]): enrolment, the pre-assessment, the lessons with their
//! knowledge checks (some failed and retaken), the post-assessment with
//! learning gains, the satisfaction survey, and drop-off along the way.
//! Later cohorts are still in progress. Everything is derived from the
//! seed, so statement ids repeat and sending the same demo twice on the
//! same day changes nothing.

use serde_json::{Value, json};
use uuid::Uuid;

pub const COURSE: &str = "urn:kmh:course:reintegration-me";
const HOME_PAGE: &str = "https://ecampus.example.org";
const ADL: &str = "http://adlnet.gov/expapi/verbs/";
const DAY: i64 = 86_400_000;

/// One module of the course as the demo runs it.
pub struct Module {
    pub id: &'static str,
    pub kind: Kind,
    pub title_en: &'static str,
    pub title_fr: &'static str,
    pub pages: u32,
    pub minutes: u32,
    pub mastery: Option<f64>,
    /// Question ids, type and tag.
    pub questions: &'static [(&'static str, &'static str, Option<&'static str>)],
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pre,
    Lesson,
    Post,
    Survey,
}

const KSA: &[(&str, &str, Option<&str>)] = &[
    ("k-monitoring-vs-evaluation", "single", Some("knowledge")),
    ("k-reintegration-dimensions", "single", Some("knowledge")),
    ("k-integrated-levels", "multiple", Some("knowledge")),
    (
        "k-sustainable-reintegration",
        "truefalse",
        Some("knowledge"),
    ),
    (
        "k-data-protection-principles",
        "matching",
        Some("knowledge"),
    ),
    ("k-smart", "fill-in", Some("knowledge")),
    ("s-indicator-level", "single", Some("skills")),
    ("s-outcome-indicator", "single", Some("skills")),
    ("s-child-consent", "single", Some("skills")),
    ("s-referral", "single", Some("skills")),
    ("s-sampling", "single", Some("skills")),
    ("s-chart-choice", "single", Some("skills")),
    ("a-me-value", "likert", Some("attitude")),
    ("a-data-protection", "likert", Some("attitude")),
    ("a-negative-findings", "single", Some("attitude")),
];

const SURVEY: &[(&str, &str, Option<&str>)] = &[
    ("objectives-clear", "likert", None),
    ("objectives-met", "likert", None),
    ("content-relevant", "likert", None),
    ("apply-at-work", "likert", None),
    ("work-performance", "likert", None),
    ("materials-useful", "likert", None),
    ("blended-format", "likert", None),
    ("facilitation", "likert", None),
    ("most-useful", "text", None),
    ("suggestions", "text", None),
];

const SURVEY_PROMPTS: &[(&str, &str, &str)] = &[
    (
        "objectives-clear",
        "The objectives of the course were clearly explained.",
        "Les objectifs de la formation ont été clairement présentés.",
    ),
    (
        "objectives-met",
        "The course achieved its stated objectives.",
        "La formation a atteint les objectifs annoncés.",
    ),
    (
        "content-relevant",
        "The content was relevant to my work on return and reintegration.",
        "Le contenu était en rapport avec mon travail dans le domaine du retour et de la réintégration.",
    ),
    (
        "apply-at-work",
        "I can apply what I learned in this course in my work.",
        "Je peux appliquer dans mon travail ce que j'ai appris pendant cette formation.",
    ),
    (
        "work-performance",
        "The course will improve my performance in monitoring and evaluating return and reintegration activities.",
        "La formation améliorera ma façon d'assurer le suivi et l'évaluation des activités de retour et de réintégration.",
    ),
    (
        "materials-useful",
        "The handouts, exercises and knowledge checks helped me learn.",
        "Les documents, les exercices et les tests de connaissances m'ont aidé(e) à apprendre.",
    ),
    (
        "blended-format",
        "The combination of live sessions, self-paced modules and individual work suited my learning.",
        "La combinaison de sessions en direct, de modules autoformatifs et de travail individuel convenait à ma façon d'apprendre.",
    ),
    (
        "facilitation",
        "The facilitators explained the content clearly and responded to participants' questions.",
        "Les animateurs ont expliqué clairement le contenu et répondu aux questions des participants.",
    ),
    (
        "most-useful",
        "What was the most useful part of the course for your work, and why?",
        "Quelle partie de la formation vous a été la plus utile pour votre travail, et pourquoi ?",
    ),
    (
        "suggestions",
        "What should we change or add to improve the course (content, exercises, duration, format)?",
        "Que faudrait-il modifier ou ajouter pour améliorer la formation (contenu, exercices, durée, format) ?",
    ),
];

const LIKERT_EN: [&str; 5] = [
    "Strongly disagree",
    "Disagree",
    "Neutral",
    "Agree",
    "Strongly agree",
];
const LIKERT_FR: [&str; 5] = [
    "Pas du tout d'accord",
    "Pas d'accord",
    "Neutre",
    "D'accord",
    "Tout à fait d'accord",
];

/// The course's modules with content (session 2 is an external e-course
/// that reports nothing), in order.
pub const MODULES: &[Module] = &[
    Module {
        id: "s00-pre-assessment",
        kind: Kind::Pre,
        title_en: "Pre-course assessment: knowledge, skills and attitudes",
        title_fr: "Évaluation initiale : connaissances, compétences et attitudes",
        pages: 1,
        minutes: 20,
        mastery: None,
        questions: KSA,
    },
    Module {
        id: "s01-introduction",
        kind: Kind::Lesson,
        title_en: "Introduction to the M&E training for AVR(R) and PARA",
        title_fr: "Introduction à la formation en S&E de l'AVR(R) et de la PARA",
        pages: 5,
        minutes: 90,
        mastery: Some(0.8),
        questions: &[
            ("course-objectives", "single", None),
            ("avrr-stage-order", "matching", None),
            ("para-scope", "truefalse", None),
            ("pre-post-same", "truefalse", None),
            ("reintegration-stage-focus", "single", None),
        ],
    },
    Module {
        id: "s03-me-of-reintegration",
        kind: Kind::Lesson,
        title_en: "Monitoring and evaluating voluntary return and reintegration programmes",
        title_fr: "Suivi et évaluation des programmes de retour volontaire et de réintégration",
        pages: 5,
        minutes: 150,
        mastery: Some(0.8),
        questions: &[
            ("monitoring-or-evaluation", "single", None),
            ("evaluation-criteria", "multiple", None),
            ("re-migration", "truefalse", None),
            ("psychosocial-examples", "multiple", None),
            ("outcome-term", "fill-in", None),
            ("structural-outcome", "single", None),
        ],
    },
    Module {
        id: "s04-me-plan",
        kind: Kind::Lesson,
        title_en: "Developing an M&E plan for a voluntary return and reintegration intervention",
        title_fr: "Élaborer un plan de S&E pour une intervention de retour volontaire et de réintégration",
        pages: 5,
        minutes: 270,
        mastery: Some(0.8),
        questions: &[
            ("plan-components", "multiple", None),
            ("output-or-outcome-statement", "single", None),
            ("means-of-verification", "single", None),
            ("responsibility-roles", "matching", None),
            ("baseline-term", "fill-in", None),
            ("follow-up-budget", "truefalse", None),
        ],
    },
    Module {
        id: "s05-indicators-and-surveys",
        kind: Kind::Lesson,
        title_en: "Applying the institutional M&E indicators and surveys",
        title_fr: "Appliquer les indicateurs et les enquêtes de S&E institutionnels",
        pages: 5,
        minutes: 300,
        mastery: Some(0.8),
        questions: &[
            ("smart-letters", "matching", None),
            ("best-indicator", "single", None),
            ("institutional-wording", "single", None),
            ("target-after-baseline", "truefalse", None),
            ("proxy-term", "fill-in", None),
            ("rss-uses", "multiple", None),
        ],
    },
    Module {
        id: "s06-collecting-data",
        kind: Kind::Lesson,
        title_en: "Collecting voluntary return and reintegration data",
        title_fr: "Collecter des données sur le retour volontaire et la réintégration",
        pages: 6,
        minutes: 330,
        mastery: Some(0.8),
        questions: &[
            ("methods-match", "matching", None),
            ("stratified-allocation", "single", None),
            ("minimisation-scenario", "single", None),
            ("storage-term", "fill-in", None),
            ("child-assent", "truefalse", None),
            ("referral-steps", "single", None),
        ],
    },
    Module {
        id: "s07-analysing-visualising",
        kind: Kind::Lesson,
        title_en: "Analysing and visualising voluntary return and reintegration data",
        title_fr: "Analyser et visualiser les données sur le retour volontaire et la réintégration",
        pages: 6,
        minutes: 330,
        mastery: Some(0.8),
        questions: &[
            ("out-of-range-value", "single", None),
            ("denominator", "single", None),
            ("mean-median", "single", None),
            ("why-disaggregate", "multiple", None),
            ("chart-for-message", "matching", None),
            ("small-cells", "truefalse", None),
        ],
    },
    Module {
        id: "s08-closing",
        kind: Kind::Lesson,
        title_en: "Training closing",
        title_fr: "Clôture de la formation",
        pages: 4,
        minutes: 90,
        mastery: Some(0.8),
        questions: &[
            ("course-tools", "multiple", None),
            ("smart-action", "single", None),
            ("pre-post-purpose", "single", None),
            ("evaluation-levels", "matching", None),
        ],
    },
    Module {
        id: "s09-post-assessment",
        kind: Kind::Post,
        title_en: "Post-course assessment: knowledge, skills and attitudes",
        title_fr: "Évaluation finale : connaissances, compétences et attitudes",
        pages: 1,
        minutes: 20,
        mastery: Some(0.7),
        questions: KSA,
    },
    Module {
        id: "s10-satisfaction-survey",
        kind: Kind::Survey,
        title_en: "Course satisfaction survey",
        title_fr: "Enquête de satisfaction",
        pages: 1,
        minutes: 10,
        mastery: None,
        questions: SURVEY,
    },
];

/// Countries of the hub's francophone and anglophone participants, with
/// the language they mostly take the course in (share in French).
const COUNTRIES: &[(&str, f64)] = &[
    ("SN", 0.95),
    ("ML", 0.95),
    ("NE", 0.95),
    ("GN", 0.95),
    ("CI", 0.95),
    ("CM", 0.7),
    ("MA", 0.85),
    ("NG", 0.05),
    ("GH", 0.05),
    ("GM", 0.1),
    ("ET", 0.05),
    ("SD", 0.15),
];

const FIRST_NAMES: &[&str] = &[
    "Awa",
    "Moussa",
    "Fatou",
    "Ibrahima",
    "Aminata",
    "Ousmane",
    "Mariam",
    "Abdoulaye",
    "Kadiatou",
    "Souleymane",
    "Chinedu",
    "Ngozi",
    "Kwame",
    "Akosua",
    "Lamin",
    "Isatou",
    "Tigist",
    "Dawit",
    "Hiwot",
    "Yacine",
    "Salma",
    "Youssef",
    "Nadia",
    "Omar",
    "Esther",
    "Paul",
    "Grace",
    "Amadou",
];
const LAST_NAMES: &[&str] = &[
    "Diop",
    "Traoré",
    "Keita",
    "Diallo",
    "Camara",
    "Koné",
    "Ouédraogo",
    "Mahamadou",
    "Okafor",
    "Adeyemi",
    "Mensah",
    "Boateng",
    "Jallow",
    "Ceesay",
    "Bekele",
    "Tesfaye",
    "Alaoui",
    "Benali",
    "Nkemdirim",
    "Fofana",
    "Sow",
    "Bah",
    "Ndiaye",
    "Owusu",
];

const COMMENTS_EN: &[&str] = &[
    "The session on the M&E plan template, because I used it the week after for our project.",
    "Working with the reintegration sustainability survey and its scoring.",
    "The data protection part: clear examples of what to do with returnees' data.",
    "Practical exercises on indicators were the most useful.",
    "More time for the analysis exercises in Excel, please.",
    "Shorter live sessions and more case studies from the field.",
    "Add an example of a complete M&E plan for a community project.",
    "The French and English materials were both clear; keep the glossary.",
];
const COMMENTS_FR: &[&str] = &[
    "Le modèle de plan de S&E, que j'ai utilisé dès la semaine suivante.",
    "L'enquête sur la durabilité de la réintégration et le calcul des scores.",
    "La partie sur la protection des données, avec des exemples concrets.",
    "Les exercices pratiques sur les indicateurs ont été les plus utiles.",
    "Plus de temps pour les exercices d'analyse des données, s'il vous plaît.",
    "Des sessions en direct plus courtes et davantage d'études de cas.",
    "Ajouter un exemple complet de plan de S&E pour un projet communautaire.",
    "Prévoir la formation plus tôt dans le cycle du projet.",
];

/// A small deterministic random source (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.f() < p
    }
    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.f().max(1e-12);
        let v = self.f();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
    pub fn uuid(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes({
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&self.next_u64().to_le_bytes());
            b[8..].copy_from_slice(&self.next_u64().to_le_bytes());
            b
        })
        .into_uuid()
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Config {
    pub learners: usize,
    pub seed: u64,
    /// "Now" for the demo (Unix ms): cohorts start before it, nothing
    /// happens after it.
    pub now_ms: i64,
}

impl Config {
    pub fn cohorts(&self) -> usize {
        (self.learners / 90).clamp(3, 24)
    }

    /// Start of cohort `c` (0 = oldest), every four weeks.
    fn cohort_start(&self, c: usize) -> i64 {
        let today = self.now_ms - self.now_ms.rem_euclid(DAY);
        today - (self.cohorts() - c) as i64 * 28 * DAY + 7 * DAY
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn iso(ms: i64) -> String {
    crate::store::format_ms(ms)
}

fn interaction_type(kind: &str) -> &'static str {
    match kind {
        "single" | "multiple" => "choice",
        "truefalse" => "true-false",
        "matching" => "matching",
        "fill-in" => "fill-in",
        "likert" => "likert",
        _ => "long-fill-in",
    }
}

fn humanise(id: &str) -> String {
    let s = id.replace('-', " ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => s,
    }
}

struct Learner {
    account: String,
    name: String,
    country: &'static str,
    lang: &'static str,
    cohort: String,
    ability: f64,
    motivation: f64,
}

/// Builds the statements of one learner.
struct Builder<'a> {
    rng: &'a mut Rng,
    learner: &'a Learner,
    now_ms: i64,
    out: Vec<Value>,
}

impl Builder<'_> {
    fn actor(&self) -> Value {
        json!({"objectType": "Agent", "name": self.learner.name,
               "account": {"homePage": HOME_PAGE, "name": self.learner.account}})
    }

    fn course_activity(&self) -> Value {
        json!({"id": COURSE, "objectType": "Activity", "definition": {
            "type": super::COURSE_TYPE,
            "name": {"en": "Monitoring and Evaluation of Return and Reintegration",
                     "fr": "Suivi et évaluation du retour et de la réintégration"}}})
    }

    fn module_activity(m: &Module) -> Value {
        let (kind, role) = match m.kind {
            Kind::Pre => (
                "http://adlnet.gov/expapi/activities/assessment",
                "pre-assessment",
            ),
            Kind::Post => (
                "http://adlnet.gov/expapi/activities/assessment",
                "post-assessment",
            ),
            Kind::Survey => ("http://adlnet.gov/expapi/activities/lesson", "survey"),
            Kind::Lesson => ("http://adlnet.gov/expapi/activities/lesson", "lesson"),
        };
        json!({"id": format!("{COURSE}/{}", m.id), "objectType": "Activity", "definition": {
            "type": kind, "name": {"en": m.title_en, "fr": m.title_fr},
            "extensions": {super::EXT_ROLE: role}}})
    }

    fn context(&self, parent: Option<&Module>, attempt: Option<(Uuid, &Module)>) -> Value {
        let mut grouping = vec![self.course_activity()];
        if let Some((id, m)) = attempt {
            grouping.push(json!({"id": format!("{COURSE}/{}?attemptId={id}", m.id),
                "objectType": "Activity",
                "definition": {"type": "http://adlnet.gov/expapi/activities/attempt"}}));
        }
        let mut ca = json!({
            "grouping": grouping,
            "category": [{"id": "https://w3id.org/xapi/scorm", "objectType": "Activity",
                          "definition": {"type": "http://adlnet.gov/expapi/activities/profile"}}]});
        if let Some(m) = parent {
            ca["parent"] = json!([{"id": format!("{COURSE}/{}", m.id), "objectType": "Activity"}]);
        }
        let mut ctx = json!({
            "contextActivities": ca,
            "language": self.learner.lang,
            "platform": "kmh content runtime",
            "extensions": {super::EXT_COHORT: self.learner.cohort, super::EXT_COUNTRY: self.learner.country},
        });
        if let Some((id, _)) = attempt {
            ctx["registration"] = json!(id.to_string());
        }
        ctx
    }

    fn push(&mut self, verb: &str, object: Value, result: Option<Value>, context: Value, at: i64) {
        if at > self.now_ms {
            return;
        }
        let mut s = json!({
            "id": self.rng.uuid().to_string(),
            "actor": self.actor(),
            "verb": {"id": format!("{ADL}{verb}"), "display": {"en-US": verb}},
            "object": object,
            "context": context,
            "timestamp": iso(at),
        });
        if let Some(r) = result {
            s["result"] = r;
        }
        self.out.push(s);
    }

    fn question_activity(m: &Module, qid: &str, kind: &str, tag: Option<&str>) -> Value {
        let mut def = json!({
            "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
            "interactionType": interaction_type(kind),
            "name": {"en": humanise(qid)},
        });
        if let Some((_, en, fr)) = SURVEY_PROMPTS.iter().find(|p| p.0 == qid) {
            def["description"] = json!({"en": en, "fr": fr});
        }
        if kind == "likert" {
            def["scale"] = Value::Array(
                (0..5)
                    .map(|i| {
                        json!({"id": (i + 1).to_string(),
                               "description": {"en": LIKERT_EN[i], "fr": LIKERT_FR[i]}})
                    })
                    .collect(),
            );
        }
        if let Some(t) = tag {
            def["extensions"] = json!({super::EXT_TAG: t});
        }
        json!({"id": format!("{COURSE}/{}/interactions/{qid}", m.id), "objectType": "Activity", "definition": def})
    }

    /// An attempt left after a few pages (suspended, never completed).
    fn abandon(&mut self, m: &Module, start: i64) {
        let attempt = self.rng.uuid();
        let ctx_module = self.context(None, Some((attempt, m)));
        let ctx_child = self.context(Some(m), Some((attempt, m)));
        self.push(
            "initialized",
            Self::module_activity(m),
            None,
            ctx_module.clone(),
            start,
        );
        let mut at = start;
        let pages = 1 + self.rng.below(m.pages.max(2) as usize / 2) as u32;
        for p in 1..=pages {
            at += 120_000 + self.rng.below(300) as i64 * 1000;
            self.push(
                "experienced",
                json!({"id": format!("{COURSE}/{}/pages/{p:02}", m.id), "objectType": "Activity",
                       "definition": {"type": "http://activitystrea.ms/schema/1.0/page",
                                      "name": {"en": format!("Page {p}")}}}),
                None,
                ctx_child.clone(),
                at,
            );
        }
        let spent = (at - start + 60_000) / 1000;
        self.push(
            "suspended",
            Self::module_activity(m),
            Some(json!({"completion": false, "duration": format!("PT{spent}S")})),
            ctx_module,
            at + 60_000,
        );
    }

    /// One attempt at a module; returns its score (when scored) and the
    /// time the attempt ended.
    fn attempt(&mut self, m: &Module, start: i64, skill: f64) -> (Option<f64>, i64) {
        let attempt = self.rng.uuid();
        let mut at = start;
        let ctx_module = self.context(None, Some((attempt, m)));
        let ctx_child = self.context(Some(m), Some((attempt, m)));
        self.push(
            "initialized",
            Self::module_activity(m),
            None,
            ctx_module.clone(),
            at,
        );
        let page_time = (m.minutes as i64 * 60_000) / (m.pages as i64 + 2);
        for p in 1..=m.pages {
            at += (page_time as f64 * (0.5 + self.rng.f())) as i64;
            self.push(
                "experienced",
                json!({"id": format!("{COURSE}/{}/pages/{p:02}", m.id), "objectType": "Activity",
                       "definition": {"type": "http://activitystrea.ms/schema/1.0/page",
                                      "name": {"en": format!("Page {p}")}}}),
                None,
                ctx_child.clone(),
                at,
            );
        }
        let (mut right, mut scored) = (0u32, 0u32);
        for (qid, kind, tag) in m.questions {
            at += 30_000 + (self.rng.f() * 90_000.0) as i64;
            let object = Self::question_activity(m, qid, kind, *tag);
            let result = match *kind {
                "likert" => {
                    let base = if m.kind == Kind::Survey {
                        3.6 + self.learner.motivation * 0.6
                    } else {
                        // Attitudes shift a little between pre and post.
                        3.2 + skill * 0.4
                    };
                    let v = (base + self.rng.normal() * 0.8).round().clamp(1.0, 5.0) as u32;
                    json!({"response": v.to_string()})
                }
                "text" => {
                    if !self.rng.chance(0.35) {
                        continue;
                    }
                    let pool = if self.learner.lang == "fr" {
                        COMMENTS_FR
                    } else {
                        COMMENTS_EN
                    };
                    json!({"response": pool[self.rng.below(pool.len())]})
                }
                _ => {
                    // Questions differ in difficulty; stable per question.
                    let difficulty =
                        (qid.bytes().map(u32::from).sum::<u32>() % 7) as f64 * 0.25 - 0.6;
                    let ok = self.rng.chance(sigmoid(skill - difficulty));
                    scored += 1;
                    right += ok as u32;
                    json!({"success": ok, "response": if ok { "correct" } else { "other" },
                           "score": {"scaled": if ok { 1.0 } else { 0.0 }}})
                }
            };
            self.push("answered", object, Some(result), ctx_child.clone(), at);
        }
        at += 60_000;
        let score = (scored > 0).then(|| right as f64 / scored as f64);
        let score_json = score.map(|s| {
            json!({"scaled": (s * 1000.0).round() / 1000.0,
                                               "raw": right, "min": 0, "max": scored})
        });
        let mut result = json!({"completion": true});
        if let Some(s) = &score_json {
            result["score"] = s.clone();
        }
        self.push(
            "completed",
            Self::module_activity(m),
            Some(result.clone()),
            ctx_module.clone(),
            at,
        );
        if let (Some(mastery), Some(s)) = (m.mastery, score) {
            let ok = s >= mastery;
            result["success"] = json!(ok);
            self.push(
                if ok { "passed" } else { "failed" },
                Self::module_activity(m),
                Some(result.clone()),
                ctx_module.clone(),
                at + 1000,
            );
        }
        let spent = at - start + 60_000;
        let mut term = result;
        term["duration"] = json!(format!("PT{}S", spent / 1000));
        self.push(
            "terminated",
            Self::module_activity(m),
            Some(term),
            ctx_module,
            at + 2000,
        );
        (score, at + 2000)
    }
}

/// The statements of learner `n` (0-based) of the demo cohort.
pub fn learner_statements(cfg: &Config, n: usize) -> Vec<Value> {
    let mut rng = Rng::new(cfg.seed.wrapping_mul(1_000_003) ^ (n as u64 + 1));
    let (country, fr_share) = COUNTRIES[rng.below(COUNTRIES.len())];
    let lang = if rng.chance(fr_share) { "fr" } else { "en" };
    let cohort_n = n % cfg.cohorts();
    let learner = Learner {
        account: format!("demo-{}-{:05}", cfg.seed, n + 1),
        name: format!(
            "{} {}",
            FIRST_NAMES[rng.below(FIRST_NAMES.len())],
            LAST_NAMES[rng.below(LAST_NAMES.len())]
        ),
        country,
        lang,
        cohort: format!("2026-C{}", cohort_n + 1),
        ability: rng.normal() * 0.8 - 0.2,
        motivation: rng.normal(),
    };
    let cohort_start = cfg.cohort_start(cohort_n);
    let mut rng2 = Rng::new(rng.next_u64());
    let mut b = Builder {
        rng: &mut rng2,
        learner: &learner,
        now_ms: cfg.now_ms,
        out: Vec::new(),
    };
    let registered =
        cohort_start - (1 + b.rng.below(10) as i64) * DAY + b.rng.below(8 * 3600) as i64 * 1000;
    let ctx = b.context(None, None);
    let course = b.course_activity();
    b.push("registered", course, None, ctx, registered);
    // Some enrolled learners never start.
    if b.rng.chance(0.06) {
        return b.out;
    }
    let gain = 1.2 + b.rng.normal() * 0.45 + learner.motivation * 0.2;
    let mut day_at = cohort_start + (8 + b.rng.below(4) as i64) * 3_600_000;
    for (i, m) in MODULES.iter().enumerate() {
        // Drop-off: less motivated learners stop, more often in the long
        // data modules; a few skip the survey.
        let stay = match m.kind {
            Kind::Pre => 0.99,
            Kind::Survey => 0.85,
            _ => 0.975 - if m.minutes >= 300 { 0.03 } else { 0.0 },
        } + learner.motivation * 0.015;
        if i > 0 && !b.rng.chance(stay) {
            // Half of those who stop open the module and leave it unfinished.
            if b.rng.chance(0.5) {
                b.abandon(m, day_at);
            }
            break;
        }
        let skill = match m.kind {
            Kind::Pre => learner.ability,
            Kind::Post => learner.ability + gain,
            _ => learner.ability + gain * (i as f64 / MODULES.len() as f64) + 1.6,
        };
        let (score, end) = b.attempt(m, day_at, skill);
        // A failed knowledge check is often retaken the next day.
        if let (Some(mastery), Some(s)) = (m.mastery, score)
            && m.kind == Kind::Lesson
            && s < mastery
            && b.rng.chance(0.7)
        {
            let retry = end + DAY / 2 + b.rng.below(6 * 3600) as i64 * 1000;
            b.attempt(m, retry, skill + 1.0);
        }
        // Sessions follow a schedule: about two to five days apart.
        day_at += (2 + b.rng.below(4) as i64) * DAY + b.rng.below(6 * 3600) as i64 * 1000;
        if day_at > cfg.now_ms {
            break;
        }
    }
    b.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_questions_are_the_curriculum_questions() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packages/reintegration-me");
        let ids = |path: &str| -> Vec<String> {
            std::fs::read_to_string(root.join(path))
                .unwrap()
                .lines()
                .filter_map(|l| l.strip_prefix("## ").map(str::to_owned))
                .collect()
        };
        assert_eq!(
            ids("en/shared/ksa-assessment.quiz"),
            KSA.iter().map(|q| q.0).collect::<Vec<_>>()
        );
        assert_eq!(
            ids("en/shared/satisfaction.quiz"),
            SURVEY.iter().map(|q| q.0).collect::<Vec<_>>()
        );
        for m in MODULES.iter().filter(|m| m.kind == Kind::Lesson) {
            assert_eq!(
                ids(&format!("en/{}/quiz/knowledge-check.quiz", m.id)),
                m.questions.iter().map(|q| q.0).collect::<Vec<_>>(),
                "{}",
                m.id
            );
        }
    }

    #[test]
    fn demo_statements_are_valid_and_repeatable() {
        let cfg = Config {
            learners: 50,
            seed: 1,
            now_ms: 1_790_000_000_000,
        };
        let a = learner_statements(&cfg, 3);
        assert_eq!(a, learner_statements(&cfg, 3));
        assert!(!a.is_empty());
        for s in (0..50).flat_map(|n| learner_statements(&cfg, n)) {
            crate::xapi::validate::statement(&s, crate::xapi::Version::V1_0_3)
                .unwrap_or_else(|e| panic!("{e}: {s}"));
        }
    }
}

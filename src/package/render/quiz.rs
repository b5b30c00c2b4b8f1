//! A quiz page: every question as an accessible form control group
//! (`fieldset`/`legend`, one `label` per control), readable and answerable
//! without JavaScript, plus the quiz's data model as JSON in
//! `<script type="application/json" id="kmh-quiz">` for the content runtime
//! to score (shape: `schemas/quiz-model.schema.json`).

use std::collections::BTreeSet;

use serde::Serialize;

use super::html::{esc, script_json};
use super::i18n::Strings;
use crate::package::source::quiz::{Body, Question, Quiz};

/// Version of the embedded data model; the runtime checks it.
pub const MODEL_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct QuizModel<'a> {
    pub version: u32,
    pub id: &'a str,
    pub module: &'a str,
    pub title: &'a str,
    pub attempts: u32,
    /// Scaled 0..1; `null` when neither the quiz nor the module sets one.
    pub pass: Option<f64>,
    pub scored: bool,
    pub shuffle: bool,
    pub questions: Vec<QuestionModel<'a>>,
}

#[derive(Serialize)]
pub struct QuestionModel<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Form control name of the question (`q-<id>`).
    pub name: String,
    pub scored: bool,
    pub weight: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objective: Option<&'a str>,
    pub prompt: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<ChoiceModel<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pairs: Vec<PairModel<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<ScaleModel<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correct_feedback: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incorrect_feedback: Option<&'a str>,
}

#[derive(Serialize)]
pub struct ChoiceModel<'a> {
    pub id: String,
    pub text: &'a str,
    pub correct: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedback: Option<&'a str>,
}

#[derive(Serialize)]
pub struct PairModel<'a> {
    pub id: String,
    pub left: &'a str,
    pub right: &'a str,
}

#[derive(Serialize)]
pub struct ScaleModel<'a> {
    pub min: u32,
    pub max: u32,
    pub labels: Vec<&'a str>,
}

pub struct QuizPage<'a> {
    pub quiz: &'a Quiz,
    /// File stem, unique in the module.
    pub id: &'a str,
    pub module: &'a str,
    /// The pass mark in force: the quiz's own, else the module's.
    pub pass: Option<f64>,
    pub strings: &'static Strings,
}

fn choice_id(i: usize) -> String {
    format!("c{}", i + 1)
}

/// The right-hand sides a matching question offers, sorted so the order
/// gives nothing away and stays the same from build to build.
fn matching_options(pairs: &[crate::package::source::quiz::Pair]) -> Vec<&str> {
    let set: BTreeSet<&str> = pairs.iter().map(|p| p.right.as_str()).collect();
    set.into_iter().collect()
}

pub fn model<'a>(page: &QuizPage<'a>) -> QuizModel<'a> {
    let q = page.quiz;
    QuizModel {
        version: MODEL_VERSION,
        id: page.id,
        module: page.module,
        title: &q.title,
        attempts: q.attempts,
        pass: if q.scored { page.pass } else { None },
        scored: q.scored,
        shuffle: q.shuffle,
        questions: q
            .questions
            .iter()
            .map(|question| question_model(q, question))
            .collect(),
    }
}

fn question_model<'a>(quiz: &Quiz, q: &'a Question) -> QuestionModel<'a> {
    let mut m = QuestionModel {
        id: &q.id,
        kind: q.body.type_name(),
        name: format!("q-{}", q.id),
        scored: quiz.scored && q.is_scorable(),
        weight: q.weight,
        tag: q.tag.map(|t| t.as_str()),
        objective: q.objective.as_ref().map(|(o, _)| o.as_str()),
        prompt: &q.prompt,
        choices: vec![],
        answer: None,
        pairs: vec![],
        options: vec![],
        scale: None,
        correct_feedback: q.correct.as_deref(),
        incorrect_feedback: q.incorrect.as_deref(),
    };
    match &q.body {
        Body::Single(choices) | Body::Multiple(choices) => {
            m.choices = choices
                .iter()
                .enumerate()
                .map(|(i, c)| ChoiceModel {
                    id: choice_id(i),
                    text: &c.text,
                    correct: c.correct,
                    feedback: c.feedback.as_deref(),
                })
                .collect();
        }
        Body::TrueFalse(b) => m.answer = Some(serde_json::Value::Bool(*b)),
        Body::FillIn(forms) => m.answer = Some(serde_json::json!(forms)),
        Body::Matching(pairs) => {
            m.pairs = pairs
                .iter()
                .enumerate()
                .map(|(i, p)| PairModel {
                    id: format!("p{}", i + 1),
                    left: &p.left,
                    right: &p.right,
                })
                .collect();
            m.options = matching_options(pairs);
        }
        Body::Likert { min, max, labels } => {
            m.scale = Some(ScaleModel {
                min: *min,
                max: *max,
                labels: labels.iter().map(String::as_str).collect(),
            })
        }
        Body::Text => {}
    }
    m
}

/// The `<main>` content of a quiz page: title, facts, form and data model.
pub fn render(page: &QuizPage) -> Result<String, serde_json::Error> {
    let s = page.strings;
    let q = page.quiz;
    let mut h = String::new();
    h.push_str(&format!("<h1>{}</h1>\n", esc(&q.title)));
    h.push_str("<dl class=\"kmh-facts\">\n");
    let attempts = if q.attempts == 0 {
        s.unlimited.to_string()
    } else {
        q.attempts.to_string()
    };
    h.push_str(&format!(
        "<dt>{}</dt><dd>{}</dd>\n",
        esc(s.attempts_allowed),
        esc(&attempts)
    ));
    if q.scored
        && let Some(p) = page.pass
    {
        h.push_str(&format!(
            "<dt>{}</dt><dd>{} %</dd>\n",
            esc(s.pass_mark),
            percent(p)
        ));
    }
    h.push_str("</dl>\n");
    if !q.scored {
        h.push_str(&format!("<p>{}</p>\n", esc(s.not_scored)));
    }
    h.push_str(&format!(
        "<noscript><p class=\"kmh-noscript\">{}</p></noscript>\n",
        esc(s.quiz_needs_js)
    ));
    h.push_str(&format!(
        "<form class=\"kmh-quiz\" id=\"kmh-quiz-form\" data-kmh-quiz=\"{}\" action=\"#\" novalidate>\n",
        esc(page.id)
    ));
    let total = q.questions.len();
    for (n, question) in q.questions.iter().enumerate() {
        question_html(&mut h, question, n + 1, total, s);
    }
    // Hidden until the runtime takes over: without it the button could do
    // nothing useful.
    h.push_str(&format!(
        "<p class=\"kmh-actions\"><button type=\"submit\" class=\"kmh-button\" hidden>{}</button></p>\n",
        esc(s.check_answers)
    ));
    h.push_str("<div class=\"kmh-result\" role=\"status\" aria-live=\"polite\"></div>\n</form>\n");
    h.push_str("<script type=\"application/json\" id=\"kmh-quiz\">\n");
    h.push_str(&script_json(&model(page))?);
    h.push_str("\n</script>\n");
    Ok(h)
}

pub fn percent(scaled: f64) -> String {
    let p = (scaled * 100.0 * 100.0).round() / 100.0;
    if p.fract() == 0.0 {
        format!("{}", p as i64)
    } else {
        format!("{p}")
    }
}

fn question_html(h: &mut String, q: &Question, n: usize, total: usize, s: &Strings) {
    let name = format!("q-{}", q.id);
    let number = Strings::n_of_m(s.question_n_of_m, n, total);
    h.push_str(&format!(
        "<fieldset class=\"kmh-question kmh-question-{}\" id=\"{name}\" data-question=\"{}\">\n",
        q.body.type_name(),
        esc(&q.id)
    ));
    h.push_str(&format!(
        "<legend><span class=\"kmh-qnum\">{}</span> <span class=\"kmh-prompt\">{}</span></legend>\n",
        esc(&number),
        esc(&q.prompt)
    ));
    let radio_or_check = |h: &mut String, kind: &str, options: &[(String, String)]| {
        h.push_str("<div class=\"kmh-choices\">\n");
        for (value, label) in options {
            let id = format!("{name}-{value}");
            h.push_str(&format!(
                "<div class=\"kmh-choice\"><input type=\"{kind}\" name=\"{name}\" id=\"{id}\" value=\"{value}\"><label for=\"{id}\">{}</label></div>\n",
                esc(label)
            ));
        }
        h.push_str("</div>\n");
    };
    match &q.body {
        Body::Single(choices) | Body::Multiple(choices) => {
            let kind = if matches!(q.body, Body::Single(_)) {
                "radio"
            } else {
                "checkbox"
            };
            let options: Vec<(String, String)> = choices
                .iter()
                .enumerate()
                .map(|(i, c)| (choice_id(i), c.text.clone()))
                .collect();
            radio_or_check(h, kind, &options);
        }
        Body::TrueFalse(_) => {
            let options = [
                ("true".to_string(), s.true_.to_string()),
                ("false".to_string(), s.false_.to_string()),
            ];
            radio_or_check(h, "radio", &options);
        }
        Body::Likert { min, max, labels } => {
            let options: Vec<(String, String)> = (*min..=*max)
                .zip(labels)
                .map(|(v, l)| (v.to_string(), format!("{v} – {l}")))
                .collect();
            h.push_str("<div class=\"kmh-likert\">\n");
            radio_or_check(h, "radio", &options);
            h.push_str("</div>\n");
        }
        Body::Matching(pairs) => {
            let options = matching_options(pairs);
            h.push_str("<div class=\"kmh-matching\">\n");
            for (i, p) in pairs.iter().enumerate() {
                let id = format!("{name}-p{}", i + 1);
                h.push_str(&format!(
                    "<div class=\"kmh-pair\"><label for=\"{id}\">{}</label><select id=\"{id}\" name=\"{id}\">\n<option value=\"\">{}</option>\n",
                    esc(&p.left),
                    esc(s.choose)
                ));
                for o in &options {
                    h.push_str(&format!("<option>{}</option>\n", esc(o)));
                }
                h.push_str("</select></div>\n");
            }
            h.push_str("</div>\n");
        }
        Body::FillIn(_) => {
            let id = format!("{name}-answer");
            h.push_str(&format!(
                "<div class=\"kmh-fill\"><label for=\"{id}\">{}</label> <input type=\"text\" id=\"{id}\" name=\"{name}\" autocomplete=\"off\" spellcheck=\"false\"></div>\n",
                esc(s.your_answer)
            ));
        }
        Body::Text => {
            let id = format!("{name}-answer");
            h.push_str(&format!(
                "<div class=\"kmh-text\"><label for=\"{id}\">{}</label><textarea id=\"{id}\" name=\"{name}\" rows=\"5\"></textarea></div>\n",
                esc(s.your_answer)
            ));
        }
    }
    h.push_str(
        "<div class=\"kmh-feedback\" role=\"status\" aria-live=\"polite\"></div>\n</fieldset>\n",
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::render::i18n::strings;
    use crate::package::source::quiz::parse_quiz;
    use std::path::Path;

    const QUIZ: &str = "title: Check <one>
attempts: 2

## a
type: single
prompt: Pick </script>
- [ ] One
- [x] Two
  feedback: Yes

## m
type: matching
prompt: Match
- Left B => Zebra
- Left A => Apple
";

    #[test]
    fn renders_labelled_controls_and_a_model() {
        let (quiz, _) = parse_quiz(Path::new("q.quiz"), QUIZ).expect("valid");
        let page = QuizPage {
            quiz: &quiz,
            id: "check",
            module: "m1",
            pass: Some(0.75),
            strings: strings("en"),
        };
        let html = render(&page).expect("renders");
        assert!(html.contains("<h1>Check &lt;one&gt;</h1>"));
        assert!(html.contains("<legend><span class=\"kmh-qnum\">Question 1 of 2</span>"));
        assert!(html.contains("<input type=\"radio\" name=\"q-a\" id=\"q-a-c2\" value=\"c2\"><label for=\"q-a-c2\">Two</label>"));
        assert!(html.contains("<dd>75 %</dd>"));
        // Options of a matching question are sorted, not in answer order.
        let apple = html.find("<option>Apple</option>").expect("apple");
        let zebra = html.find("<option>Zebra</option>").expect("zebra");
        assert!(apple < zebra);
        // Exactly one closing script tag: the prompt cannot break out.
        assert_eq!(html.matches("</script>").count(), 1);
        let start = html.find("id=\"kmh-quiz\">").expect("model") + "id=\"kmh-quiz\">".len();
        let end = html.rfind("</script>").expect("end");
        let json: serde_json::Value =
            serde_json::from_str(&html[start..end]).expect("model is JSON");
        assert_eq!(json["questions"][0]["choices"][1]["correct"], true);
        assert_eq!(json["questions"][0]["prompt"], "Pick </script>");
        assert_eq!(json["pass"], 0.75);
        assert_eq!(
            json["questions"][1]["options"],
            serde_json::json!(["Apple", "Zebra"])
        );
    }
}

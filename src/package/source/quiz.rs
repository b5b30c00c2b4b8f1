//! The line-based quiz format (`packages/FORMAT.md`, section "Quizzes").
//! Parsing keeps the line of every question and key so that each problem is
//! reported where the designer has to fix it.

use std::collections::BTreeSet;
use std::path::Path;

use super::diag::Diagnostics;
use super::is_id;

#[derive(Debug, Clone, PartialEq)]
pub struct Quiz {
    pub title: String,
    /// 0 = unlimited.
    pub attempts: u32,
    /// Scaled 0..1; `None` = the module's mastery score.
    pub pass: Option<f64>,
    pub scored: bool,
    pub shuffle: bool,
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub id: String,
    pub line: usize,
    pub tag: Option<Tag>,
    pub weight: f64,
    /// Objective id and the line it is on (checked against the module).
    pub objective: Option<(String, usize)>,
    pub prompt: String,
    pub body: Body,
    pub correct: Option<String>,
    pub incorrect: Option<String>,
}

impl Question {
    /// Likert and free-text answers have no right answer.
    pub fn is_scorable(&self) -> bool {
        !matches!(self.body, Body::Likert { .. } | Body::Text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Knowledge,
    Skills,
    Attitude,
}

impl Tag {
    pub fn as_str(self) -> &'static str {
        match self {
            Tag::Knowledge => "knowledge",
            Tag::Skills => "skills",
            Tag::Attitude => "attitude",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Single(Vec<Choice>),
    Multiple(Vec<Choice>),
    TrueFalse(bool),
    Matching(Vec<Pair>),
    /// Accepted forms, compared case-insensitively after trimming.
    FillIn(Vec<String>),
    Likert {
        min: u32,
        max: u32,
        labels: Vec<String>,
    },
    Text,
}

impl Body {
    pub fn type_name(&self) -> &'static str {
        match self {
            Body::Single(_) => "single",
            Body::Multiple(_) => "multiple",
            Body::TrueFalse(_) => "truefalse",
            Body::Matching(_) => "matching",
            Body::FillIn(_) => "fill-in",
            Body::Likert { .. } => "likert",
            Body::Text => "text",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub text: String,
    pub correct: bool,
    pub feedback: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub left: String,
    pub right: String,
}

const TYPES: &str = "single | multiple | truefalse | matching | fill-in | likert | text";

/// A question while its lines are being read.
#[derive(Default)]
struct Draft {
    id: String,
    line: usize,
    keys: Vec<(String, String, usize)>,
    choices: Vec<(Choice, usize)>,
    pairs: Vec<(Pair, usize)>,
    prompt_continuation: Vec<String>,
}

impl Draft {
    fn get(&self, key: &str) -> Option<(&str, usize)> {
        self.keys
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, l)| (v.as_str(), *l))
    }
}

/// What an indented line continues.
#[derive(Clone, Copy, PartialEq)]
enum Continues {
    Nothing,
    Prompt,
    Choice,
}

/// Keys whose values are words or numbers, where a trailing `# comment`
/// (as in the FORMAT.md example) is dropped. Text values keep their `#`.
const WORD_KEYS: &[&str] = &[
    "attempts",
    "pass",
    "scored",
    "shuffle",
    "type",
    "tag",
    "weight",
    "objective",
    "scale",
];

pub fn parse_quiz(file: &Path, text: &str) -> Result<(Quiz, Diagnostics), Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut header: Vec<(String, String, usize)> = Vec::new();
    let mut drafts: Vec<Draft> = Vec::new();
    let mut continues = Continues::Nothing;

    for (index, raw_line) in text.lines().enumerate() {
        let n = index + 1;
        let line = raw_line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continues = Continues::Nothing;
            continue;
        }
        if let Some(id) = line.strip_prefix("## ") {
            let id = id.trim();
            if !is_id(id) {
                diags.error(
                    file,
                    Some(n),
                    format!("question id {id:?} must use only a-z, 0-9 and -"),
                );
            } else if drafts.iter().any(|d| d.id == id) {
                diags.error(
                    file,
                    Some(n),
                    format!("question id {id:?} is used twice in this file"),
                );
            }
            drafts.push(Draft {
                id: id.to_string(),
                line: n,
                ..Draft::default()
            });
            continues = Continues::Nothing;
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            let content = line.trim();
            let Some(draft) = drafts.last_mut() else {
                diags.error(file, Some(n), "indented line outside a question");
                continue;
            };
            match continues {
                Continues::Prompt => draft.prompt_continuation.push(content.to_string()),
                Continues::Choice => match content.strip_prefix("feedback:") {
                    Some(fb) => {
                        if let Some((c, _)) = draft.choices.last_mut() {
                            if c.feedback.is_some() {
                                diags.error(file, Some(n), "this choice already has feedback");
                            }
                            c.feedback = Some(fb.trim().to_string());
                        }
                    }
                    None => diags.error(file, Some(n), "an indented line under a choice must be `feedback: …`"),
                },
                Continues::Nothing => diags.error(
                    file,
                    Some(n),
                    "unexpected indented line: only a prompt's continuation or a choice's `feedback:` may be indented",
                ),
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("- ") {
            let Some(draft) = drafts.last_mut() else {
                diags.error(
                    file,
                    Some(n),
                    "choice line before the first `## question-id`",
                );
                continue;
            };
            continues = Continues::Choice;
            if let Some(t) = rest.strip_prefix("[ ] ") {
                draft.choices.push((
                    Choice {
                        text: t.trim().to_string(),
                        correct: false,
                        feedback: None,
                    },
                    n,
                ));
            } else if let Some(t) = rest
                .strip_prefix("[x] ")
                .or_else(|| rest.strip_prefix("[X] "))
            {
                draft.choices.push((
                    Choice {
                        text: t.trim().to_string(),
                        correct: true,
                        feedback: None,
                    },
                    n,
                ));
            } else if let Some((l, r)) = rest.split_once("=>") {
                draft.pairs.push((
                    Pair {
                        left: l.trim().to_string(),
                        right: r.trim().to_string(),
                    },
                    n,
                ));
            } else {
                diags.error(
                    file,
                    Some(n),
                    "a choice is `- [ ] text` or `- [x] text`; a matching pair is `- left => right`",
                );
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            diags.error(
                file,
                Some(n),
                format!("expected `key: value`, found {line:?}"),
            );
            continue;
        };
        let key = key.trim().to_string();
        let mut value = value.trim().to_string();
        if WORD_KEYS.contains(&key.as_str())
            && let Some(i) = value.find(" #").or_else(|| value.find("\t#"))
        {
            value.truncate(i);
            value = value.trim_end().to_string();
        }
        continues = if key == "prompt" {
            Continues::Prompt
        } else {
            Continues::Nothing
        };
        let target = match drafts.last_mut() {
            Some(d) => &mut d.keys,
            None => &mut header,
        };
        if target.iter().any(|(k, _, _)| *k == key) {
            diags.error(file, Some(n), format!("`{key}:` is given twice"));
        }
        target.push((key, value, n));
    }

    let quiz = build_header(file, &header, &mut diags);
    let mut questions = Vec::new();
    for draft in drafts {
        if let Some(q) = build_question(file, draft, &mut diags) {
            questions.push(q);
        }
    }
    if questions.is_empty() && !diags.has_errors() {
        diags.error(
            file,
            None,
            "the quiz has no questions (each starts with `## question-id`)",
        );
    }
    if quiz.scored && !questions.is_empty() && !questions.iter().any(Question::is_scorable) {
        diags.error(
            file,
            None,
            "`scored: yes` but no question can be scored (likert and text never are); write `scored: no`",
        );
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok((Quiz { questions, ..quiz }, diags))
}

fn build_header(file: &Path, keys: &[(String, String, usize)], diags: &mut Diagnostics) -> Quiz {
    let mut quiz = Quiz {
        title: String::new(),
        attempts: 0,
        pass: None,
        scored: true,
        shuffle: false,
        questions: vec![],
    };
    let mut has_title = false;
    for (key, value, n) in keys {
        let n = Some(*n);
        match key.as_str() {
            "title" => {
                has_title = !value.is_empty();
                quiz.title = value.clone();
            }
            "attempts" => match value.parse::<u32>() {
                Ok(a) => quiz.attempts = a,
                Err(_) => diags.error(file, n, format!("attempts must be a whole number (0 = unlimited), not {value:?}")),
            },
            "pass" => match value.parse::<f64>() {
                Ok(p) if (0.0..=1.0).contains(&p) => quiz.pass = Some(p),
                _ => diags.error(file, n, format!("pass must be a scaled score from 0 to 1 (0.8 = 80 %), not {value:?}")),
            },
            "scored" => match yes_no(value) {
                Some(b) => quiz.scored = b,
                None => diags.error(file, n, format!("scored must be yes or no, not {value:?}")),
            },
            "shuffle" => match yes_no(value) {
                Some(b) => quiz.shuffle = b,
                None => diags.error(file, n, format!("shuffle must be yes or no, not {value:?}")),
            },
            other => diags.error(
                file,
                n,
                format!("unknown quiz setting `{other}:` (expected title, attempts, pass, scored, shuffle; questions start with `## id`)"),
            ),
        }
    }
    if !has_title {
        diags.error(
            file,
            Some(1),
            "the quiz needs a `title:` line before the first question",
        );
    }
    quiz
}

fn yes_no(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

fn build_question(file: &Path, d: Draft, diags: &mut Diagnostics) -> Option<Question> {
    let errors_before = diags.errors().count();
    let qline = Some(d.line);
    let here = |l: usize| Some(l);

    let type_name = match d.get("type") {
        Some((t, _)) => t.to_string(),
        None => {
            diags.error(
                file,
                qline,
                format!("question {:?} has no `type:` ({TYPES})", d.id),
            );
            return None;
        }
    };
    let type_line = d.get("type").map_or(d.line, |(_, l)| l);

    let allowed: &[&str] = match type_name.as_str() {
        "single" | "multiple" | "matching" | "text" => &[],
        "truefalse" | "fill-in" => &["answer"],
        "likert" => &["scale", "labels"],
        other => {
            diags.error(
                file,
                here(type_line),
                format!("unknown question type {other:?} (expected {TYPES})"),
            );
            return None;
        }
    };
    for (key, _, l) in &d.keys {
        let common = [
            "type",
            "tag",
            "weight",
            "objective",
            "prompt",
            "correct",
            "incorrect",
        ];
        if common.contains(&key.as_str()) || allowed.contains(&key.as_str()) {
            continue;
        }
        let hint = if key == "feedback" {
            " (a choice's feedback goes on an indented line under it)"
        } else {
            ""
        };
        diags.error(
            file,
            here(*l),
            format!("`{key}:` does not apply to a {type_name} question{hint}"),
        );
    }

    let prompt = match d.get("prompt") {
        Some((p, _)) if !p.is_empty() || !d.prompt_continuation.is_empty() => {
            let mut text = p.to_string();
            for more in &d.prompt_continuation {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(more);
            }
            text
        }
        _ => {
            diags.error(file, qline, format!("question {:?} has no `prompt:`", d.id));
            String::new()
        }
    };

    let tag = match d.get("tag") {
        None => None,
        Some(("knowledge", _)) => Some(Tag::Knowledge),
        Some(("skills", _)) => Some(Tag::Skills),
        Some(("attitude", _)) => Some(Tag::Attitude),
        Some((other, l)) => {
            diags.error(
                file,
                here(l),
                format!("tag must be knowledge, skills or attitude, not {other:?}"),
            );
            None
        }
    };
    let weight = match d.get("weight") {
        None => 1.0,
        Some((w, l)) => match w.parse::<f64>() {
            Ok(w) if w > 0.0 && w.is_finite() => w,
            _ => {
                diags.error(
                    file,
                    here(l),
                    format!("weight must be a positive number, not {w:?}"),
                );
                1.0
            }
        },
    };
    let objective = d.get("objective").map(|(o, l)| (o.to_string(), l));

    let no_choices = |diags: &mut Diagnostics| {
        if let Some((_, l)) = d.choices.first() {
            diags.error(
                file,
                here(*l),
                format!("a {type_name} question has no `- [ ]` choices"),
            );
        }
        if let Some((_, l)) = d.pairs.first() {
            diags.error(
                file,
                here(*l),
                format!("a {type_name} question has no `left => right` pairs"),
            );
        }
    };

    let body = match type_name.as_str() {
        "single" | "multiple" => {
            if let Some((_, l)) = d.pairs.first() {
                diags.error(
                    file,
                    here(*l),
                    format!("`left => right` pairs belong to matching questions, not {type_name}"),
                );
            }
            let correct = d.choices.iter().filter(|(c, _)| c.correct).count();
            if d.choices.len() < 2 {
                diags.error(
                    file,
                    qline,
                    format!(
                        "question {:?} needs at least two `- [ ]` / `- [x]` choices",
                        d.id
                    ),
                );
            } else if type_name == "single" && correct != 1 {
                diags.error(
                    file,
                    qline,
                    format!("single-choice question {:?} must mark exactly one choice `[x]` (found {correct})", d.id),
                );
            } else if type_name == "multiple" && correct == 0 {
                diags.error(
                    file,
                    qline,
                    format!(
                        "multiple-choice question {:?} must mark at least one choice `[x]`",
                        d.id
                    ),
                );
            }
            for (c, l) in &d.choices {
                if c.text.is_empty() {
                    diags.error(file, here(*l), "empty choice");
                }
            }
            let choices = d.choices.iter().map(|(c, _)| c.clone()).collect();
            if type_name == "single" {
                Body::Single(choices)
            } else {
                Body::Multiple(choices)
            }
        }
        "truefalse" => {
            no_choices(diags);
            match d.get("answer") {
                Some((a, l)) => match a.to_ascii_lowercase().as_str() {
                    "true" => Body::TrueFalse(true),
                    "false" => Body::TrueFalse(false),
                    _ => {
                        diags.error(
                            file,
                            here(l),
                            format!("a truefalse answer is true or false, not {a:?}"),
                        );
                        Body::TrueFalse(true)
                    }
                },
                None => {
                    diags.error(
                        file,
                        qline,
                        format!(
                            "truefalse question {:?} needs `answer: true` or `answer: false`",
                            d.id
                        ),
                    );
                    Body::TrueFalse(true)
                }
            }
        }
        "matching" => {
            if let Some((_, l)) = d.choices.first() {
                diags.error(
                    file,
                    here(*l),
                    "a matching question uses `- left => right` lines, not `- [ ]` choices",
                );
            }
            if d.pairs.len() < 2 {
                diags.error(
                    file,
                    qline,
                    format!(
                        "matching question {:?} needs at least two `- left => right` pairs",
                        d.id
                    ),
                );
            }
            let mut lefts = BTreeSet::new();
            for (p, l) in &d.pairs {
                if p.left.is_empty() || p.right.is_empty() {
                    diags.error(
                        file,
                        here(*l),
                        "both sides of `left => right` must have text",
                    );
                }
                if !lefts.insert(p.left.clone()) {
                    diags.error(
                        file,
                        here(*l),
                        format!("left-hand side {:?} appears twice", p.left),
                    );
                }
            }
            Body::Matching(d.pairs.iter().map(|(p, _)| p.clone()).collect())
        }
        "fill-in" => {
            no_choices(diags);
            match d.get("answer") {
                Some((a, l)) => {
                    let forms: Vec<String> = a
                        .split('|')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect();
                    if forms.is_empty() {
                        diags.error(
                            file,
                            here(l),
                            "a fill-in answer needs at least one accepted form",
                        );
                    }
                    Body::FillIn(forms)
                }
                None => {
                    diags.error(
                        file,
                        qline,
                        format!(
                            "fill-in question {:?} needs `answer: form | other form`",
                            d.id
                        ),
                    );
                    Body::FillIn(vec![])
                }
            }
        }
        "likert" => {
            no_choices(diags);
            let (min, max) = match d.get("scale") {
                Some((s, l)) => match parse_scale(s) {
                    Some(r) => r,
                    None => {
                        diags.error(
                            file,
                            here(l),
                            format!("scale must look like 1-5, not {s:?}"),
                        );
                        (1, 5)
                    }
                },
                None => {
                    diags.error(
                        file,
                        qline,
                        format!("likert question {:?} needs `scale: 1-5`", d.id),
                    );
                    (1, 5)
                }
            };
            let labels: Vec<String> = match d.get("labels") {
                Some((s, l)) => {
                    let labels: Vec<String> = s.split('|').map(|x| x.trim().to_string()).collect();
                    let points = (max - min + 1) as usize;
                    if labels.len() != points || labels.iter().any(String::is_empty) {
                        diags.error(
                            file,
                            here(l),
                            format!("labels must give one label per scale point ({points}), separated by |; found {}", labels.len()),
                        );
                    }
                    labels
                }
                None => {
                    diags.error(
                        file,
                        qline,
                        format!("likert question {:?} needs `labels: … | …`", d.id),
                    );
                    vec![]
                }
            };
            Body::Likert { min, max, labels }
        }
        _ => {
            no_choices(diags);
            Body::Text
        }
    };

    if diags.errors().count() > errors_before {
        return None;
    }
    Some(Question {
        id: d.id.clone(),
        line: d.line,
        tag,
        weight,
        objective,
        prompt,
        body,
        correct: d.get("correct").map(|(v, _)| v.to_string()),
        incorrect: d.get("incorrect").map(|(v, _)| v.to_string()),
    })
}

fn parse_scale(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('-')?;
    let (a, b) = (a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?);
    (a < b && b - a <= 10).then_some((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUIZ: &str = "# A comment
title: Knowledge check
attempts: 3              # 0 = unlimited
pass: 0.8
scored: yes
shuffle: no

## dims
type: single             # single | multiple
tag: knowledge
weight: 2
objective: know-things
prompt: Which dimensions
  does the approach address?
- [ ] Economic, political and legal
- [x] Economic, social and psychosocial
  feedback: Right.
- [ ] Housing
correct: Yes.
incorrect: No.

## levels
type: multiple
prompt: Pick the levels.
- [x] Individual
- [x] Community
- [ ] Donor

## tf
type: truefalse
prompt: Sustainable means choice.
answer: true

## match
type: matching
prompt: Match them.
- Purpose => Use
- Minimisation => Collect less

## smart
type: fill-in
prompt: M stands for?
answer: measurable | Measurable things

## feel
type: likert
prompt: I feel confident.
scale: 1-5
labels: a | b | c | d | e

## free
type: text
prompt: Anything else?
";

    #[test]
    fn parses_every_question_type() {
        let (quiz, diags) = parse_quiz(Path::new("q.quiz"), QUIZ).expect("valid");
        assert!(!diags.has_errors());
        assert_eq!(quiz.title, "Knowledge check");
        assert_eq!(quiz.attempts, 3);
        assert_eq!(quiz.pass, Some(0.8));
        let q = &quiz.questions[0];
        assert_eq!(q.prompt, "Which dimensions does the approach address?");
        assert_eq!(q.weight, 2.0);
        assert_eq!(q.objective, Some(("know-things".to_string(), 12)));
        let Body::Single(choices) = &q.body else {
            panic!("single")
        };
        assert_eq!(choices[1].feedback.as_deref(), Some("Right."));
        assert!(choices[1].correct);
        let types: Vec<_> = quiz.questions.iter().map(|q| q.body.type_name()).collect();
        assert_eq!(
            types,
            [
                "single",
                "multiple",
                "truefalse",
                "matching",
                "fill-in",
                "likert",
                "text"
            ]
        );
        assert_eq!(
            quiz.questions[4].body,
            Body::FillIn(vec!["measurable".into(), "Measurable things".into()])
        );
    }

    fn error_of(text: &str) -> String {
        parse_quiz(Path::new("q.quiz"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn single_choice_needs_exactly_one_correct_answer() {
        let text = QUIZ.replace("- [ ] Housing", "- [x] Housing");
        assert!(error_of(&text).contains(
            "q.quiz:8: single-choice question \"dims\" must mark exactly one choice `[x]` (found 2)"
        ));
    }

    #[test]
    fn unknown_type_names_its_line() {
        let text = QUIZ.replace("type: truefalse", "type: yesno");
        assert!(
            error_of(&text).contains("q.quiz:30: unknown question type \"yesno\""),
            "{}",
            error_of(&text)
        );
    }

    #[test]
    fn bad_choice_syntax() {
        let text = QUIZ.replace("- [x] Individual", "- [v] Individual");
        assert!(error_of(&text).contains("q.quiz:25: a choice is `- [ ] text`"));
    }

    #[test]
    fn duplicate_question_id_and_missing_title() {
        let text = QUIZ
            .replace("## levels", "## dims")
            .replace("title: Knowledge check\n", "");
        let msg = error_of(&text);
        assert!(msg.contains("question id \"dims\" is used twice"), "{msg}");
        assert!(
            msg.contains("q.quiz:1: the quiz needs a `title:` line"),
            "{msg}"
        );
    }

    #[test]
    fn likert_labels_must_match_scale() {
        let text = QUIZ.replace("labels: a | b | c | d | e", "labels: a | b");
        assert!(error_of(&text).contains("labels must give one label per scale point (5)"));
    }

    #[test]
    fn key_of_the_wrong_type() {
        let text = QUIZ.replace(
            "prompt: Pick the levels.",
            "prompt: Pick the levels.\nanswer: true",
        );
        assert!(error_of(&text).contains("`answer:` does not apply to a multiple question"));
    }

    #[test]
    fn hash_in_text_values_is_kept() {
        let text = QUIZ.replace("prompt: Match them.", "prompt: Match them # carefully.");
        let (quiz, _) = parse_quiz(Path::new("q.quiz"), &text).expect("valid");
        assert_eq!(quiz.questions[3].prompt, "Match them # carefully.");
    }
}

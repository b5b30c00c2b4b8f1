//! `module.toml`: one module (one SCO) of a course (`packages/FORMAT.md`,
//! section "module.toml"; JSON Schema `schemas/module.schema.json`).

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::diag::{Diagnostics, line_at};
use super::{check_id, check_language_tag, toml_error};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Lesson,
    Assessment,
    Survey,
}

/// What the learner must do for the module to count as completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Completion {
    Pages,
    Quiz,
    PagesAndQuiz,
}

#[derive(Debug, Clone, Serialize)]
pub struct Objective {
    pub id: String,
    pub text: String,
}

/// `module.toml` after parsing and the checks that need no other file.
#[derive(Debug, Clone)]
pub struct ModuleHeader {
    pub id: String,
    pub title: String,
    pub language: String,
    pub version: String,
    pub kind: Kind,
    pub description: String,
    pub duration_minutes: Option<u32>,
    /// Scaled 0..1. `None`: the module records scores but never decides
    /// pass/fail (a pre-assessment, for example).
    pub mastery_score: Option<f64>,
    /// `None` when not written: decided from the sequence (quiz or not).
    pub completion: Option<Completion>,
    pub objectives: Vec<Objective>,
    /// Paths as written, with the line each one is on.
    pub sequence: Vec<(String, usize)>,
    /// Lines of some keys, for errors found later against other files.
    pub lines: HeaderLines,
}

#[derive(Debug, Clone, Default)]
pub struct HeaderLines {
    pub id: usize,
    pub language: usize,
    pub completion: usize,
    pub sequence: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModuleToml {
    id: Spanned<String>,
    title: Spanned<String>,
    language: Spanned<String>,
    version: Spanned<String>,
    kind: Kind,
    #[serde(default)]
    description: String,
    duration_minutes: Option<u32>,
    mastery_score: Option<Spanned<f64>>,
    completion: Option<Spanned<Completion>>,
    #[serde(default)]
    objectives: Vec<Spanned<ObjectiveToml>>,
    sequence: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ObjectiveToml {
    id: String,
    text: String,
}

pub fn parse_module(file: &Path, text: &str) -> Result<(ModuleHeader, Diagnostics), Diagnostics> {
    let mut diags = Diagnostics::default();
    let raw: ModuleToml = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            diags.push(toml_error(file, text, &e));
            return Err(diags);
        }
    };
    let line = |span: std::ops::Range<usize>| line_at(text, span.start);

    check_id(
        &mut diags,
        file,
        Some(line(raw.id.span())),
        "module id",
        raw.id.get_ref(),
    );
    if raw.title.get_ref().trim().is_empty() {
        diags.error(
            file,
            Some(line(raw.title.span())),
            "title must not be empty",
        );
    }
    check_language_tag(
        &mut diags,
        file,
        Some(line(raw.language.span())),
        raw.language.get_ref(),
    );
    if raw.version.get_ref().trim().is_empty()
        || raw.version.get_ref().contains(char::is_whitespace)
    {
        diags.error(
            file,
            Some(line(raw.version.span())),
            "version must be a non-empty word such as \"1.0.0\"",
        );
    }
    if let Some(m) = &raw.mastery_score {
        let v = *m.get_ref();
        if !(0.0..=1.0).contains(&v) || v.is_nan() {
            diags.error(
                file,
                Some(line(m.span())),
                format!("mastery_score {v} is out of range: write a scaled score from 0 to 1 (0.8 = 80 %)"),
            );
        }
    }

    let mut objectives = Vec::new();
    let mut ids = BTreeSet::new();
    for o in raw.objectives {
        let l = line(o.span());
        let o = o.into_inner();
        check_id(&mut diags, file, Some(l), "objective id", &o.id);
        if !ids.insert(o.id.clone()) {
            diags.error(
                file,
                Some(l),
                format!("objective {:?} is listed twice", o.id),
            );
        }
        if o.text.trim().is_empty() {
            diags.error(file, Some(l), format!("objective {:?} has no text", o.id));
        }
        objectives.push(Objective {
            id: o.id,
            text: o.text,
        });
    }

    let sequence_line = line(raw.sequence.span());
    let mut sequence = Vec::new();
    let mut seen = BTreeSet::new();
    for entry in raw.sequence.into_inner() {
        let l = line(entry.span());
        let path = entry.into_inner();
        if !seen.insert(path.clone()) {
            diags.error(file, Some(l), format!("{path:?} appears twice in sequence"));
        }
        sequence.push((path, l));
    }
    if sequence.is_empty() {
        diags.error(
            file,
            Some(sequence_line),
            "sequence must list at least one page or quiz",
        );
    }

    if diags.has_errors() {
        return Err(diags);
    }
    let lines = HeaderLines {
        id: line(raw.id.span()),
        language: line(raw.language.span()),
        completion: raw.completion.as_ref().map(|c| line(c.span())).unwrap_or(1),
        sequence: sequence_line,
    };
    Ok((
        ModuleHeader {
            id: raw.id.into_inner(),
            title: raw.title.into_inner(),
            language: raw.language.into_inner(),
            version: raw.version.into_inner(),
            kind: raw.kind,
            description: raw.description,
            duration_minutes: raw.duration_minutes,
            mastery_score: raw.mastery_score.map(Spanned::into_inner),
            completion: raw.completion.map(Spanned::into_inner),
            objectives,
            sequence,
            lines,
        },
        diags,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"id = "m1"
title = "Module one"
language = "en"
version = "1.0.0"
kind = "lesson"
description = "About things."
duration_minutes = 30
mastery_score = 0.8
completion = "pages-and-quiz"
objectives = [
  { id = "know-things", text = "Know things." },
]
sequence = [
  "pages/01-intro.md",
  "quiz/check.quiz",
]
"#;

    #[test]
    fn parses_a_module() {
        let (m, d) = parse_module(Path::new("module.toml"), GOOD).expect("valid");
        assert!(!d.has_errors());
        assert_eq!(m.kind, Kind::Lesson);
        assert_eq!(m.completion, Some(Completion::PagesAndQuiz));
        assert_eq!(
            m.sequence,
            [
                ("pages/01-intro.md".to_string(), 14),
                ("quiz/check.quiz".to_string(), 15)
            ]
        );
        assert_eq!(m.objectives[0].id, "know-things");
    }

    #[test]
    fn bad_enum_value_names_line_and_choices() {
        let text = GOOD.replace("kind = \"lesson\"", "kind = \"lecture\"");
        let msg = parse_module(Path::new("m/module.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("m/module.toml:5: "), "{msg}");
        assert!(msg.contains("lesson"), "{msg}");
    }

    #[test]
    fn mastery_score_must_be_scaled() {
        let text = GOOD.replace("mastery_score = 0.8", "mastery_score = 80");
        let msg = parse_module(Path::new("module.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("module.toml:8: mastery_score 80 is out of range"),
            "{msg}"
        );
    }

    #[test]
    fn duplicate_objective_ids() {
        let text = GOOD.replace(
            "  { id = \"know-things\", text = \"Know things.\" },\n",
            "  { id = \"know-things\", text = \"Know things.\" },\n  { id = \"know-things\", text = \"Again.\" },\n",
        );
        let msg = parse_module(Path::new("module.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("module.toml:12: objective \"know-things\" is listed twice"),
            "{msg}"
        );
    }
}

//! Free-text answers marked for redaction on export (issue "Learner data
//! protection", part 1): an open question's `result.response` can hold
//! anything a learner typed, names included. An answer is free text when
//! the activity it answers is an interaction of type `long-fill-in` (the
//! type the packaged runtime gives open "text" questions, xAPI 1.0.3 part
//! 2, §2.4.4.1.1) or its definition carries the extension
//! [`FREE_TEXT_EXTENSION`] set to `true` (for other content to opt in).

use serde_json::Value;

/// The activity definition extension that marks a question's answers as
/// free text.
pub const FREE_TEXT_EXTENSION: &str = "urn:kmh:ext:free-text";

/// What a redacted answer reads.
pub const REDACTED: &str = "[redacted]";

/// True when answers to an activity with this definition are free text.
pub fn is_free_text(definition: &Value) -> bool {
    definition.get("interactionType").and_then(Value::as_str) == Some("long-fill-in")
        || definition
            .get("extensions")
            .and_then(|e| e.get(FREE_TEXT_EXTENSION))
            .and_then(Value::as_bool)
            == Some(true)
}

/// Replaces the statement's `result.response` when it answers a free-text
/// question. `canonical` looks up the definition the LRS keeps for an
/// activity, for statements that do not carry one. True when it changed.
pub fn redact_free_text(statement: &mut Value, canonical: impl Fn(&str) -> Option<Value>) -> bool {
    if super::at(statement, &["result", "response"]).is_none() {
        return false;
    }
    let object = statement.get("object");
    let is_activity = object
        .and_then(|o| o.get("objectType"))
        .and_then(Value::as_str)
        .is_none_or(|t| t == "Activity");
    if !is_activity {
        return false;
    }
    let free = object
        .and_then(|o| o.get("definition"))
        .is_some_and(is_free_text)
        || object
            .and_then(|o| o.get("id"))
            .and_then(Value::as_str)
            .and_then(&canonical)
            .is_some_and(|d| is_free_text(&d));
    if free && let Some(r) = statement.pointer_mut("/result/response") {
        *r = Value::String(REDACTED.into());
    }
    free
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(definition: Value) -> Value {
        json!({"object": {"id": "urn:q", "definition": definition},
               "result": {"response": "My colleague Ana Silva helped"}})
    }

    #[test]
    fn long_fill_in_and_marked_answers_are_redacted() {
        let mut a = answer(json!({"interactionType": "long-fill-in"}));
        assert!(redact_free_text(&mut a, |_| None));
        assert_eq!(a["result"]["response"], REDACTED);
        let mut b = answer(
            json!({"interactionType": "fill-in", "extensions": {FREE_TEXT_EXTENSION: true}}),
        );
        assert!(redact_free_text(&mut b, |_| None));
    }

    #[test]
    fn scored_answers_stay() {
        let mut a = answer(json!({"interactionType": "choice"}));
        assert!(!redact_free_text(&mut a, |_| None));
        assert_eq!(a["result"]["response"], "My colleague Ana Silva helped");
    }

    #[test]
    fn the_canonical_definition_counts_when_the_statement_has_none() {
        let mut a = json!({"object": {"id": "urn:q"}, "result": {"response": "text"}});
        assert!(redact_free_text(&mut a, |id| (id == "urn:q")
            .then(|| json!({"interactionType": "long-fill-in"}))));
        assert_eq!(a["result"]["response"], REDACTED);
    }
}

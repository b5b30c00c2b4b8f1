//! Result (xAPI 1.0.3 part 2, §2.4.5) and Score (§2.4.5.1).

use serde_json::Value;

use super::Invalid;
use super::duration;
use super::json;
use super::path::Path;

/// `score`, `success`, `completion`, `response`, `duration`, `extensions`.
pub(crate) fn result(v: &Value, p: &Path) -> Result<(), Invalid> {
    for (k, val) in json::object(v, p)? {
        let kp = p.key(k);
        match k.as_str() {
            "score" => score(val, &kp)?,
            "success" | "completion" => {
                json::boolean(val, &kp)?;
            }
            "response" => {
                json::string(val, &kp)?;
            }
            "duration" => {
                if let Err(why) = duration::duration(json::string(val, &kp)?) {
                    return Err(kp.err(format!("must be an ISO 8601 duration: {why}")));
                }
            }
            "extensions" => json::extensions(val, &kp)?,
            _ => return Err(json::unknown(&kp, "Result")),
        }
    }
    Ok(())
}

/// The Score Object: `scaled` "between -1 and 1, inclusive"; `raw` "between
/// min and max (if present, otherwise unrestricted), inclusive"; `min` "less
/// than max (if present)"; `max` "greater than min (if present)". So
/// `min == max` is rejected.
fn score(v: &Value, p: &Path) -> Result<(), Invalid> {
    let (mut scaled, mut raw, mut min, mut max) = (None, None, None, None);
    for (k, val) in json::object(v, p)? {
        let kp = p.key(k);
        let slot = match k.as_str() {
            "scaled" => &mut scaled,
            "raw" => &mut raw,
            "min" => &mut min,
            "max" => &mut max,
            _ => return Err(json::unknown(&kp, "Score")),
        };
        *slot = Some(json::number(val, &kp)?);
    }
    if scaled.is_some_and(|s| !(-1.0..=1.0).contains(&s)) {
        return Err(p.key("scaled").err("must be between -1 and 1 (inclusive)"));
    }
    if let (Some(min), Some(max)) = (min, max)
        && min >= max
    {
        return Err(p.key("min").err("must be less than max"));
    }
    if let (Some(raw), Some(min)) = (raw, min)
        && raw < min
    {
        return Err(p.key("raw").err("must not be less than min"));
    }
    if let (Some(raw), Some(max)) = (raw, max)
        && raw > max
    {
        return Err(p.key("raw").err("must not be greater than max"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule_of(v: Value) -> String {
        match result(&v, &Path::root("result")) {
            Ok(()) => "ok".into(),
            Err(e) => format!("{}: {}", e.path, e.rule),
        }
    }

    #[test]
    fn result_properties() {
        let full = json!({
            "score": {"scaled": 0.95, "raw": 95, "min": 0, "max": 100},
            "success": true,
            "completion": false,
            "response": "We agreed on some example actions.",
            "duration": "PT1H0M0S",
            "extensions": {"http://example.com/minutes": "X:\\minutes.one"}
        });
        assert_eq!(rule_of(full), "ok");
        assert_eq!(rule_of(json!({})), "ok");
        assert_eq!(
            rule_of(json!({"success": "true"})),
            "result.success: must be a boolean"
        );
        assert_eq!(
            rule_of(json!({"completion": "false"})),
            "result.completion: must be a boolean"
        );
        assert_eq!(
            rule_of(json!({"completion": null})),
            "result.completion: must not be null"
        );
        assert_eq!(
            rule_of(json!({"response": 12345})),
            "result.response: must be a string"
        );
        assert_eq!(
            rule_of(json!({"response": {"key": "invalid"}})),
            "result.response: must be a string"
        );
        assert_eq!(
            rule_of(json!({"Success": true})),
            "result.Success: is not a property of Result"
        );
        assert_eq!(
            rule_of(json!({"extensions": "should fail"})),
            "result.extensions: must be an object"
        );
        assert_eq!(rule_of(json!("x")), "result: must be an object");
    }

    #[test]
    fn result_duration() {
        assert_eq!(rule_of(json!({"duration": "PT4H35M59.14S"})), "ok");
        assert_eq!(rule_of(json!({"duration": "P4W"})), "ok");
        assert_eq!(
            rule_of(json!({"duration": 12345})),
            "result.duration: must be a string"
        );
        assert!(
            rule_of(json!({"duration": "PA1H0M0S"}))
                .starts_with("result.duration: must be an ISO 8601 duration: ")
        );
        assert!(rule_of(json!({"duration": "P4W1D"})).contains("weeks"));
    }

    #[test]
    fn score_types() {
        assert_eq!(
            rule_of(json!({"score": 12345})),
            "result.score: must be an object"
        );
        assert_eq!(
            rule_of(json!({"score": "should fail"})),
            "result.score: must be an object"
        );
        assert_eq!(
            rule_of(json!({"score": {"max": "one hundred"}})),
            "result.score.max: must be a number"
        );
        assert_eq!(
            rule_of(json!({"score": {"raw": "100"}})),
            "result.score.raw: must be a number"
        );
        assert_eq!(
            rule_of(json!({"score": {"scaled": null}})),
            "result.score.scaled: must not be null"
        );
        assert_eq!(
            rule_of(json!({"score": {"percent": 1}})),
            "result.score.percent: is not a property of Score"
        );
        assert_eq!(rule_of(json!({"score": {}})), "ok");
    }

    #[test]
    fn score_scaled_range() {
        for ok in [0.6767676, 1.0, -1.0, 0.0] {
            assert_eq!(rule_of(json!({"score": {"scaled": ok}})), "ok");
        }
        for bad in [1.01, -1.00001, 2.0] {
            assert_eq!(
                rule_of(json!({"score": {"scaled": bad}})),
                "result.score.scaled: must be between -1 and 1 (inclusive)"
            );
        }
    }

    #[test]
    fn score_raw_min_max() {
        let d = 0.6767676;
        assert_eq!(rule_of(json!({"score": {"raw": d}})), "ok");
        assert_eq!(rule_of(json!({"score": {"min": d}})), "ok");
        assert_eq!(rule_of(json!({"score": {"max": 100.6767676}})), "ok");
        assert_eq!(
            rule_of(json!({"score": {"raw": -5, "min": -10, "max": -1}})),
            "ok"
        );
        assert_eq!(
            rule_of(json!({"score": {"raw": 0, "min": 0, "max": 10}})),
            "ok"
        );
        assert_eq!(
            rule_of(json!({"score": {"raw": 10, "min": 0, "max": 10}})),
            "ok"
        );
        assert_eq!(
            rule_of(json!({"score": {"raw": d, "max": d - 0.02}})),
            "result.score.raw: must not be greater than max"
        );
        assert_eq!(
            rule_of(json!({"score": {"raw": d, "min": d + 0.73}})),
            "result.score.raw: must not be less than min"
        );
        assert_eq!(
            rule_of(json!({"score": {"min": d, "max": d - 0.0000321, "raw": d - 0.0000033}})),
            "result.score.min: must be less than max"
        );
        assert_eq!(
            rule_of(json!({"score": {"min": 5, "max": 5}})),
            "result.score.min: must be less than max"
        );
    }
}

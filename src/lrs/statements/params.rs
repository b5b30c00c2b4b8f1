//! Query parameters of GET /statements (xAPI 1.0.3 part 3, §2.1.3), parsed
//! strictly: names are case-sensitive, unknown or repeated parameters and
//! illegal combinations are rejected with a message naming them.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::lrs::error::ApiError;
use crate::xapi::format::Format;
use crate::xapi::{ifi, validate};

const KNOWN: [&str; 14] = [
    "statementId",
    "voidedStatementId",
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "format",
    "attachments",
    "ascending",
];

/// What a GET /statements asks for.
#[derive(Debug)]
pub enum Request {
    /// One statement, by `statementId` (`voided` false) or `voidedStatementId`.
    Single { id: Uuid, voided: bool, view: View },
    /// A filtered list.
    Many(Filters),
}

/// How statements are shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct View {
    pub format: Format,
    pub attachments: bool,
}

#[derive(Debug, Default)]
pub struct Filters {
    /// The agent's identity ([`ifi::identity`]).
    pub agent: Option<String>,
    /// The `agent` parameter as sent (pseudonymisation maps it).
    pub agent_json: Option<serde_json::Value>,
    pub verb: Option<String>,
    pub activity: Option<String>,
    pub registration: Option<String>,
    pub related_activities: bool,
    pub related_agents: bool,
    /// Unix ms, exclusive.
    pub since_ms: Option<i64>,
    /// Unix ms, inclusive (sub-millisecond parts round down).
    pub until_ms: Option<i64>,
    pub limit: usize,
    pub ascending: bool,
    pub view: View,
}

/// Splits a raw query string into parameters, rejecting repeats.
pub fn split(raw: &str) -> Result<BTreeMap<String, String>, ApiError> {
    let mut params = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
        if params.insert(k.to_string(), v.into_owned()).is_some() {
            return Err(ApiError::BadRequest(format!(
                "query parameter {k:?} is given more than once"
            )));
        }
    }
    Ok(params)
}

pub fn parse(params: &BTreeMap<String, String>) -> Result<Request, ApiError> {
    if let Some(unknown) = params.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::BadRequest(format!(
            "unknown query parameter {unknown:?} (names are case-sensitive); allowed: {}",
            KNOWN.join(", ")
        )));
    }
    let view = View {
        format: match params.get("format") {
            None => Format::Exact,
            Some(f) => Format::parse(f).ok_or_else(|| {
                ApiError::BadRequest(format!("format must be ids, exact or canonical, not {f:?}"))
            })?,
        },
        attachments: boolean(params, "attachments")?,
    };
    let single = match (params.get("statementId"), params.get("voidedStatementId")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "statementId and voidedStatementId cannot be used together".into(),
            ));
        }
        (Some(id), None) => Some((id, false, "statementId")),
        (None, Some(id)) => Some((id, true, "voidedStatementId")),
        (None, None) => None,
    };
    if let Some((id, voided, name)) = single {
        if let Some(other) = params.keys().find(|k| {
            !matches!(
                k.as_str(),
                "statementId" | "voidedStatementId" | "attachments" | "format"
            )
        }) {
            return Err(ApiError::BadRequest(format!(
                "{name} can only be combined with attachments and format, not {other}"
            )));
        }
        return Ok(Request::Single {
            id: uuid(name, id)?,
            voided,
            view,
        });
    }

    let mut f = Filters {
        view,
        ..Filters::default()
    };
    if let Some(agent) = params.get("agent") {
        let value: serde_json::Value = serde_json::from_str(agent)
            .map_err(|e| ApiError::BadRequest(format!("agent is not valid JSON: {e}")))?;
        validate::agent(&value, "agent").map_err(ApiError::Invalid)?;
        f.agent = Some(ifi::identity(&value).ok_or_else(|| {
            ApiError::BadRequest("agent must be an Agent or identified Group (with an inverse functional identifier)".into())
        })?);
        f.agent_json = Some(value);
    }
    if let Some(verb) = params.get("verb") {
        f.verb = Some(iri("verb", verb)?);
    }
    if let Some(activity) = params.get("activity") {
        f.activity = Some(iri("activity", activity)?);
    }
    if let Some(reg) = params.get("registration") {
        f.registration = Some(uuid("registration", reg)?.hyphenated().to_string());
    }
    f.related_activities = boolean(params, "related_activities")?;
    f.related_agents = boolean(params, "related_agents")?;
    f.ascending = boolean(params, "ascending")?;
    f.since_ms = params
        .get("since")
        .map(|s| millis("since", s))
        .transpose()?;
    f.until_ms = params
        .get("until")
        .map(|s| millis("until", s))
        .transpose()?;
    f.limit = match params.get("limit") {
        None => 0,
        Some(l) => l.parse::<usize>().map_err(|_| {
            ApiError::BadRequest(format!("limit must be a non-negative integer, not {l:?}"))
        })?,
    };
    Ok(Request::Many(f))
}

fn boolean(params: &BTreeMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match params.get(name).map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::BadRequest(format!(
            "{name} must be true or false, not {other:?}"
        ))),
    }
}

fn uuid(name: &str, value: &str) -> Result<Uuid, ApiError> {
    if validate::is_uuid(value)
        && let Ok(id) = Uuid::parse_str(value)
    {
        return Ok(id);
    }
    Err(ApiError::BadRequest(format!(
        "{name} must be a UUID, not {value:?}"
    )))
}

fn iri(name: &str, value: &str) -> Result<String, ApiError> {
    if validate::iri(value) {
        Ok(value.to_owned())
    } else {
        Err(ApiError::BadRequest(format!(
            "{name} must be an IRI, not {value:?}"
        )))
    }
}

fn millis(name: &str, value: &str) -> Result<i64, ApiError> {
    let t = validate::timestamp(value)
        .map_err(|e| ApiError::BadRequest(format!("{name} must be an ISO 8601 timestamp: {e}")))?;
    Ok((t.unix_timestamp_nanos().div_euclid(1_000_000)) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(raw: &str) -> Result<Request, ApiError> {
        parse(&split(raw)?)
    }

    #[test]
    fn single_statement_rejects_filters() {
        let err =
            p("statementId=9e13cefd-53d3-4eac-b5ed-2cf6693903bb&verb=http://x.org/v").unwrap_err();
        assert!(err.to_string().contains("not verb"));
        assert!(p("statementId=9e13cefd-53d3-4eac-b5ed-2cf6693903bb&format=ids").is_ok());
    }

    #[test]
    fn names_are_case_sensitive() {
        let err = p("StatementId=9e13cefd-53d3-4eac-b5ed-2cf6693903bb").unwrap_err();
        assert!(err.to_string().contains("\"StatementId\""));
    }

    #[test]
    fn repeated_parameters_are_rejected() {
        assert!(split("limit=1&limit=2").is_err());
    }

    #[test]
    fn booleans_and_limits_are_strict() {
        assert!(p("ascending=yes").is_err());
        assert!(p("limit=-1").is_err());
        match p("ascending=true&limit=5").unwrap() {
            Request::Many(f) => assert!(f.ascending && f.limit == 5),
            other => panic!("{other:?}"),
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a client puts in the query string, parsing answers
        /// Ok or a 400-style error: it never panics.
        #[test]
        fn any_query_string_parses_or_is_refused(raw in "\\PC{0,200}") {
            if let Ok(params) = split(&raw) {
                let _ = parse(&params);
            }
        }

        #[test]
        fn known_names_with_any_values_never_panic(
            name in proptest::sample::select(KNOWN.to_vec()),
            value in "\\PC{0,80}",
        ) {
            let mut params = BTreeMap::new();
            params.insert(name.to_owned(), value);
            let _ = parse(&params);
        }
    }
}

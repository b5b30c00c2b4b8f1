//! Alternate request syntax (xAPI 1.0.3 part 3, §1.3): a client that cannot
//! send arbitrary methods or headers (old browsers, strict proxies) sends
//! `POST …?method=PUT` with a form body whose fields carry the headers, the
//! query parameters and the `content`. The request is rewritten into the
//! request it stands for before routing. xAPI 2.0 removed the syntax, so
//! 2.0 requests that use it are refused.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::MAX_BODY_BYTES;
use super::error::ApiError;
use crate::xapi::Version;

/// Form fields that are headers rather than query parameters.
const HEADER_FIELDS: [&str; 6] = [
    "authorization",
    "x-experience-api-version",
    "content-type",
    "content-length",
    "if-match",
    "if-none-match",
];

pub async fn rewrite(req: Request, next: Next) -> Response {
    let has_method = req
        .uri()
        .query()
        .is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "method"));
    if !has_method {
        return next.run(req).await;
    }
    match convert(req).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn convert(req: Request) -> Result<Request, ApiError> {
    let (parts, body) = req.into_parts();
    let query: Vec<(String, String)> =
        form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    if parts.method != Method::POST {
        return Err(ApiError::BadRequest(
            "the method parameter is only allowed on POST".into(),
        ));
    }
    if let Some((name, _)) = query.iter().find(|(k, _)| k != "method") {
        return Err(ApiError::BadRequest(format!(
            "with the alternate request syntax every parameter goes in the form body; found {name} in the query"
        )));
    }
    let method = query
        .iter()
        .find(|(k, _)| k == "method")
        .map(|(_, v)| v.to_ascii_uppercase())
        .unwrap_or_default();
    let method = match method.as_str() {
        "GET" => Method::GET,
        "HEAD" => Method::HEAD,
        "PUT" => Method::PUT,
        "POST" => Method::POST,
        "DELETE" => Method::DELETE,
        other => {
            return Err(ApiError::BadRequest(format!(
                "method must be GET, HEAD, PUT, POST or DELETE, not {other:?}"
            )));
        }
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    {
        return Err(ApiError::BadRequest(format!(
            "the alternate request syntax needs a form body (application/x-www-form-urlencoded), not {content_type:?}"
        )));
    }
    let body = to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::TooLarge(format!("the form body exceeds {MAX_BODY_BYTES} bytes")))?;

    let mut headers = parts.headers.clone();
    headers.remove(header::CONTENT_TYPE);
    headers.remove(header::CONTENT_LENGTH);
    let mut params = form_urlencoded::Serializer::new(String::new());
    let mut content: Option<String> = None;
    for (name, value) in form_urlencoded::parse(&body) {
        let lower = name.to_ascii_lowercase();
        if name == "content" {
            content = Some(value.into_owned());
        } else if HEADER_FIELDS.contains(&lower.as_str()) {
            let header_name = HeaderName::from_bytes(lower.as_bytes())
                .map_err(|_| ApiError::BadRequest(format!("bad header field {name}")))?;
            let header_value = HeaderValue::from_str(&value).map_err(|_| {
                ApiError::BadRequest(format!("form field {name} is not a valid header value"))
            })?;
            headers.insert(header_name, header_value);
        } else {
            params.append_pair(&name, &value);
        }
    }
    let version = headers
        .get("x-experience-api-version")
        .and_then(|v| v.to_str().ok())
        .and_then(Version::from_header);
    if version == Some(Version::V2_0_0) {
        return Err(ApiError::BadRequest(
            "xAPI 2.0 does not allow the alternate request syntax (method parameter)".into(),
        ));
    }
    if content.is_some() && !headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    let query = params.finish();
    let path_and_query = if query.is_empty() {
        parts.uri.path().to_owned()
    } else {
        format!("{}?{query}", parts.uri.path())
    };
    let uri: Uri = path_and_query.parse().map_err(|_| {
        ApiError::BadRequest("the form fields do not make a valid request URI".into())
    })?;
    let mut req = Request::new(Body::from(content.unwrap_or_default()));
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    *req.headers_mut() = headers;
    *req.version_mut() = parts.version;
    Ok(req)
}

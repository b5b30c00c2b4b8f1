//! `multipart/mixed` statement requests and responses (xAPI 1.0.3 part 2,
//! §2.4.11 "Attachments"): the first part holds the statements, each other
//! part one attachment's raw data, identified by its SHA-256 in the
//! `X-Experience-API-Hash` header and sent with
//! `Content-Transfer-Encoding: binary`.

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::body::Bytes;
use sha2::{Digest, Sha256};

use crate::lrs::error::ApiError;

/// One attachment's data as received.
#[derive(Debug, Clone)]
pub struct Part {
    pub content_type: String,
    pub data: Bytes,
}

/// A parsed statement request: the statements' JSON and the attachment
/// parts by their SHA-256 (lowercase hex).
pub struct Mixed {
    pub json: Bytes,
    pub parts: BTreeMap<String, Part>,
}

/// The boundary of a `multipart/mixed` Content-Type, or a 400 naming why not.
pub fn boundary(content_type: &str) -> Result<String, ApiError> {
    // multer's own helper only reads multipart/form-data types.
    content_type
        .split(';')
        .skip(1)
        .filter_map(|param| param.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
        .filter(|b| !b.is_empty())
        .ok_or_else(|| ApiError::BadRequest("multipart/mixed needs a boundary parameter".into()))
}

pub async fn parse(body: Bytes, boundary: String) -> Result<Mixed, ApiError> {
    let stream = futures_util::stream::once(async move { Ok::<Bytes, Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let bad =
        |e: multer::Error| ApiError::BadRequest(format!("malformed multipart/mixed body: {e}"));
    let first = multipart
        .next_field()
        .await
        .map_err(bad)?
        .ok_or_else(|| ApiError::BadRequest("the multipart/mixed body has no parts".into()))?;
    let first_type = first
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !first_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("application/json")
    {
        return Err(ApiError::BadRequest(format!(
            "the first part must be application/json (the statements), not {first_type:?}"
        )));
    }
    let json = first.bytes().await.map_err(bad)?;
    let mut parts = BTreeMap::new();
    let mut index = 1;
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let header = |name: &str| {
            field
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let hash = header("x-experience-api-hash").ok_or_else(|| {
            ApiError::BadRequest(format!(
                "attachment part {index} lacks the X-Experience-API-Hash header"
            ))
        })?;
        match header("content-transfer-encoding") {
            Some(enc) if enc.trim().eq_ignore_ascii_case("binary") => {}
            other => {
                return Err(ApiError::BadRequest(format!(
                    "attachment part {index} must have Content-Transfer-Encoding: binary, not {:?}",
                    other.unwrap_or_default()
                )));
            }
        }
        let content_type =
            header("content-type").unwrap_or_else(|| "application/octet-stream".into());
        let data = field.bytes().await.map_err(bad)?;
        let actual = hex::encode(Sha256::digest(&data));
        let hash = hash.trim().to_ascii_lowercase();
        if actual != hash {
            return Err(ApiError::BadRequest(format!(
                "attachment part {index}: X-Experience-API-Hash {hash} does not match its content (SHA-256 {actual})"
            )));
        }
        parts.insert(hash, Part { content_type, data });
        index += 1;
    }
    Ok(Mixed { json, parts })
}

/// Builds a `multipart/mixed` response body: the JSON, then each part.
pub fn response_body(boundary: &str, json: &[u8], parts: &[(String, Part)]) -> Vec<u8> {
    let mut body = Vec::with_capacity(
        json.len() + parts.iter().map(|(_, p)| p.data.len() + 200).sum::<usize>() + 100,
    );
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Type: application/json\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(json);
    for (hash, part) in parts {
        body.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Type: {}\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {hash}\r\n\r\n",
                part.content_type
            )
            .as_bytes(),
        );
        body.extend_from_slice(&part.data);
    }
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(parts: &[&str]) -> Bytes {
        let mut b = String::new();
        for p in parts {
            b.push_str("--XyZ\r\n");
            b.push_str(p);
            b.push_str("\r\n");
        }
        b.push_str("--XyZ--\r\n");
        Bytes::from(b)
    }

    #[test]
    fn boundary_parameter() {
        assert_eq!(
            boundary("multipart/mixed; boundary=-------3141").unwrap(),
            "-------3141"
        );
        assert_eq!(
            boundary("multipart/mixed;boundary=\"ab c\"").unwrap(),
            "ab c"
        );
        assert!(boundary("multipart/mixed").is_err());
    }

    #[tokio::test]
    async fn parses_statements_and_verified_parts() {
        let data = "here is a simple attachment";
        let hash = hex::encode(Sha256::digest(data.as_bytes()));
        let b = body(&[
            "Content-Type:application/json\r\n\r\n{\"a\":1}",
            &format!(
                "Content-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {hash}\r\n\r\n{data}"
            ),
        ]);
        let m = parse(b, "XyZ".into()).await.unwrap();
        assert_eq!(&m.json[..], b"{\"a\":1}");
        assert_eq!(&m.parts[&hash].data[..], data.as_bytes());
    }

    #[tokio::test]
    async fn rejects_wrong_hash_encoding_and_first_part() {
        let b = body(&[
            "Content-Type: application/json\r\n\r\n{}",
            "Content-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: 00\r\n\r\nx",
        ]);
        assert!(parse(b, "XyZ".into()).await.is_err());
        let hash = hex::encode(Sha256::digest(b"x"));
        let b = body(&[
            "Content-Type: application/json\r\n\r\n{}",
            &format!(
                "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\nX-Experience-API-Hash: {hash}\r\n\r\nx"
            ),
        ]);
        let err = parse(b, "XyZ".into()).await.err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("binary")));
        let b = body(&["Content-Type: text/plain\r\n\r\n{}"]);
        assert!(parse(b, "XyZ".into()).await.is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Arbitrary bodies and boundaries are parsed or refused, never a panic.
        #[test]
        fn any_body_is_parsed_or_refused(body in proptest::collection::vec(any::<u8>(), 0..600), boundary in "[a-zA-Z0-9-]{1,20}") {
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let _ = rt.block_on(parse(Bytes::from(body), boundary));
        }

        #[test]
        fn mangled_valid_bodies_never_panic(cut in 0usize..200, flip in 0usize..200) {
            let data = b"x";
            let hash = hex::encode(Sha256::digest(data));
            let mut body = format!(
                "--B\r\nContent-Type: application/json\r\n\r\n{{}}\r\n--B\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {hash}\r\n\r\nx\r\n--B--\r\n"
            ).into_bytes();
            if flip < body.len() { body[flip] ^= 0x5a; }
            body.truncate(body.len().saturating_sub(cut));
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let _ = rt.block_on(parse(Bytes::from(body), "B".into()));
        }
    }
}

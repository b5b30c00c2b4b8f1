//! Signed statements (xAPI 1.0.3 part 2, §2.6 "Signed Statements", with the
//! attachment rules of §2.4.11 and the comparison rules of §2.3.1).
//!
//! A signed statement carries a JWS (RFC 7515, compact serialization) as an
//! attachment whose usageType is [`SIGNATURE_USAGE`]. The LRS MUST reject a
//! malformed signature with `400`, and to find out it MUST:
//!
//! 1. decode the JWS and load the signed statement from its payload;
//! 2. check that the signed statement is logically equivalent to the received
//!    one, under the statement comparison requirements (§2.3.1);
//! 3. if the JWS header carries an X.509 certificate (`x5c`), check the
//!    signature against it;
//! 4. check the signature requirements: RS256, RS384 or RS512, and an
//!    attachment with contentType `application/octet-stream`.
//!
//! The certificate chain is not validated (no trust anchors, no dates): the
//! spec says the x5c check "is intended as a way to catch mistakes in the
//! signature, not as a security measure", and the example certificate of its
//! own Appendix D expired in 2014.

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use serde_json::{Map, Value};
use sha2::{Sha256, Sha384, Sha512};
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};

use super::compare::fingerprint;

/// The usageType of the attachment that holds a statement's signature.
pub const SIGNATURE_USAGE: &str = "http://adlnet.gov/expapi/attachments/signature";

/// The contentType that §2.6 requires of the signature attachment.
const SIGNATURE_CONTENT_TYPE: &str = "application/octet-stream";

/// RFC 7515 asks for base64url without padding; padded input is still
/// unambiguous, so it is accepted rather than turned into a confusing error.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Verifies the JWS (compact serialization, the raw bytes of the signature
/// attachment part) against `statement` (the statement JSON as received).
/// Err(message) names what is wrong.
///
/// Without an `x5c` header the LRS has no key to check the signature with:
/// §2.6 only makes that check conditional on the certificate being there, so
/// such a signature is accepted once it is well formed and its payload
/// matches the statement. This is also what the ADL conformance suite sends
/// (an RS256 JWS with no `x5c`) and expects to be stored.
pub fn verify(statement: &Value, jws: &[u8]) -> Result<(), String> {
    let statement = statement
        .as_object()
        .ok_or("the signed statement is not a JSON object")?;
    check_signature_attachment(statement)?;
    let jws = Jws::parse(jws)?;
    if let Some(x5c) = &jws.x5c {
        jws.check_with_certificate(x5c)?;
    }
    check_match(&jws.payload, statement)
}

/// The signing algorithms §2.6 allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Alg {
    Rs256,
    Rs384,
    Rs512,
}

/// A decoded JWS in compact serialization.
struct Jws<'a> {
    alg: Alg,
    /// The first certificate of the `x5c` chain, DER.
    x5c: Option<Vec<u8>>,
    payload: Map<String, Value>,
    /// `BASE64URL(header) '.' BASE64URL(payload)`, the bytes that were signed.
    signing_input: &'a [u8],
    signature: Vec<u8>,
}

impl<'a> Jws<'a> {
    fn parse(raw: &'a [u8]) -> Result<Self, String> {
        let raw = raw.trim_ascii();
        if raw.is_empty() {
            return Err("the signature attachment is empty".into());
        }
        if raw.first() == Some(&b'{') {
            return Err("the signature is not a JWS in compact serialization \
                        (JWS JSON serialization is not supported)"
                .into());
        }
        let parts: Vec<&[u8]> = raw.split(|&b| b == b'.').collect();
        let [header_b64, payload_b64, signature_b64] = parts[..] else {
            return Err(format!(
                "the signature is not a JWS in compact serialization: expected 3 \
                 dot-separated parts (header.payload.signature), found {}",
                parts.len()
            ));
        };
        let signing_input = &raw[..header_b64.len() + 1 + payload_b64.len()];

        let header = decode_json_object(header_b64, "header")?;
        let alg = match header.get("alg") {
            Some(Value::String(alg)) => match alg.as_str() {
                "RS256" => Alg::Rs256,
                "RS384" => Alg::Rs384,
                "RS512" => Alg::Rs512,
                other => {
                    return Err(format!(
                        "the JWS header alg {other:?} is not allowed: a signed \
                         statement must use RS256, RS384 or RS512"
                    ));
                }
            },
            Some(_) => return Err("the JWS header alg is not a string".into()),
            None => return Err("the JWS header has no alg".into()),
        };
        // RFC 7515 §4.1.11: a recipient that does not understand a critical
        // extension must reject the JWS; none is understood here.
        if header.contains_key("crit") {
            return Err("the JWS header lists critical extensions (crit), \
                        which this LRS does not support"
                .into());
        }
        let x5c = match header.get("x5c") {
            None => None,
            Some(chain) => Some(first_certificate(chain)?),
        };

        let payload = decode_json_object(payload_b64, "payload")
            .map_err(|e| format!("{e}: it must be the JSON serialization of the statement"))?;

        if signature_b64.is_empty() {
            return Err("the JWS has no signature part".into());
        }
        let signature = BASE64URL
            .decode(signature_b64)
            .map_err(|e| format!("the JWS signature part is not base64url: {e}"))?;

        Ok(Jws {
            alg,
            x5c,
            payload,
            signing_input,
            signature,
        })
    }

    /// RFC 7515 §5.2 step 8 with the public key of the signer's certificate,
    /// the first of the `x5c` chain (RFC 7515 §4.1.6).
    fn check_with_certificate(&self, der: &[u8]) -> Result<(), String> {
        let cert = Certificate::from_der(der).map_err(|e| {
            format!("the first x5c certificate is not a valid X.509 certificate: {e}")
        })?;
        let spki = cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| format!("the x5c certificate's public key cannot be read: {e}"))?;
        let key = rsa::PublicKey::from_public_key_der(&spki).map_err(|e| {
            format!("the x5c certificate does not hold a usable RSA public key: {e}")
        })?;
        let signature = Signature::try_from(self.signature.as_slice())
            .map_err(|_| "the JWS signature is malformed".to_string())?;
        let checked = match self.alg {
            Alg::Rs256 => VerifyingKey::<Sha256>::new(key).verify(self.signing_input, &signature),
            Alg::Rs384 => VerifyingKey::<Sha384>::new(key).verify(self.signing_input, &signature),
            Alg::Rs512 => VerifyingKey::<Sha512>::new(key).verify(self.signing_input, &signature),
        };
        checked.map_err(|_| {
            "the JWS signature does not verify with the public key of its x5c certificate"
                .to_string()
        })
    }
}

fn decode_json_object(b64: &[u8], part: &str) -> Result<Map<String, Value>, String> {
    let bytes = BASE64URL
        .decode(b64)
        .map_err(|e| format!("the JWS {part} is not base64url: {e}"))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(format!("the JWS {part} is not a JSON object")),
        Err(e) => Err(format!("the JWS {part} is not valid JSON ({e})")),
    }
}

/// `x5c` is a non-empty array of standard (not url-safe) base64 DER
/// certificates, the signer's first (RFC 7515 §4.1.6).
fn first_certificate(chain: &Value) -> Result<Vec<u8>, String> {
    let first = chain
        .as_array()
        .and_then(|certs| certs.first())
        .ok_or("the JWS header x5c must be a non-empty array of certificates")?;
    let first = first
        .as_str()
        .ok_or("the JWS header x5c must hold base64 strings")?;
    general_purpose::STANDARD
        .decode(first)
        .map_err(|e| format!("the first x5c certificate is not base64: {e}"))
}

/// §2.6: the signature travels as an attachment with [`SIGNATURE_USAGE`] and
/// contentType `application/octet-stream`.
fn check_signature_attachment(statement: &Map<String, Value>) -> Result<(), String> {
    let signatures: Vec<&Value> = statement
        .get("attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|a| a.get("usageType").and_then(Value::as_str) == Some(SIGNATURE_USAGE))
        .collect();
    if signatures.is_empty() {
        return Err(format!(
            "the statement has no attachment with usageType {SIGNATURE_USAGE}"
        ));
    }
    for attachment in signatures {
        let content_type = attachment
            .get("contentType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case(SIGNATURE_CONTENT_TYPE) {
            return Err(format!(
                "the signature attachment has contentType {content_type:?}; \
                 it must be {SIGNATURE_CONTENT_TYPE}"
            ));
        }
    }
    Ok(())
}

/// §2.6 "Validate that the original Statement is logically equivalent to the
/// received Statement", under the comparison requirements of §2.3.1:
/// differences that the immutability exceptions allow are ignored. Those are
/// the properties an LRS may assign (`id`, `authority`, `stored`,
/// `timestamp`, `version`), attachments (the signature attachment is added
/// after signing, so it cannot be in the payload), verb displays, activity
/// definitions, member order and timestamp serialisation; all of these but
/// `id` and `timestamp` are left to [`fingerprint`].
fn check_match(signed: &Map<String, Value>, received: &Map<String, Value>) -> Result<(), String> {
    // An id or timestamp that only one side has could have been assigned
    // after signing; one that both sides have must agree.
    if let (Some(a), Some(b)) = (signed.get("id"), received.get("id")) {
        let same = match (a.as_str(), b.as_str()) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => a == b,
        };
        if !same {
            return Err(mismatch("id"));
        }
    }
    let mut signed = comparable(signed);
    let mut received = comparable(received);
    if !(signed.contains_key("timestamp") && received.contains_key("timestamp")) {
        signed.remove("timestamp");
        received.remove("timestamp");
    }
    if fingerprint(&Value::Object(signed.clone())) == fingerprint(&Value::Object(received.clone()))
    {
        return Ok(());
    }
    // Name the first property that differs, so the client knows where to look.
    let mut keys: Vec<&String> = signed.keys().chain(received.keys()).collect();
    keys.sort();
    keys.dedup();
    let differing = keys.into_iter().find(|key| {
        let side = |m: &Map<String, Value>| {
            let mut one = Map::new();
            if let Some(v) = m.get(*key) {
                one.insert((*key).clone(), v.clone());
            }
            fingerprint(&Value::Object(one))
        };
        side(&signed) != side(&received)
    });
    Err(mismatch(differing.map_or("the statement", String::as_str)))
}

fn mismatch(property: &str) -> String {
    format!(
        "the signed statement (JWS payload) does not match the statement received: \
         {property} differs"
    )
}

/// A copy with `result.duration` cut to hundredths of a second, in the
/// statement and in a SubStatement object. xAPI 2.0 (IEEE 9274.1.1, §4.2.7) says
/// precision beyond 0.01 s is not part of a comparison, and the ADL suite
/// checks it on signed statements; under 1.0.3 no real client tells two
/// durations apart by their thousandths of a second.
fn comparable(statement: &Map<String, Value>) -> Map<String, Value> {
    let mut copy = statement.clone();
    truncate_duration(&mut copy);
    if let Some(Value::Object(object)) = copy.get_mut("object")
        && object.get("objectType").and_then(Value::as_str) == Some("SubStatement")
    {
        truncate_duration(object);
    }
    copy
}

fn truncate_duration(statement: &mut Map<String, Value>) {
    if let Some(Value::String(duration)) = statement
        .get_mut("result")
        .and_then(|r| r.get_mut("duration"))
    {
        *duration = to_hundredths(duration);
    }
}

/// `PT1.2345S` → `PT1.23S`; anything else is returned unchanged.
fn to_hundredths(duration: &str) -> String {
    let Some(dot) = duration.find(['.', ',']) else {
        return duration.to_string();
    };
    let fraction = &duration[dot + 1..];
    let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
    if digits <= 2 {
        return duration.to_string();
    }
    format!("{}{}", &duration[..dot + 3], &fraction[digits..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::SigningKey;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};
    use serde_json::json;

    /// A 2048-bit key and its self-signed certificate, made once with
    /// `openssl req -x509 -newkey rsa:2048 -nodes`; test fixtures, not secrets.
    const KEY_PEM: &str = include_str!("testdata/signer.key.pem");
    const CERT_PEM: &str = include_str!("testdata/signer.crt.pem");

    fn b64url(bytes: &[u8]) -> String {
        general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The x5c form of the fixture certificate: PEM's body is base64 DER.
    fn x5c() -> String {
        CERT_PEM
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect()
    }

    fn statement() -> Value {
        json!({
            "id": "1b0b5d1a-5a58-4f2e-9d8c-3d3c2b4f8a11",
            "actor": {"mbox": "mailto:amina@example.org", "name": "Amina"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en": "completed"}},
            "object": {"id": "urn:kmh:reintegration-me:s06", "objectType": "Activity"},
            "result": {"completion": true, "duration": "PT12M30.12S"},
            "timestamp": "2026-03-01T09:30:00Z"
        })
    }

    fn signature_attachment(jws: &str) -> Value {
        json!({
            "usageType": SIGNATURE_USAGE,
            "display": {"en-US": "Signature"},
            "contentType": "application/octet-stream",
            "length": jws.len(),
            "sha2": "0000000000000000000000000000000000000000000000000000000000000000"
        })
    }

    /// The statement as the LRS receives it: the signed one plus its
    /// signature attachment.
    fn received(signed: &Value, jws: &str) -> Value {
        let mut s = signed.clone();
        s["attachments"] = json!([signature_attachment(jws)]);
        s
    }

    /// Signs `payload` (serialized as given) with the fixture key.
    fn sign_raw(header: &Value, payload: &[u8]) -> String {
        let key = rsa::PrivateKey::from_pkcs8_pem(KEY_PEM).expect("fixture key");
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(payload)
        );
        let signature = match header["alg"].as_str() {
            Some("RS384") => SigningKey::<Sha384>::new(key)
                .sign(input.as_bytes())
                .to_vec(),
            Some("RS512") => SigningKey::<Sha512>::new(key)
                .sign(input.as_bytes())
                .to_vec(),
            _ => SigningKey::<Sha256>::new(key)
                .sign(input.as_bytes())
                .to_vec(),
        };
        format!("{input}.{}", b64url(&signature))
    }

    fn sign(alg: &str, with_x5c: bool, statement: &Value) -> String {
        let header = if with_x5c {
            json!({"alg": alg, "x5c": [x5c()]})
        } else {
            json!({"alg": alg})
        };
        sign_raw(&header, statement.to_string().as_bytes())
    }

    #[test]
    fn rs256_with_x5c_verifies() {
        let jws = sign("RS256", true, &statement());
        assert_eq!(
            verify(&received(&statement(), &jws), jws.as_bytes()),
            Ok(())
        );
    }

    #[test]
    fn rs384_and_rs512_verify() {
        for alg in ["RS384", "RS512"] {
            let jws = sign(alg, true, &statement());
            assert_eq!(
                verify(&received(&statement(), &jws), jws.as_bytes()),
                Ok(()),
                "{alg}"
            );
        }
    }

    #[test]
    fn the_spec_appendix_d_example_verifies() {
        let jws = include_str!("testdata/appendix-d.jws");
        let statement: Value =
            serde_json::from_str(include_str!("testdata/appendix-d-statement.json")).unwrap();
        assert_eq!(verify(&statement, jws.as_bytes()), Ok(()));
        let mut other = statement.clone();
        other["verb"]["id"] = json!("http://adlnet.gov/expapi/verbs/failed");
        let err = verify(&other, jws.as_bytes()).unwrap_err();
        assert!(err.contains("verb differs"), "{err}");
    }

    /// What the ADL conformance suite sends: RS256, no x5c, the id set
    /// before signing and the attachment added after.
    #[test]
    fn without_x5c_a_matching_payload_is_accepted() {
        let jws = sign("RS256", false, &statement());
        assert_eq!(
            verify(&received(&statement(), &jws), jws.as_bytes()),
            Ok(())
        );
    }

    #[test]
    fn a_payload_that_differs_from_the_statement_is_rejected() {
        let jws = sign("RS256", true, &statement());
        let mut tampered = received(&statement(), &jws);
        tampered["result"]["completion"] = json!(false);
        let err = verify(&tampered, jws.as_bytes()).unwrap_err();
        assert!(err.contains("does not match"), "{err}");
        assert!(err.contains("result differs"), "{err}");

        // Same without x5c: the comparison alone catches it.
        let jws = sign("RS256", false, &statement());
        let mut tampered = received(&statement(), &jws);
        tampered["actor"]["mbox"] = json!("mailto:someone.else@example.org");
        let err = verify(&tampered, jws.as_bytes()).unwrap_err();
        assert!(err.contains("actor differs"), "{err}");
    }

    #[test]
    fn a_different_id_or_timestamp_is_a_mismatch() {
        let jws = sign("RS256", true, &statement());
        let mut other = received(&statement(), &jws);
        other["id"] = json!("2b0b5d1a-5a58-4f2e-9d8c-3d3c2b4f8a11");
        assert!(
            verify(&other, jws.as_bytes())
                .unwrap_err()
                .contains("id differs")
        );
        let mut other = received(&statement(), &jws);
        other["timestamp"] = json!("2026-03-01T09:30:01Z");
        assert!(
            verify(&other, jws.as_bytes())
                .unwrap_err()
                .contains("timestamp differs")
        );
    }

    #[test]
    fn differences_the_lrs_may_cause_are_ignored() {
        let mut signed = statement();
        signed.as_object_mut().unwrap().remove("id");
        signed.as_object_mut().unwrap().remove("timestamp");
        let jws = sign("RS256", true, &signed);
        let mut got = received(&statement(), &jws);
        got["stored"] = json!("2026-03-01T09:30:02Z");
        got["version"] = json!("1.0.3");
        got["authority"] = json!({"mbox": "mailto:lrs@example.org"});
        // Key order, verb display and timestamp serialisation do not count.
        got["verb"] = json!({"id": "http://adlnet.gov/expapi/verbs/completed"});
        assert_eq!(verify(&got, jws.as_bytes()), Ok(()));

        let jws = sign("RS256", true, &statement());
        let mut got = received(&statement(), &jws);
        got["timestamp"] = json!("2026-03-01T10:30:00+01:00");
        assert_eq!(verify(&got, jws.as_bytes()), Ok(()));
    }

    /// The ADL suite's xAPI 2.0 check: a duration with more precision than
    /// hundredths of a second still matches its truncated signed form.
    #[test]
    fn durations_compare_to_hundredths() {
        let jws = sign("RS256", false, &statement());
        let mut got = received(&statement(), &jws);
        got["result"]["duration"] = json!("PT12M30.1267S");
        assert_eq!(verify(&got, jws.as_bytes()), Ok(()));
        got["result"]["duration"] = json!("PT12M30.13S");
        assert!(verify(&got, jws.as_bytes()).is_err());
        assert_eq!(to_hundredths("P1DT12H36M0.1237S"), "P1DT12H36M0.12S");
        assert_eq!(to_hundredths("PT1S"), "PT1S");
        assert_eq!(to_hundredths("PT1.5S"), "PT1.5S");
        assert_eq!(to_hundredths("PT0.é"), "PT0.é");
    }

    #[test]
    fn a_tampered_signature_with_x5c_is_rejected() {
        let jws = sign("RS256", true, &statement());
        let (input, sig) = jws.rsplit_once('.').unwrap();
        let mut sig = general_purpose::URL_SAFE_NO_PAD.decode(sig).unwrap();
        sig[10] ^= 0x01;
        let tampered = format!("{input}.{}", b64url(&sig));
        let err = verify(&received(&statement(), &tampered), tampered.as_bytes()).unwrap_err();
        assert!(err.contains("does not verify"), "{err}");

        // A payload swapped under an intact signature fails the same way.
        let other = sign(
            "RS256",
            true,
            &json!({"actor": {"mbox": "mailto:x@example.org"}}),
        );
        let (header, _) = jws.split_once('.').unwrap();
        let payload = other.split('.').nth(1).unwrap();
        let signature = jws.rsplit('.').next().unwrap();
        let swapped = format!("{header}.{payload}.{signature}");
        let err = verify(&received(&statement(), &swapped), swapped.as_bytes()).unwrap_err();
        assert!(err.contains("does not verify"), "{err}");
    }

    #[test]
    fn a_certificate_of_another_key_is_rejected() {
        let appendix_d = include_str!("testdata/appendix-d.jws");
        let header =
            decode_json_object(appendix_d.split('.').next().unwrap().as_bytes(), "header").unwrap();
        let jws = sign_raw(
            &json!({"alg": "RS256", "x5c": header["x5c"]}),
            statement().to_string().as_bytes(),
        );
        let err = verify(&received(&statement(), &jws), jws.as_bytes()).unwrap_err();
        assert!(err.contains("does not verify"), "{err}");
    }

    #[test]
    fn other_algorithms_are_rejected() {
        for alg in ["HS256", "none", "ES256", "PS256", "rs256"] {
            let payload = b64url(statement().to_string().as_bytes());
            let jws = format!(
                "{}.{payload}.{}",
                b64url(json!({"alg": alg}).to_string().as_bytes()),
                b64url(b"whatever")
            );
            let err = verify(&received(&statement(), &jws), jws.as_bytes()).unwrap_err();
            assert!(
                err.contains(&format!("alg \"{alg}\" is not allowed")),
                "{err}"
            );
        }
        // alg none as usually written: empty signature part.
        let jws = format!(
            "{}.{}.",
            b64url(br#"{"alg":"none"}"#),
            b64url(statement().to_string().as_bytes())
        );
        let err = verify(&received(&statement(), &jws), jws.as_bytes()).unwrap_err();
        assert!(err.contains("not allowed"), "{err}");
    }

    /// The ADL suite's "bad JSON serialization": the first quote of the
    /// payload replaced by an apostrophe, then signed.
    #[test]
    fn a_payload_that_is_not_json_is_rejected() {
        let broken = statement().to_string().replacen('"', "'", 1);
        let jws = sign_raw(&json!({"alg": "RS256"}), broken.as_bytes());
        let err = verify(&received(&statement(), &jws), jws.as_bytes()).unwrap_err();
        assert!(err.contains("payload is not valid JSON"), "{err}");

        let jws = sign_raw(&json!({"alg": "RS256"}), b"[1, 2]");
        let err = verify(&received(&statement(), &jws), jws.as_bytes()).unwrap_err();
        assert!(err.contains("payload is not a JSON object"), "{err}");
    }

    #[test]
    fn the_signature_attachment_must_be_octet_stream() {
        let jws = sign("RS256", true, &statement());
        let mut got = received(&statement(), &jws);
        got["attachments"][0]["contentType"] = json!("text/plain; charset=ascii");
        let err = verify(&got, jws.as_bytes()).unwrap_err();
        assert!(err.contains("application/octet-stream"), "{err}");

        let mut got = received(&statement(), &jws);
        got.as_object_mut().unwrap().remove("attachments");
        let err = verify(&got, jws.as_bytes()).unwrap_err();
        assert!(err.contains("no attachment with usageType"), "{err}");
    }

    #[test]
    fn garbage_is_rejected_without_panicking() {
        let s = received(&statement(), "x");
        let good = sign("RS256", true, &statement());
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            b"   \r\n".to_vec(),
            b"not a jws".to_vec(),
            b"a.b".to_vec(),
            b"a.b.c.d".to_vec(),
            b"...".to_vec(),
            b"!!!.???.***".to_vec(),
            vec![0xff, 0xfe, b'.', 0x00, b'.', 0x80],
            br#"{"payload":"e30","signatures":[]}"#.to_vec(),
            format!("{}.e30.AA", b64url(b"not json")).into_bytes(),
            format!("{}.e30.AA", b64url(br#"{"alg":42}"#)).into_bytes(),
            format!("{}.e30.AA", b64url(br#"{}"#)).into_bytes(),
            format!("{}.e30.AA", b64url(br#"{"alg":"RS256","crit":["b64"]}"#)).into_bytes(),
            format!("{}.e30.AA", b64url(br#"{"alg":"RS256","x5c":[]}"#)).into_bytes(),
            format!("{}.e30.AA", b64url(br#"{"alg":"RS256","x5c":"MIIB"}"#)).into_bytes(),
            format!("{}.e30.AA", b64url(br#"{"alg":"RS256","x5c":[7]}"#)).into_bytes(),
            format!("{}.e30.AA", b64url(br#"{"alg":"RS256","x5c":["%%%"]}"#)).into_bytes(),
            format!("{}.e30.AA", b64url(br#"{"alg":"RS256","x5c":["AAAA"]}"#)).into_bytes(),
            format!("{}.e30.", b64url(br#"{"alg":"RS256"}"#)).into_bytes(),
            // A real certificate and a signature of the wrong length.
            format!("{}.e30.AA", good.split('.').next().unwrap()).into_bytes(),
            good.replace('.', "").into_bytes(),
            good.as_bytes()[..good.len() / 2].to_vec(),
        ];
        for case in cases {
            assert!(
                verify(&s, &case).is_err(),
                "{:?}",
                String::from_utf8_lossy(&case)
            );
        }
        for not_a_statement in [json!(null), json!([]), json!("x"), json!(1)] {
            assert!(verify(&not_a_statement, good.as_bytes()).is_err());
        }
    }

    #[test]
    fn surrounding_whitespace_is_tolerated() {
        let jws = sign("RS256", true, &statement());
        let padded = format!("\r\n{jws}\r\n");
        assert_eq!(
            verify(&received(&statement(), &jws), padded.as_bytes()),
            Ok(())
        );
    }
}

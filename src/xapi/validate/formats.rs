//! String formats of xAPI 1.0.3 part 2: UUIDs (§4.4), IRIs and IRLs (§4.3,
//! §2.2 "containing IRL or IRI values without a scheme"), RFC 5646 language
//! tags (§4.2), the Inverse Functional Identifier formats (§2.4.2.3) and the
//! Attachment fields (§2.4.11). Timestamps and durations have their own
//! modules.

/// A UUID in the standard string form (§4.4): 8-4-4-4-12 hexadecimal digits,
/// hyphenated, either case. Braces, URNs and the simple (unhyphenated) form
/// that `uuid::Uuid::parse_str` also accepts are rejected.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// An absolute IRI (RFC 3987), which in particular has a scheme.
pub fn iri(s: &str) -> bool {
    oxiri::Iri::parse(s).is_ok()
}

/// A well-formed RFC 5646 language tag (§4.2 and §2.2: "the sequence of
/// token lengths for language map keys").
pub fn language_tag(s: &str) -> bool {
    oxilangtag::LanguageTag::parse(s).is_ok()
}

/// The `mbox` format, "mailto:email address" (§2.4.2.3): the lowercase
/// `mailto:` scheme, an address with a non-empty local part and domain, and
/// a valid IRI as a whole.
pub(crate) fn is_mailto_iri(s: &str) -> bool {
    let Some(address) = s.strip_prefix("mailto:") else {
        return false;
    };
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    !local.is_empty() && !domain.is_empty() && !domain.contains(['/', '?', '#']) && iri(s)
}

/// The `mbox_sha1sum` format: a hex-encoded SHA-1, 40 digits. Either case is
/// accepted: the spec only says "hex-encoded".
pub(crate) fn is_sha1_hex(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// The Attachment `sha2` format: the hex-encoded digest of one of the SHA-2
/// functions (224, 256, 384 or 512 bits).
pub(crate) fn is_sha2_hex(s: &str) -> bool {
    matches!(s.len(), 56 | 64 | 96 | 128) && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// An Internet Media Type (RFC 2046, syntax of RFC 2045 §5.1): `type/subtype`
/// made of tokens, optionally followed by `;` parameters. Parameters are only
/// checked for printable ASCII: the LRS has no use for them.
pub(crate) fn is_media_type(s: &str) -> bool {
    let (main, params) = match s.split_once(';') {
        Some((main, params)) => (main.trim_end_matches([' ', '\t']), Some(params)),
        None => (s, None),
    };
    let Some((kind, subtype)) = main.split_once('/') else {
        return false;
    };
    is_token(kind)
        && is_token(subtype)
        && params.is_none_or(|p| p.bytes().all(|c| c == b'\t' || (b' '..=b'~').contains(&c)))
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|c| {
            c.is_ascii_graphic()
                && !matches!(
                    c,
                    b'(' | b')'
                        | b'<'
                        | b'>'
                        | b'@'
                        | b','
                        | b';'
                        | b':'
                        | b'\\'
                        | b'"'
                        | b'/'
                        | b'['
                        | b']'
                        | b'?'
                        | b'='
                )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_standard_form_only() {
        assert!(is_uuid("fd41c918-b88b-4b20-a0a5-a4c32391aaa0"));
        assert!(is_uuid("FD41C918-B88B-4B20-A0A5-A4C32391AAA0"));
        assert!(is_uuid("00000000-0000-0000-0000-000000000000"));
        // From the conformance suite: too many digits, a non-hex letter.
        assert!(!is_uuid("AA97B177-9383-4934-8543-0F91A7A028368"));
        assert!(!is_uuid("MA97B177-9383-4934-8543-0F91A7A02836"));
        assert!(!is_uuid("fd41c918b88b4b20a0a5a4c32391aaa0"));
        assert!(!is_uuid("{fd41c918-b88b-4b20-a0a5-a4c32391aaa0}"));
        assert!(!is_uuid("urn:uuid:fd41c918-b88b-4b20-a0a5-a4c32391aaa0"));
        assert!(!is_uuid("fd41c918-b88b4-b20-a0a5-a4c32391aaa0"));
        assert!(!is_uuid(""));
        assert!(!is_uuid("fd41c918-b88b-4b20-a0a5-a4c32391aaaé"));
    }

    #[test]
    fn iri_needs_a_scheme() {
        assert!(iri("http://example.com/xapi/verbs#sent"));
        assert!(iri("http://example.com/فعل/خواندن"));
        assert!(iri("urn:isbn:0451450523"));
        assert!(iri("mailto:a@example.com"));
        assert!(!iri("example.com/xapi"));
        assert!(!iri("ab=c://should.fail.com"));
        assert!(!iri("/relative/path"));
        assert!(!iri(""));
        assert!(!iri("http://example.com/with space"));
    }

    #[test]
    fn language_tags() {
        for ok in [
            "en",
            "en-US",
            "de-DE",
            "zh-Hant",
            "sr-Latn-RS",
            "cmn",
            "es-419",
            "tlh",
            "x-private",
            "i-klingon",
        ] {
            assert!(language_tag(ok), "{ok}");
        }
        for bad in [
            "",
            "a12345",
            "a12345678",
            "something",
            "en_US",
            "en-",
            "-en",
            "12",
        ] {
            assert!(!language_tag(bad), "{bad}");
        }
    }

    #[test]
    fn mailto() {
        assert!(is_mailto_iri("mailto:xapi@adlnet.gov"));
        assert!(is_mailto_iri("mailto:first.last+tag@sub.example.org"));
        assert!(!is_mailto_iri("mailto:should.fail.com"));
        assert!(!is_mailto_iri("http://should.fail.com"));
        assert!(!is_mailto_iri("xapi@adlnet.gov"));
        assert!(!is_mailto_iri("mailto:@adlnet.gov"));
        assert!(!is_mailto_iri("mailto:xapi@"));
        assert!(!is_mailto_iri("MAILTO:xapi@adlnet.gov"));
        assert!(!is_mailto_iri("mailto:x api@adlnet.gov"));
    }

    #[test]
    fn hashes() {
        assert!(is_sha1_hex("ebd31e95054c018b10727ccffd2ef2ec3a016ee9"));
        assert!(is_sha1_hex("EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"));
        assert!(!is_sha1_hex("ebd31e95054c018b10727ccffd2ef2ec3a016ee"));
        assert!(!is_sha1_hex("gbd31e95054c018b10727ccffd2ef2ec3a016ee9"));
        let sha256 = "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a";
        assert!(is_sha2_hex(sha256));
        assert!(is_sha2_hex(&sha256.repeat(2)));
        assert!(!is_sha2_hex(&sha256[1..]));
        assert!(!is_sha2_hex("should fail"));
    }

    #[test]
    fn media_types() {
        for ok in [
            "text/plain",
            "text/plain; charset=ascii",
            "application/octet-stream",
            "image/svg+xml",
            "application/vnd.ms-excel",
        ] {
            assert!(is_media_type(ok), "{ok}");
        }
        for bad in [
            "",
            "text",
            "text/",
            "/plain",
            "text/pl ain",
            "should fail",
            "text/plain/x",
        ] {
            assert!(!is_media_type(bad), "{bad}");
        }
    }
}

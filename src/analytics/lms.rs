//! The country of a learner's LMS: the hub's partner LMSs each serve one
//! country office, so a learner whose xAPI `account.homePage` (xAPI 1.0.3
//! part 2, §2.4.2.3 "Account Object") is a partner's LMS is counted in that
//! country when their statements carry no `urn:kmh:ext:country`.
//!
//! The mapping (`kmh serve --country-of-lms HOMEPAGE=CC`, or a file of
//! such lines with `--lms-countries`) is kept in the data folder, so that
//! `kmh report` and `kmh reindex` on the folder count the same way as the
//! server. Home pages are compared as [`crate::xapi::pseudonym`] compares
//! them (scheme and host in lower case, no trailing `/`).
//!
//! Precedence, for each learner × course: the latest `urn:kmh:ext:country`
//! of the learner's statements in the course, else the country of their
//! LMS. The extension wins because it is said about this course (a package
//! built with `--country`, or a launch link's `country=`): a learner on a
//! regional LMS may take a country office's own programme, and the
//! partner's country is only the default for everyone it hosts.

use std::collections::BTreeMap;

use crate::xapi::pseudonym;

/// Home page (normalised) → ISO 3166-1 alpha-2 code (upper case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LmsCountries {
    by_home: BTreeMap<String, String>,
}

impl LmsCountries {
    pub fn is_empty(&self) -> bool {
        self.by_home.is_empty()
    }

    pub fn len(&self) -> usize {
        self.by_home.len()
    }

    /// The entries, home pages normalised.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.by_home.iter().map(|(h, c)| (h.as_str(), c.as_str()))
    }

    /// The country of an LMS home page, if it is a partner's.
    pub fn country_of(&self, home_page: &str) -> Option<&str> {
        if self.by_home.is_empty() {
            return None;
        }
        self.by_home
            .get(&pseudonym::normalise_url(home_page))
            .map(String::as_str)
    }

    /// Adds one home page. A home page given twice must name the same
    /// country: two would make the count depend on the order of the flags.
    pub fn insert(&mut self, home_page: &str, country: &str) -> Result<(), String> {
        let home = pseudonym::normalise_url(home_page);
        if home.is_empty() || !home.contains(':') {
            return Err(format!(
                "LMS home page {home_page:?} is not an IRI (e.g. https://moodle.example.org)"
            ));
        }
        if home == pseudonym::HOME_PAGE {
            return Err(format!(
                "{home_page:?} is the home page of pseudonyms, not of an LMS"
            ));
        }
        let country = country_code(country)?;
        match self.by_home.get(&home) {
            Some(c) if *c != country => Err(format!(
                "LMS {home} is given two countries, {c} and {country}"
            )),
            _ => {
                self.by_home.insert(home, country);
                Ok(())
            }
        }
    }

    /// Adds one `HOMEPAGE=CC` entry (the `--country-of-lms` flag). The code
    /// follows the last `=`, so a home page may contain `=` itself.
    pub fn insert_entry(&mut self, entry: &str) -> Result<(), String> {
        let (home, country) = entry.trim().rsplit_once('=').ok_or_else(|| {
            format!("{entry:?} is not HOMEPAGE=CC (e.g. https://moodle.example.sn=SN)")
        })?;
        self.insert(home.trim(), country)
    }

    /// Adds the entries of a mapping file: one `HOMEPAGE CC` (or
    /// `HOMEPAGE,CC` or `HOMEPAGE=CC`) per line; blank lines and lines
    /// starting with `#` are skipped. Errors name the line.
    pub fn insert_lines(&mut self, text: &str) -> Result<(), String> {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim().trim_start_matches('\u{feff}');
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let split = line
                .rsplit_once(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '=')
                .filter(|(home, _)| !home.trim().is_empty());
            let Some((home, country)) = split else {
                return Err(format!(
                    "line {}: {line:?} is not a home page followed by a country code",
                    i + 1
                ));
            };
            let home = home.trim().trim_end_matches([',', ';', '=']).trim();
            self.insert(home, country)
                .map_err(|e| format!("line {}: {e}", i + 1))?;
        }
        Ok(())
    }

    /// As kept in the data folder.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.by_home).unwrap_or_default()
    }

    pub fn from_json(bytes: &[u8]) -> Result<LmsCountries, String> {
        let stored: BTreeMap<String, String> =
            serde_json::from_slice(bytes).map_err(|e| format!("LMS countries: {e}"))?;
        let mut out = LmsCountries::default();
        for (home, country) in stored {
            out.insert(&home, &country)?;
        }
        Ok(out)
    }
}

/// The LMS home page of a learner identity ([`crate::xapi::ifi::identity`]):
/// an account's own, or, for a pseudonym, that of the account it replaced
/// (`origin` gives the identifiers a pseudonym replaced, as the store keeps
/// them).
pub fn home_of_identity(
    identity: &str,
    origin: impl FnOnce(&str) -> Vec<serde_json::Value>,
) -> Option<String> {
    let (home, name) = identity.strip_prefix("account:")?.split_once('\u{1f}')?;
    if home != pseudonym::HOME_PAGE {
        return Some(home.to_owned());
    }
    origin(name).iter().find_map(|ifi| {
        ifi.get("account")?
            .get("homePage")?
            .as_str()
            .map(str::to_owned)
    })
}

/// ISO 3166-1 alpha-2, as the rest of kmh takes it (two letters, any case).
fn country_code(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(s.to_ascii_uppercase())
    } else {
        Err(format!(
            "country {s:?} is not an ISO 3166-1 alpha-2 code (two letters, e.g. SN)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_normalise_home_pages_and_codes() {
        let mut m = LmsCountries::default();
        m.insert_entry("HTTPS://Moodle.Example.SN/=sn").unwrap();
        m.insert_entry(" https://lms.example.org/ml?x=1 = ML ")
            .unwrap();
        assert_eq!(m.country_of("https://moodle.example.sn"), Some("SN"));
        assert_eq!(m.country_of("https://MOODLE.example.sn/"), Some("SN"));
        assert_eq!(m.country_of("https://lms.example.org/ml?x=1"), Some("ML"));
        // Paths stay case-sensitive, as in account identities.
        assert_eq!(m.country_of("https://lms.example.org/ML?x=1"), None);
        assert_eq!(m.country_of("https://other.example"), None);
        // The same LMS again with the same country is fine.
        m.insert_entry("https://moodle.example.sn=SN").unwrap();
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn bad_entries_name_what_is_wrong() {
        let mut m = LmsCountries::default();
        let e = m.insert_entry("https://a.example=SEN").unwrap_err();
        assert!(e.contains("\"SEN\"") && e.contains("ISO 3166-1"), "{e}");
        let e = m.insert_entry("https://a.example").unwrap_err();
        assert!(e.contains("HOMEPAGE=CC"), "{e}");
        let e = m.insert_entry("moodle=SN").unwrap_err();
        assert!(e.contains("\"moodle\"") && e.contains("not an IRI"), "{e}");
        let e = m.insert_entry("urn:kmh:pseudonym=SN").unwrap_err();
        assert!(e.contains("pseudonyms"), "{e}");
        m.insert_entry("https://a.example=SN").unwrap();
        let e = m.insert_entry("https://A.example/=ML").unwrap_err();
        assert!(e.contains("SN") && e.contains("ML"), "{e}");
    }

    #[test]
    fn a_file_takes_spaces_commas_or_equals_and_comments() {
        let mut m = LmsCountries::default();
        m.insert_lines(
            "\u{feff}# partner LMSs\n\nhttps://moodle.example.sn SN\nhttps://totara.example.ml,ml\n  https://e.example.ng = NG  \n",
        )
        .unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m.country_of("https://totara.example.ml"), Some("ML"));
        assert_eq!(m.country_of("https://e.example.ng"), Some("NG"));
        let e = m.insert_lines("https://x.example SN\nhttps://y.example Senegal\n");
        let e = e.unwrap_err();
        assert!(e.starts_with("line 2:") && e.contains("\"Senegal\""), "{e}");
        let e = m.insert_lines("SN\n").unwrap_err();
        assert!(e.starts_with("line 1:"), "{e}");
    }

    #[test]
    fn kept_as_json_and_read_back() {
        let mut m = LmsCountries::default();
        m.insert_entry("https://moodle.example.sn=SN").unwrap();
        assert_eq!(LmsCountries::from_json(&m.to_json()).unwrap(), m);
        assert!(LmsCountries::from_json(b"{\"https://a.example\": \"123\"}").is_err());
    }

    #[test]
    fn the_home_page_of_an_account_or_of_the_account_a_pseudonym_replaced() {
        let none = |_: &str| Vec::new();
        assert_eq!(
            home_of_identity("account:https://lms.example.sn\u{1f}42", none).as_deref(),
            Some("https://lms.example.sn")
        );
        assert_eq!(home_of_identity("mbox:mailto:a@example.org", none), None);
        let origin = |p: &str| {
            assert_eq!(p, "abc");
            vec![
                json!({"mbox": "mailto:a@example.org"}),
                json!({"account": {"homePage": "https://lms.example.ml", "name": "7"}}),
            ]
        };
        assert_eq!(
            home_of_identity("account:urn:kmh:pseudonym\u{1f}abc", origin).as_deref(),
            Some("https://lms.example.ml")
        );
        assert_eq!(
            home_of_identity("account:urn:kmh:pseudonym\u{1f}abc", none),
            None
        );
    }
}

//! Durations (xAPI 1.0.3 part 2, §4.6 "ISO 8601 Durations"; used by
//! `result.duration`, §2.4.5).
//!
//! xAPI requires the format of ISO 8601:2004(E) §4.4.3.2, `PnYnMnDTnHnMnS`
//! or `PnW`, and forbids the alternative format of §4.4.3.3
//! (`P0003-01-29T04:35:59`). The rules implemented here:
//!
//! - `P`, then date components `nY`, `nM`, `nD`, then optionally `T` and time
//!   components `nH`, `nM`, `nS`; components in that order, each at most
//!   once, zero components omitted, at least one present (`P0D` and `PT0S`
//!   are valid, `P` and `PT` are not); designators are uppercase.
//! - `PnW` stands alone: "weeks cannot be combined with other time periods.
//!   'P4W1D' is not valid" (§4.6).
//! - Numbers are any number of digits; the lowest-order component present
//!   may carry a decimal fraction after `.` or `,` (`PT0.5S`, `P1.5Y`), no
//!   other may (`PT1.5H30M` is rejected).
//! - No sign: ISO 8601:2004 has no negative durations.
//!
//! The duration is kept as the client's string (§2.3.1 says a duration is
//! compared as a string), so the parser only borrows the component texts.

use std::fmt;

/// Checks an ISO 8601 duration as xAPI allows it (see the module docs).
pub fn duration(s: &str) -> Result<(), String> {
    parse(s).map(|_| ())
}

/// The components of a duration, each the number text as written
/// (`"4"`, `"59.14"`), `None` when absent.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DurationParts<'a> {
    pub years: Option<&'a str>,
    pub months: Option<&'a str>,
    pub weeks: Option<&'a str>,
    pub days: Option<&'a str>,
    pub hours: Option<&'a str>,
    pub minutes: Option<&'a str>,
    pub seconds: Option<&'a str>,
}

impl fmt::Display for DurationParts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("P")?;
        for (value, designator) in [
            (self.years, 'Y'),
            (self.months, 'M'),
            (self.weeks, 'W'),
            (self.days, 'D'),
        ] {
            if let Some(v) = value {
                write!(f, "{v}{designator}")?;
            }
        }
        if self.hours.is_some() || self.minutes.is_some() || self.seconds.is_some() {
            f.write_str("T")?;
        }
        for (value, designator) in [(self.hours, 'H'), (self.minutes, 'M'), (self.seconds, 'S')] {
            if let Some(v) = value {
                write!(f, "{v}{designator}")?;
            }
        }
        Ok(())
    }
}

pub(crate) fn parse(s: &str) -> Result<DurationParts<'_>, String> {
    let b = s.as_bytes();
    if b.first() != Some(&b'P') {
        return Err("must start with 'P'".into());
    }
    let mut parts = DurationParts::default();
    let mut i = 1;
    let mut in_time = false;
    // Rank of the last component seen, to enforce order and uniqueness.
    let mut last_rank = 0u8;
    let mut fraction_seen = false;
    while i < b.len() {
        if b[i] == b'T' {
            if in_time {
                return Err("'T' may appear only once".into());
            }
            in_time = true;
            i += 1;
            if i == b.len() {
                return Err("'T' must be followed by hours, minutes or seconds".into());
            }
            continue;
        }
        if fraction_seen {
            return Err("only the last component may have a decimal fraction".into());
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err("expected a number before each designator".into());
        }
        if i < b.len() && (b[i] == b'.' || b[i] == b',') {
            i += 1;
            let fraction_start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == fraction_start {
                return Err("expected digits after the decimal mark".into());
            }
            fraction_seen = true;
        }
        // Only ASCII bytes were consumed since `start`, so this is a char boundary.
        let number = &s[start..i];
        let Some(&designator) = b.get(i) else {
            return Err("a number must be followed by a designator (Y, M, W, D, H, M or S)".into());
        };
        i += 1;
        let (rank, slot) = match (in_time, designator) {
            (false, b'Y') => (1, &mut parts.years),
            (false, b'M') => (2, &mut parts.months),
            (false, b'W') => (3, &mut parts.weeks),
            (false, b'D') => (4, &mut parts.days),
            (true, b'H') => (5, &mut parts.hours),
            (true, b'M') => (6, &mut parts.minutes),
            (true, b'S') => (7, &mut parts.seconds),
            (false, b'H' | b'S') => {
                return Err("hours and seconds must come after 'T'".into());
            }
            (true, b'Y' | b'W' | b'D') => {
                return Err("years, weeks and days must come before 'T'".into());
            }
            _ => return Err("unknown designator (expected Y, M, W, D, H, M or S)".into()),
        };
        if rank <= last_rank {
            return Err(
                "components must appear in the order Y, M, D, H, M, S, each at most once".into(),
            );
        }
        last_rank = rank;
        *slot = Some(number);
    }
    if last_rank == 0 {
        return Err("must have at least one component".into());
    }
    let others = [
        parts.years,
        parts.months,
        parts.days,
        parts.hours,
        parts.minutes,
        parts.seconds,
    ];
    if parts.weeks.is_some() && others.iter().any(Option::is_some) {
        return Err("weeks (W) cannot be combined with other components".into());
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_spec_and_suite_examples() {
        for s in [
            "PT4H35M59.14S",
            "PT16559.14S",
            "P3Y1M29DT4H35M59.14S",
            "P3Y",
            "P4W",
            "PT1H0M0S",
            "PT1H0M0.1S",
            "P1DT12H",
            "PT0.5S",
            "PT0,5S",
            "P0D",
            "PT0S",
            "P1DT12H36M0.12567S",
            "P1.5Y",
            "PT1.5H",
            "P0.5W",
            "P1M",
            "PT1M",
            "P1Y2M3DT4H5M6S",
            "P00010Y",
        ] {
            assert_eq!(duration(s), Ok(()), "{s}");
        }
    }

    #[test]
    fn rejects_malformed_durations() {
        for s in [
            "",
            "P",
            "PT",
            "P1YT",
            "should fail",
            "PA1H0M0S",
            "P4W1D",
            "P1YT1W",
            "P1Y4W",
            "pt1h",
            "PT1h",
            "1H",
            "T1H",
            "P1H",
            "P1S",
            "PT1D",
            "PT1Y",
            "P1D1Y",
            "P1M1M",
            "PT1S1M",
            "PT1.5H30M",
            "P1.5Y2M",
            "PT1.S",
            "PT.5S",
            "PT1",
            "P1",
            "PTT1H",
            "PT1HT1M",
            "-PT1H",
            "P-1D",
            "P+1D",
            "P 1D",
            "P1D ",
            "P0003-01-29T04:35:59",
            "P0003-01-29",
            "PT1H0M0S.5",
            "P１D",
        ] {
            assert!(duration(s).is_err(), "{s}");
        }
    }

    #[test]
    fn keeps_the_component_texts() {
        let parts = parse("P3Y1M29DT4H35M59.14S").unwrap_or_default();
        assert_eq!(parts.years, Some("3"));
        assert_eq!(parts.days, Some("29"));
        assert_eq!(parts.seconds, Some("59.14"));
        assert_eq!(parts.weeks, None);
        assert_eq!(parts.to_string(), "P3Y1M29DT4H35M59.14S");
    }

    fn number(fraction: bool) -> impl Strategy<Value = String> {
        if fraction {
            ("[0-9]{1,6}", "[.,]", "[0-9]{1,6}")
                .prop_map(|(a, m, b)| format!("{a}{m}{b}"))
                .boxed()
        } else {
            "[0-9]{1,6}".boxed()
        }
    }

    /// Valid component texts: a set of present components (not empty, weeks
    /// alone), with a fraction allowed on the last one.
    fn valid_parts() -> impl Strategy<Value = [Option<String>; 7]> {
        let components = prop_oneof![
            // weeks alone
            Just(0b000_1000u8),
            // any non-empty subset of Y M D H M S
            (1u8..64).prop_map(|bits| {
                // spread 6 bits over slots 0,1,3,4,5,6 (skipping weeks)
                (bits & 0b11) | ((bits & 0b11_1100) << 1)
            }),
        ];
        (components, any::<bool>()).prop_flat_map(|(mask, fraction)| {
            let last = (0..7).rev().find(|i| mask & (1 << i) != 0).unwrap_or(0);
            let slot = move |i: usize| -> BoxedStrategy<Option<String>> {
                if mask & (1 << i) == 0 {
                    Just(None).boxed()
                } else {
                    number(fraction && i == last).prop_map(Some).boxed()
                }
            };
            [
                slot(0),
                slot(1),
                slot(2),
                slot(3),
                slot(4),
                slot(5),
                slot(6),
            ]
        })
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,30}") {
            let _ = duration(&s);
        }

        #[test]
        fn never_panics_on_near_misses(s in "[PTYMWDHS0-9.,]{0,20}") {
            let _ = duration(&s);
        }

        #[test]
        fn round_trips(texts in valid_parts()) {
            let [years, months, weeks, days, hours, minutes, seconds] = &texts;
            let parts = DurationParts {
                years: years.as_deref(),
                months: months.as_deref(),
                weeks: weeks.as_deref(),
                days: days.as_deref(),
                hours: hours.as_deref(),
                minutes: minutes.as_deref(),
                seconds: seconds.as_deref(),
            };
            let s = parts.to_string();
            prop_assert_eq!(parse(&s), Ok(parts), "{}", s);
        }

        #[test]
        fn a_fraction_before_the_last_component_is_rejected(
            a in "[0-9]{1,4}", b in "[0-9]{1,4}", c in "[0-9]{1,4}",
        ) {
            let s = format!("PT{a}.{b}H{c}M");
            prop_assert!(duration(&s).is_err());
        }
    }
}

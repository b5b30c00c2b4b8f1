//! Timestamps (xAPI 1.0.3 part 2, §4.5 "ISO 8601 Timestamps"; §2.4.7
//! Timestamp, §2.4.8 Stored; xAPI 2.0.0 requires RFC 3339).
//!
//! A hand-written parser rather than `time`'s well-known formats because
//! xAPI needs its own line between the two standards:
//!
//! - 1.0.3 says "formatted according to ISO 8601" and only *SHOULD* use
//!   RFC 3339 and include a time zone. [`timestamp`] therefore accepts the
//!   ISO 8601 calendar date and time of day, in extended
//!   (`2015-11-18T12:17:00.5+01:00`) or basic (`20151118T121700Z`) format,
//!   with seconds optional (`2015-11-18T12:17Z`), a decimal fraction of the
//!   second after `.` or `,`, and an offset of `Z`, `±hh:mm`, `±hhmm` or `±hh`.
//!   A timestamp without an offset is read as UTC.
//! - [`timestamp_rfc3339`] (xAPI 2.0.0) accepts exactly the RFC 3339
//!   `date-time` production: extended format, seconds required, and an
//!   offset of `Z` or `±hh:mm`.
//!
//! Both reject the "unknown local offset" `-00:00` (and `-00`, `-0000`):
//! ISO 8601 does not allow a negative zero offset, and the ADL conformance
//! suite rejects all three. Both reject ISO 8601 week and ordinal dates, hour
//! 24 and a fraction on minutes or hours, which no xAPI client sends.
//! A leap second (`:60`) is accepted and read as the last nanosecond of the
//! preceding second, since `time` cannot represent it.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::xapi::Version;

/// Parses an ISO 8601 timestamp as xAPI 1.0.3 allows (see the module docs).
/// Used for `timestamp` and `stored` of 1.0.3 statements and for the
/// `since` / `until` query parameters.
pub fn timestamp(s: &str) -> Result<OffsetDateTime, String> {
    parse(s, Profile::Iso8601)
}

/// Parses an RFC 3339 timestamp, as xAPI 2.0.0 requires: extended format,
/// seconds, and a time zone.
pub fn timestamp_rfc3339(s: &str) -> Result<OffsetDateTime, String> {
    parse(s, Profile::Rfc3339)
}

/// The timestamp rules of a statement of the given version.
pub fn timestamp_for(s: &str, version: Version) -> Result<OffsetDateTime, String> {
    match version {
        Version::V1_0_3 => timestamp(s),
        Version::V2_0_0 => timestamp_rfc3339(s),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Profile {
    Iso8601,
    Rfc3339,
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn next_is_digit(&self) -> bool {
        self.peek().is_some_and(|c| c.is_ascii_digit())
    }

    /// Exactly `n` (≤ 4) ASCII digits.
    fn digits(&mut self, n: usize, what: &str) -> Result<u16, String> {
        let mut value = 0u16;
        for _ in 0..n {
            match self.peek() {
                Some(c) if c.is_ascii_digit() => {
                    value = value * 10 + u16::from(c - b'0');
                    self.i += 1;
                }
                _ => return Err(format!("expected {n} digits for the {what}")),
            }
        }
        Ok(value)
    }
}

fn parse(s: &str, profile: Profile) -> Result<OffsetDateTime, String> {
    let strict = profile == Profile::Rfc3339;
    let mut sc = Scanner {
        b: s.as_bytes(),
        i: 0,
    };

    // Calendar date, extended (YYYY-MM-DD) or basic (YYYYMMDD).
    let year = sc.digits(4, "year")?;
    let extended = sc.eat(b'-');
    if strict && !extended {
        return Err("the date must be in the form YYYY-MM-DD".into());
    }
    let month = sc.digits(2, "month")?;
    if extended && !sc.eat(b'-') {
        return Err("expected '-' between month and day".into());
    }
    let day = sc.digits(2, "day")?;
    if !(sc.eat(b'T') || sc.eat(b't')) {
        return Err("expected 'T' between the date and the time".into());
    }

    // Time of day, in the same format as the date.
    let hour = sc.digits(2, "hour")?;
    if extended && !sc.eat(b':') {
        return Err("expected ':' between hour and minute".into());
    }
    let minute = sc.digits(2, "minute")?;
    let second = if extended {
        if sc.eat(b':') {
            Some(sc.digits(2, "second")?)
        } else {
            None
        }
    } else if sc.next_is_digit() {
        Some(sc.digits(2, "second")?)
    } else {
        None
    };
    if strict && second.is_none() {
        return Err("the time must include seconds (hh:mm:ss)".into());
    }
    let mut nanosecond = 0u32;
    if sc.peek() == Some(b'.') || (!strict && sc.peek() == Some(b',')) {
        if second.is_none() {
            return Err("a decimal fraction is only allowed on the seconds".into());
        }
        sc.i += 1;
        let start = sc.i;
        while let Some(c) = sc.peek().filter(u8::is_ascii_digit) {
            // Keep nanoseconds; further digits are read and dropped (§4.5
            // only asks for millisecond precision).
            if sc.i - start < 9 {
                nanosecond = nanosecond * 10 + u32::from(c - b'0');
            }
            sc.i += 1;
        }
        let count = sc.i - start;
        if count == 0 {
            return Err("expected digits after the decimal mark".into());
        }
        for _ in count..9 {
            nanosecond *= 10;
        }
    }

    // Offset from UTC.
    let offset = match sc.peek() {
        None if strict => {
            return Err("must include a time zone offset (Z or ±hh:mm)".into());
        }
        None => (0, 0),
        Some(b'Z' | b'z') => {
            sc.i += 1;
            (0, 0)
        }
        Some(sign @ (b'+' | b'-')) => {
            sc.i += 1;
            let hours = sc.digits(2, "offset hours")?;
            let minutes = if sc.eat(b':') {
                sc.digits(2, "offset minutes")?
            } else if strict {
                return Err("the offset must be in the form ±hh:mm".into());
            } else if sc.next_is_digit() {
                sc.digits(2, "offset minutes")?
            } else {
                0
            };
            if sign == b'-' && hours == 0 && minutes == 0 {
                return Err("the offset -00:00 is not allowed; use Z or +00:00 for UTC".into());
            }
            if hours > 23 || minutes > 59 {
                return Err("the offset is out of range".into());
            }
            let (h, m) = (hours as i8, minutes as i8);
            if sign == b'-' { (-h, -m) } else { (h, m) }
        }
        Some(_) => return Err("unexpected character after the time".into()),
    };
    if sc.i != sc.b.len() {
        return Err("unexpected characters after the time zone".into());
    }

    // Ranges.
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or("the month must be 01 to 12")?;
    let day = u8::try_from(day).map_err(|_| "the day is out of range")?;
    let date = Date::from_calendar_date(i32::from(year), month, day)
        .map_err(|_| "the day does not exist in that month")?;
    if hour > 23 {
        return Err("the hour must be 00 to 23".into());
    }
    if minute > 59 {
        return Err("the minute must be 00 to 59".into());
    }
    let (second, nanosecond) = match second.unwrap_or(0) {
        60 => (59, 999_999_999),
        s if s > 60 => return Err("the second must be 00 to 60".into()),
        s => (s, nanosecond),
    };
    let time = Time::from_hms_nano(hour as u8, minute as u8, second as u8, nanosecond)
        .map_err(|_| "the time is out of range")?;
    let offset =
        UtcOffset::from_hms(offset.0, offset.1, 0).map_err(|_| "the offset is out of range")?;
    Ok(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::format_description::well_known::Rfc3339;
    use time::macros::datetime;

    #[test]
    fn accepts_iso_8601_forms() {
        let utc = datetime!(2015-11-18 12:17:00 UTC);
        for s in [
            "2015-11-18T12:17:00Z",
            "2015-11-18T12:17:00+00:00",
            "2015-11-18T12:17:00.000Z",
            "2015-11-18T12:17Z",
            "2015-11-18T13:17:00+01:00",
            "2015-11-18T13:17:00+0100",
            "2015-11-18T13:17:00+01",
            "2015-11-18T07:17:00-05:00",
            "20151118T121700Z",
            "20151118T1217Z",
            "20151118T131700+0100",
            "2015-11-18T12:17:00",
            "2015-11-18t12:17:00z",
        ] {
            assert_eq!(timestamp(s), Ok(utc), "{s}");
        }
        assert_eq!(
            timestamp("2013-05-18T05:32:34.804+00:00"),
            Ok(datetime!(2013-05-18 05:32:34.804 UTC))
        );
        assert_eq!(
            timestamp("2013-05-18T05:32:34,5Z"),
            Ok(datetime!(2013-05-18 05:32:34.5 UTC))
        );
        // More digits than nanoseconds: read and truncated.
        assert_eq!(
            timestamp("2013-05-18T05:32:34.1234567891234Z"),
            Ok(datetime!(2013-05-18 05:32:34.123456789 UTC))
        );
        // A leap second.
        assert_eq!(
            timestamp("2016-12-31T23:59:60Z"),
            Ok(datetime!(2016-12-31 23:59:59.999999999 UTC))
        );
        assert!(timestamp("2016-02-29T00:00:00Z").is_ok());
    }

    #[test]
    fn rejects_what_the_conformance_suite_rejects() {
        for s in [
            "should fail",
            "01/011/2015",
            "2008-09-15T15:53:00.601-00",
            "2008-09-15T15:53:00.601-0000",
            "2008-09-15T15:53:00.601-00:00",
        ] {
            assert!(timestamp(s).is_err(), "{s}");
            assert!(timestamp_rfc3339(s).is_err(), "{s}");
        }
    }

    #[test]
    fn rejects_malformed_and_out_of_range() {
        for s in [
            "",
            "2015",
            "2015-11-18",
            "2015-11-18 12:17:00Z",
            "2015-11-18T12",
            "2015-11-18T12:17:00.Z",
            "2015-11-18T12:17.5Z",
            "2015-13-18T12:17:00Z",
            "2015-00-18T12:17:00Z",
            "2015-02-29T12:17:00Z",
            "2015-04-31T12:17:00Z",
            "2015-11-18T24:00:00Z",
            "2015-11-18T12:60:00Z",
            "2015-11-18T12:17:61Z",
            "2015-11-18T12:17:00+24:00",
            "2015-11-18T12:17:00+01:60",
            "2015-11-18T12:17:00ZZ",
            "2015-11-18T12:17:00+1",
            "2015-11-1812:17:00Z",
            "2015-1118T12:17:00Z",
            "-2015-11-18T12:17:00Z",
            "+2015-11-18T12:17:00Z",
            "2015-W47-3T12:17:00Z",
            "2015-322T12:17:00Z",
            "２015-11-18T12:17:00Z",
        ] {
            assert!(timestamp(s).is_err(), "{s}");
        }
    }

    #[test]
    fn rfc3339_profile_is_stricter() {
        assert_eq!(
            timestamp_rfc3339("2008-09-15T15:53:00.601+00:00"),
            Ok(datetime!(2008-09-15 15:53:00.601 UTC))
        );
        assert!(timestamp_rfc3339("2008-09-15T15:53:00Z").is_ok());
        for s in [
            "2008-09-15T15:53:00",
            "2008-09-15T15:53Z",
            "20080915T155300Z",
            "2008-09-15T15:53:00+0000",
            "2008-09-15T15:53:00+01",
            "2008-09-15T15:53:00,5Z",
        ] {
            assert!(timestamp(s).is_ok(), "ISO 8601 accepts {s}");
            assert!(timestamp_rfc3339(s).is_err(), "RFC 3339 rejects {s}");
        }
        assert!(timestamp_for("2008-09-15T15:53:00", Version::V1_0_3).is_ok());
        assert!(timestamp_for("2008-09-15T15:53:00", Version::V2_0_0).is_err());
    }

    prop_compose! {
        fn any_datetime()(
            year in 0i32..=9999,
            month in 1u8..=12,
            day in 1u8..=31,
            hour in 0u8..=23,
            minute in 0u8..=59,
            second in 0u8..=59,
            nanosecond in 0u32..1_000_000_000,
            offset_minutes in -(23 * 60 + 59)..=(23 * 60 + 59i32),
        ) -> OffsetDateTime {
            let month = Month::try_from(month).unwrap_or(Month::January);
            let day = day.min(month.length(year));
            let date = Date::from_calendar_date(year, month, day).unwrap_or(Date::MIN);
            let time = Time::from_hms_nano(hour, minute, second, nanosecond).unwrap_or(Time::MIDNIGHT);
            let offset = UtcOffset::from_hms((offset_minutes / 60) as i8, (offset_minutes % 60) as i8, 0)
                .unwrap_or(UtcOffset::UTC);
            PrimitiveDateTime::new(date, time).assume_offset(offset)
        }
    }

    /// Formats in one of the forms [`timestamp`] documents.
    fn format(t: OffsetDateTime, basic: bool, frac_digits: usize, zone: u8) -> String {
        let (date_sep, time_sep) = if basic { ("", "") } else { ("-", ":") };
        let mut s = format!(
            "{:04}{date_sep}{:02}{date_sep}{:02}T{:02}{time_sep}{:02}{time_sep}{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        if frac_digits > 0 {
            let nanos = format!("{:09}", t.nanosecond());
            s.push('.');
            s.push_str(&nanos[..frac_digits.min(9)]);
        }
        let (h, m, _) = t.offset().as_hms();
        let sign = if t.offset().is_negative() { '-' } else { '+' };
        match zone {
            0 if t.offset().is_utc() => s.push('Z'),
            1 => s.push_str(&format!("{sign}{:02}{:02}", h.abs(), m.abs())),
            _ => s.push_str(&format!("{sign}{:02}:{:02}", h.abs(), m.abs())),
        }
        s
    }

    fn truncate(t: OffsetDateTime, frac_digits: usize) -> OffsetDateTime {
        let unit = 10u32.pow(9 - frac_digits.min(9) as u32);
        t.replace_nanosecond(t.nanosecond() / unit * unit)
            .unwrap_or(t)
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,40}") {
            let _ = timestamp(&s);
            let _ = timestamp_rfc3339(&s);
        }

        #[test]
        fn never_panics_on_near_misses(s in "[0-9:T.,Z+-]{0,32}") {
            let _ = timestamp(&s);
            let _ = timestamp_rfc3339(&s);
        }

        #[test]
        fn round_trips_generated_forms(
            t in any_datetime(),
            basic in any::<bool>(),
            frac_digits in 0usize..=12,
            zone in 0u8..3,
        ) {
            let s = format(t, basic, frac_digits, zone);
            prop_assert_eq!(timestamp(&s), Ok(truncate(t, frac_digits)), "{}", s);
            if !basic && zone != 1 {
                prop_assert_eq!(timestamp_rfc3339(&s), Ok(truncate(t, frac_digits)), "{}", s);
            }
        }

        #[test]
        fn accepts_what_time_formats_as_rfc3339(t in any_datetime()) {
            // `time` refuses to format offsets with seconds, which we never generate.
            if let Ok(s) = t.format(&Rfc3339) {
                prop_assert_eq!(timestamp(&s), Ok(t), "{}", s);
                prop_assert_eq!(timestamp_rfc3339(&s), Ok(t), "{}", s);
            }
        }
    }
}

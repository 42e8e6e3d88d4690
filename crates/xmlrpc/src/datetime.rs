//! `dateTime.iso8601` text ⇄ Unix seconds.
//!
//! XML-RPC's date type has no time zone. Keygate writes UTC in Infusionsoft's compact form
//! (`20261125T10:20:30`) and reads text without a zone as UTC.

use keygate_core::time::{civil_from_days, days_from_civil, days_in_month};

const SECONDS_PER_DAY: i64 = 86_400;
/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range four-digit years can carry.
const MIN_UNIX: i64 = -62_167_219_200;
const MAX_UNIX: i64 = 253_402_300_799;

/// Formats Unix seconds as `YYYYMMDDTHH:MM:SS` in UTC (`20261125T10:20:30`), the form Infusionsoft
/// and Python's `xmlrpc.client` write. Times outside years 0000–9999 are clamped to that range.
pub fn format_datetime(unix_seconds: i64) -> String {
    let t = unix_seconds.clamp(MIN_UNIX, MAX_UNIX);
    let (year, month, day) = civil_from_days(t.div_euclid(SECONDS_PER_DAY));
    let secs = t.rem_euclid(SECONDS_PER_DAY);
    format!(
        "{year:04}{month:02}{day:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Reads the common `dateTime.iso8601` forms into Unix seconds:
///
/// * the date as `YYYYMMDD` or `YYYY-MM-DD`, alone (midnight) or followed by `T` and the time as
///   `HH:MM:SS` or `HHMMSS`, optionally with a fraction (`.123`, dropped);
/// * optionally a zone: `Z`, `±HH:MM`, `±HHMM` or `±HH`; without one the time is UTC.
///
/// Surrounding whitespace is ignored. `None` for anything else, or an impossible date or time.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let mut c = Cursor {
        s: text.trim().as_bytes(),
    };
    let year = c.digits(4)?;
    let dashed = c.eat(b'-');
    let month = c.digits(2)?;
    if dashed && !c.eat(b'-') {
        return None;
    }
    let day = c.digits(2)?;
    if month == 0 || month > 12 || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) * SECONDS_PER_DAY;
    if c.s.is_empty() {
        return Some(secs);
    }
    if !c.eat(b'T') {
        return None;
    }
    let hour = c.digits(2)?;
    let colons = c.eat(b':');
    let minute = c.digits(2)?;
    if colons && !c.eat(b':') {
        return None;
    }
    let second = c.digits(2)?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if c.eat(b'.') || c.eat(b',') {
        c.digits(1)?;
        while c.digits(1).is_some() {}
    }
    secs += hour * 3600 + minute * 60 + second;
    match c.s.first() {
        None => Some(secs),
        Some(b'Z') if c.s.len() == 1 => Some(secs),
        Some(&sign @ (b'+' | b'-')) => {
            c.s = &c.s[1..];
            let oh = c.digits(2)?;
            let om = if c.s.is_empty() {
                0
            } else {
                c.eat(b':');
                c.digits(2)?
            };
            if !c.s.is_empty() || oh > 23 || om > 59 {
                return None;
            }
            let offset = oh * 3600 + om * 60;
            Some(if sign == b'+' {
                secs - offset
            } else {
                secs + offset
            })
        }
        Some(_) => None,
    }
}

struct Cursor<'a> {
    s: &'a [u8],
}

impl Cursor<'_> {
    fn eat(&mut self, b: u8) -> bool {
        match self.s.split_first() {
            Some((&first, rest)) if first == b => {
                self.s = rest;
                true
            }
            _ => false,
        }
    }

    fn digits(&mut self, n: usize) -> Option<i64> {
        let (head, rest) = self.s.split_at_checked(n)?;
        let mut v = 0i64;
        for &b in head {
            if !b.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(b - b'0');
        }
        self.s = rest;
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_infusionsoft() {
        assert_eq!(format_datetime(0), "19700101T00:00:00");
        assert_eq!(format_datetime(1_795_602_030), "20261125T10:20:30");
        assert_eq!(format_datetime(951_782_400), "20000229T00:00:00");
        assert_eq!(format_datetime(-1), "19691231T23:59:59");
        assert_eq!(format_datetime(i64::MAX), "99991231T23:59:59");
        assert_eq!(format_datetime(i64::MIN), "00000101T00:00:00");
    }

    #[test]
    fn parses_common_forms() {
        let t = Some(1_795_602_030);
        for text in [
            "20261125T10:20:30",
            "2026-11-25T10:20:30",
            "20261125T102030",
            " 20261125T10:20:30\n",
            "20261125T10:20:30Z",
            "2026-11-25T10:20:30.999Z",
            "2026-11-25T11:20:30+01:00",
            "2026-11-25T05:20:30-0500",
            "2026-11-25T12:20:30+02",
        ] {
            assert_eq!(parse_datetime(text), t, "{text}");
        }
        assert_eq!(parse_datetime("20000229"), Some(951_782_400));
        assert_eq!(parse_datetime("1969-12-31T23:59:59"), Some(-1));
        assert_eq!(parse_datetime("9999-12-31T23:59:59"), Some(MAX_UNIX));
        assert_eq!(parse_datetime("00000101T00:00:00"), Some(MIN_UNIX));
    }

    #[test]
    fn refuses_nonsense() {
        for text in [
            "",
            "2026",
            "2026-1125T10:20:30",
            "20261125T10:2030",
            "20261325T10:20:30",
            "20260229T10:20:30",
            "19000229T00:00:00",
            "20261125T24:00:00",
            "20261125T10:60:00",
            "20261125T10:20:60",
            "20261125 10:20:30",
            "20261125T10:20:30.",
            "20261125T10:20:30+",
            "20261125T10:20:30+24:00",
            "20261125T10:20:30ZZ",
            "20261125T10:20:30 junk",
            "２０２６1125T10:20:30",
        ] {
            assert_eq!(parse_datetime(text), None, "{text}");
        }
    }
}

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch: the only time representation the store and tokens use, so that
/// SQLite and PostgreSQL compare timestamps identically.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

// Calendar arithmetic by hand: converting Unix seconds to and from civil dates is a few lines, and a
// date-time crate would be the only one the domain needs.

pub fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date. Counts in 400-year eras (146 097 days each)
/// with years starting in March, so the leap day falls at the end of a year.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `2026-11-25T10:20:30Z`.
pub fn format_rfc3339(unix: i64) -> String {
    let (y, mo, d) = civil_from_days(unix.div_euclid(86_400));
    let s = unix.rem_euclid(86_400);
    let (h, mi, se) = (s / 3600, s / 60 % 60, s % 60);
    if !(0..=9999).contains(&y) {
        // Years of more than four digits, or before year 0: rare enough for `format!`.
        return format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}Z");
    }
    // Digits written in place: every contact answer carries two or three of these, and `format!`'s
    // padded integers cost several times the rest of the conversion.
    let mut out = *b"0000-00-00T00:00:00Z";
    for (at, width, value) in [
        (0, 4, y),
        (5, 2, mo),
        (8, 2, d),
        (11, 2, h),
        (14, 2, mi),
        (17, 2, se),
    ] {
        let mut v = value;
        for i in (at..at + width).rev() {
            out[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    std::str::from_utf8(&out).unwrap_or_default().to_owned()
}

/// An RFC 3339 date-time (`2026-11-25T10:20:30Z`, `…T10:20:30.123+02:00`; `t`/`z` and a space for `T`
/// accepted) as Unix seconds, fractions dropped. `None` for anything else, including impossible dates.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = b.get(r)?;
        s.iter()
            .all(u8::is_ascii_digit)
            .then(|| std::str::from_utf8(s).ok()?.parse().ok())?
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &b[19..];
    if rest.first() == Some(&b'.') {
        let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        rest = &rest[1 + digits..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hm = std::str::from_utf8(&[*h1, *h2, *m1, *m2])
                .ok()?
                .parse::<i64>()
                .ok()?;
            let secs = (hm / 100) * 3600 + (hm % 100) * 60;
            if *sign == b'+' {
                secs
            } else {
                -secs
            }
        }
        _ => return None,
    };
    let month_ok = (1..=12).contains(&month);
    if !month_ok
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            assert!(d >= 1 && d <= days_in_month(y, m));
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
        assert!(is_leap(2000) && !is_leap(1900) && is_leap(2024) && !is_leap(2026));
    }

    #[test]
    fn rfc3339_round_trips_and_refuses_nonsense() {
        for t in [0, 951_782_400, 1_795_566_030, -86_400, 4_102_444_799] {
            assert_eq!(
                parse_rfc3339(&format_rfc3339(t)),
                Some(t),
                "{}",
                format_rfc3339(t)
            );
        }
        assert_eq!(format_rfc3339(1_795_566_030), "2026-11-25T00:20:30Z");
        for t in (-62_200_000_000..300_000_000_000i64).step_by(7_919_999_977) {
            let (y, mo, d) = civil_from_days(t.div_euclid(86_400));
            let s = t.rem_euclid(86_400);
            let expected = format!(
                "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
                s / 3600,
                s / 60 % 60,
                s % 60
            );
            assert_eq!(format_rfc3339(t), expected, "{t}");
        }
        assert_eq!(format_rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(format_rfc3339(253_402_300_800), "10000-01-01T00:00:00Z");
        assert_eq!(
            parse_rfc3339("2026-11-25T02:20:30.250+02:00"),
            Some(1_795_566_030)
        );
        assert_eq!(parse_rfc3339("2026-11-24 19:20:30-05:00"), Some(1_795_566_030));
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some(951_782_400));
        for bad in [
            "",
            "2026-11-25",
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-25T24:00:00Z",
            "2026-11-25T10:20:30",
            "2026-11-25T10:20:30+2",
            "２０２６-11-25T10:20:30Z",
            "2026-11-25T10:20:30.Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}

//! UTC timestamps as RFC 3339 text (`2026-11-25T12:00:00Z`) and back, for audit records, grants
//! and their filters. Only the proleptic Gregorian calendar in UTC, to the second: what a log needs,
//! without a time-zone database.

/// Days since 1970-01-01 of a civil date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01 (`civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// `2026-11-25T12:00:00Z` for a Unix time in seconds.
pub fn rfc3339(unix: i64) -> String {
    let (days, seconds) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

/// Why a time could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a UTC time: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ")]
pub struct TimeError(pub String);

/// Reads `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM:SS[Z]` as Unix seconds.
pub fn parse_rfc3339(text: &str) -> Result<i64, TimeError> {
    let bad = || TimeError(text.to_string());
    let trimmed = text.trim().trim_end_matches(['Z', 'z']);
    let (date, clock) = match trimmed.split_once(['T', 't', ' ']) {
        Some((date, clock)) => (date, Some(clock)),
        None => (trimmed, None),
    };
    let number = |s: &str, digits: usize| -> Result<i64, TimeError> {
        if s.len() != digits || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let parts: Vec<&str> = date.split('-').collect();
    let [year, month, day] = parts.as_slice() else { return Err(bad()) };
    let (year, month, day) = (number(year, 4)?, number(month, 2)?, number(day, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    let seconds = match clock {
        None => 0,
        Some(clock) => {
            let parts: Vec<&str> = clock.split(':').collect();
            let [h, m, s] = parts.as_slice() else { return Err(bad()) };
            let (h, m, s) = (number(h, 2)?, number(m, 2)?, number(s, 2)?);
            if h > 23 || m > 59 || s > 60 {
                return Err(bad());
            }
            h * 3600 + m * 60 + s
        }
    };
    Ok(days_from_civil(year, month as u32, day as u32) * 86_400 + seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_known_values() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        // `date -u -d @1795609500`
        assert_eq!(rfc3339(1_795_609_500), "2026-11-25T12:25:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        for t in [0, 1, 86_399, 951_782_400, 1_795_609_500, 4_102_444_800] {
            assert_eq!(parse_rfc3339(&rfc3339(t)), Ok(t));
        }
        assert_eq!(parse_rfc3339("2026-11-25"), Ok(1_795_564_800));
        assert!(parse_rfc3339("25/11/2026").is_err());
        assert!(parse_rfc3339("2026-13-01").is_err());
        assert!(parse_rfc3339("2026-11-25T25:00:00Z").is_err());
    }
}

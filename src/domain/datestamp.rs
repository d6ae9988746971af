//! `Datestamp`: an instant in UTC with the granularity it was given in
//! (`YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ssZ`, OAI-PMH §3.3). Stored as Unix seconds.

use super::InvalidValue;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use std::fmt;

/// The two granularities OAI-PMH allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// `YYYY-MM-DD`
    Day,
    /// `YYYY-MM-DDThh:mm:ssZ`
    Second,
}

/// A UTC instant, with the granularity it was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datestamp {
    seconds: i64,
    granularity: Granularity,
}

impl Datestamp {
    /// Parses a datestamp argument. Offsets, fractions and a missing `Z` are refused, and
    /// so are values XML Schema's `date`/`dateTime` do not allow (the year 0000, a leap
    /// second `:60`): OAI-PMH.xsd types the `from`/`until` attributes with them.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let bad = |reason| InvalidValue::new("datestamp", value, reason);
        let b = value.as_bytes();
        let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
        if b.len() >= 4 && &b[..4] == b"0000" {
            return Err(bad("there is no year 0000"));
        }
        if b.len() == 20 && &b[17..19] == b"60" {
            return Err(bad("seconds run from 00 to 59"));
        }
        match b.len() {
            10 if digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10) => {
                let date = NaiveDate::parse_from_str(value, "%Y-%m-%d")
                    .map_err(|_| bad("no such date"))?;
                let seconds = date.and_hms_opt(0, 0, 0).map(|d| d.and_utc().timestamp());
                Ok(Datestamp {
                    seconds: seconds.ok_or_else(|| bad("no such date"))?,
                    granularity: Granularity::Day,
                })
            }
            20 if digits(0..4)
                && b[4] == b'-'
                && digits(5..7)
                && b[7] == b'-'
                && digits(8..10)
                && b[10] == b'T'
                && digits(11..13)
                && b[13] == b':'
                && digits(14..16)
                && b[16] == b':'
                && digits(17..19)
                && b[19] == b'Z' =>
            {
                let time = NaiveDateTime::parse_from_str(&value[..19], "%Y-%m-%dT%H:%M:%S")
                    .map_err(|_| bad("no such date or time"))?;
                Ok(Datestamp {
                    seconds: time.and_utc().timestamp(),
                    granularity: Granularity::Second,
                })
            }
            _ => Err(bad("use YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC)")),
        }
    }

    /// A second-granularity datestamp from Unix seconds.
    pub fn from_seconds(seconds: i64) -> Self {
        Datestamp {
            seconds,
            granularity: Granularity::Second,
        }
    }

    /// Unix seconds of the first instant this datestamp covers.
    pub fn seconds(&self) -> i64 {
        self.seconds
    }

    /// Unix seconds of the last instant this datestamp covers: a day-granularity
    /// `until` includes the whole day (23:59:59Z).
    pub fn last_second(&self) -> i64 {
        match self.granularity {
            Granularity::Day => self.seconds + 86_399,
            Granularity::Second => self.seconds,
        }
    }

    /// The granularity the value was written in.
    pub fn granularity(&self) -> Granularity {
        self.granularity
    }
}

impl fmt::Display for Datestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Written field by field: every header of a list page has a datestamp.
        let time = DateTime::<Utc>::from_timestamp(self.seconds, 0).unwrap_or_default();
        let (year, month, day) = (time.year(), time.month(), time.day());
        if !(0..=9999).contains(&year) {
            // chrono's own signs and widths for years beyond four digits.
            return match self.granularity {
                Granularity::Day => write!(f, "{}", time.format("%Y-%m-%d")),
                Granularity::Second => write!(f, "{}", time.format("%Y-%m-%dT%H:%M:%SZ")),
            };
        }
        match self.granularity {
            Granularity::Day => write!(f, "{year:04}-{month:02}-{day:02}"),
            Granularity::Second => write!(
                f,
                "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
                time.hour(),
                time.minute(),
                time.second()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_granularities_round_trip() {
        for text in ["2024-02-29", "2024-02-29T23:59:59Z"] {
            assert_eq!(Datestamp::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn offsets_fractions_and_missing_zone_are_refused() {
        for text in [
            "2024-02-29T23:59:59+01:00",
            "2024-02-29T23:59:59.5Z",
            "2024-02-29T23:59:59",
            "2024-2-29",
            "2023-02-29",
            "2024-02-29T24:00:00Z",
            "2024-02-29T12:00Z",
            "0000-01-01",
            "0000-01-01T00:00:00Z",
            "2016-12-31T23:59:60Z",
        ] {
            assert!(Datestamp::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn a_day_until_covers_the_whole_day() {
        let day = Datestamp::parse("2024-01-01").unwrap();
        let last = Datestamp::parse("2024-01-01T23:59:59Z").unwrap();
        assert_eq!(day.last_second(), last.seconds());
    }
}

//! Small display helpers.
use signaalhub_proto::pb;

/// The calendar date and time of `seconds` since the Unix epoch, in UTC; `None` out of the
/// range a date can name (years -9999..=9999).
fn civil(seconds: i64) -> Option<time::PrimitiveDateTime> {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .map(|t| time::PrimitiveDateTime::new(t.date(), t.time()))
}

/// Seconds since the Unix epoch as `YYYY-MM-DD HH:MM:SS UTC`, for people.
pub fn utc(seconds: i64) -> String {
    match civil(seconds) {
        Some(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        None => format!("{seconds} s after 1970-01-01 UTC"),
    }
}

/// Seconds since the Unix epoch as an RFC 3339 date in UTC, `YYYY-MM-DDTHH:MM:SSZ`, for scripts.
pub fn rfc3339(seconds: i64) -> String {
    match civil(seconds) {
        Some(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        None => format!("{seconds}"),
    }
}

/// A timestamp as RFC 3339 in JSON, or `null`.
pub fn ts(t: Option<&prost_types::Timestamp>) -> serde_json::Value {
    t.map(|t| serde_json::Value::String(rfc3339(t.seconds)))
        .unwrap_or(serde_json::Value::Null)
}

/// How far `seconds` lies from now, roughly: `in 29 days`, `3 hours ago`.
pub fn relative(seconds: i64) -> String {
    let d = seconds - now_unix();
    let a = d.unsigned_abs();
    let amount = match a {
        0..=119 => format!("{a} seconds"),
        120..=7_199 => format!("{} minutes", a / 60),
        7_200..=172_799 => format!("{} hours", a / 3_600),
        _ => format!("{} days", a / 86_400),
    };
    if d >= 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// Now, in seconds since the Unix epoch.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A month as the convenant counts it (docs/CONVENANT.md, "Periods"): a twelfth of a 365-day
/// year, so `--months 12` is 365 days and `--months 6` half of that.
pub const MONTH_SECS: i64 = 365 * 86_400 / 12;

/// `months` months from now (see [`MONTH_SECS`]).
pub fn months_from_now(months: u32) -> i64 {
    now_unix() + i64::from(months) * MONTH_SECS
}

/// A timestamp, or `-`.
pub fn when(t: Option<&prost_types::Timestamp>) -> String {
    t.map(|t| utc(t.seconds)).unwrap_or_else(|| "-".into())
}

/// `DELIVERY_STATE_WITHHELD` -> `WITHHELD`.
pub fn state_name(state: i32) -> String {
    pb::DeliveryState::try_from(state)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("DELIVERY_STATE_")
                .to_owned()
        })
        .unwrap_or_else(|_| format!("state {state}"))
}

/// `URGENCY_HIGH` -> `high`.
pub fn urgency_name(urgency: i32) -> String {
    pb::Urgency::try_from(urgency)
        .map(|u| {
            u.as_str_name()
                .trim_start_matches("URGENCY_")
                .to_lowercase()
        })
        .unwrap_or_else(|_| format!("urgency {urgency}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_767_225_599), "2025-12-31 23:59:59 UTC");
        assert_eq!(rfc3339(1_767_225_599), "2025-12-31T23:59:59Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(
            ts(Some(&prost_types::Timestamp {
                seconds: 951_782_400,
                nanos: 0
            })),
            serde_json::json!("2000-02-29T00:00:00Z")
        );
        assert_eq!(ts(None), serde_json::Value::Null);
        assert_eq!(
            utc(i64::MAX),
            format!("{} s after 1970-01-01 UTC", i64::MAX)
        );
        assert!(relative(now_unix() + 30 * 86_400 + 60).starts_with("in 30 days"));
        assert!(relative(now_unix() - 7_200).ends_with("hours ago"));
    }

    #[test]
    fn enum_names() {
        assert_eq!(state_name(pb::DeliveryState::Withheld as i32), "WITHHELD");
        assert_eq!(urgency_name(pb::Urgency::Acute as i32), "acute");
        assert_eq!(state_name(99), "state 99");
    }
}

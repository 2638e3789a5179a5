//! Small display helpers.
use signaalhub_proto::pb;

/// Seconds since the Unix epoch as `YYYY-MM-DD HH:MM:SS UTC` (proleptic Gregorian calendar).
pub fn utc(seconds: i64) -> String {
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
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
    }

    #[test]
    fn enum_names() {
        assert_eq!(state_name(pb::DeliveryState::Withheld as i32), "WITHHELD");
        assert_eq!(urgency_name(pb::Urgency::Acute as i32), "acute");
        assert_eq!(state_name(99), "state 99");
    }
}

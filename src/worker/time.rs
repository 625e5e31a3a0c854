//! Saturating time arithmetic for instants a server (or a file) chose. `SystemTime + Duration`
//! panics on overflow, and a token endpoint answering `expires_in: 1e23` must not be able to
//! take a worker thread down; these helpers clamp instead.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The furthest future any server-given instant is taken to mean: about a hundred years.
/// Far enough to be "never" for a token or a poll, near enough for every platform's clock.
pub const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `t + d`, clamped to `t + FAR_FUTURE` (and to what the platform can represent).
pub fn later(t: SystemTime, d: Duration) -> SystemTime {
    let d = d.min(FAR_FUTURE);
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(t)
}

/// `t - d`, clamped at the Unix epoch.
pub fn earlier(t: SystemTime, d: Duration) -> SystemTime {
    match t.checked_sub(d) {
        Some(e) if e >= UNIX_EPOCH => e,
        _ => UNIX_EPOCH.min(t),
    }
}

/// Seconds since the Unix epoch as an instant; huge values saturate at [`FAR_FUTURE`] from now.
pub fn from_unix_secs(secs: u64) -> SystemTime {
    let now = SystemTime::now();
    let limit = later(now, FAR_FUTURE);
    UNIX_EPOCH
        .checked_add(Duration::from_secs(secs))
        .map_or(limit, |t| t.min(limit))
}

/// `i + d` for monotonic instants, clamped like [`later`].
pub fn instant_later(i: Instant, d: Duration) -> Instant {
    let d = d.min(FAR_FUTURE);
    i.checked_add(d)
        .or_else(|| i.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_durations_saturate_instead_of_panicking() {
        let now = SystemTime::now();
        let far = later(now, Duration::from_secs(u64::MAX));
        assert!(far > now);
        assert!(far <= later(now, FAR_FUTURE));
        assert_eq!(
            earlier(UNIX_EPOCH, Duration::from_secs(u64::MAX)),
            UNIX_EPOCH
        );
        assert!(from_unix_secs(u64::MAX) > now);
        assert_eq!(from_unix_secs(10), UNIX_EPOCH + Duration::from_secs(10));
        let i = Instant::now();
        assert!(instant_later(i, Duration::MAX) > i);
    }
}

//! When to poll an export's status URL next. Pure: the caller says what the last answer was and
//! supplies the jitter, and gets a delay back.
//!
//! - A `Retry-After` from the server is honoured, clamped to [1 s, 1 h].
//! - Without one, polling starts at [`PollPolicy::initial`] (1 s) and slows by ×1.5 per answer up to a
//!   ceiling of 60 s: long exports are not hammered, short ones finish promptly.
//! - 429, 5xx and network failures back off exponentially from the current interval with jitter
//!   (so several jobs do not retry in step); they are not fatal.
//! - Without a hint the first status check follows the kick-off at once: an export that is ready
//!   (small, or served from a cache) is read without waiting a second. It is one request, not a
//!   loop; every poll after it is at least 1 s from the one before.
//! - Nothing else is ever sooner than 1 s.

use std::time::Duration;

/// Never poll more often than this.
pub const MIN_DELAY: Duration = Duration::from_secs(1);
/// A server's `Retry-After` is believed up to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

pub use crate::workspace::export_job::{PollPolicy, Schedule};

/// What the last poll came back with, as far as the schedule cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 202: still running.
    Running,
    /// 429, 503, another transient 5xx, or no answer at all (network).
    Trouble,
}

fn clamp(d: Duration, lo: Duration, hi: Duration) -> Duration {
    d.max(lo).min(hi)
}

impl Schedule {
    fn interval(&self, policy: &PollPolicy) -> Duration {
        if self.interval_ms == 0 {
            clamp(policy.initial, MIN_DELAY, policy.ceiling.max(MIN_DELAY))
        } else {
            Duration::from_millis(self.interval_ms)
        }
    }

    /// The delay before the first poll after kick-off: none, unless the kick-off's answer asked
    /// for one (`Retry-After`, clamped like any other). The pace is not advanced, so the poll after
    /// this check waits [`PollPolicy::initial`] (≥ 1 s).
    pub fn first(&mut self, policy: &PollPolicy, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(_) => self.next(policy, Answer::Running, retry_after, 0.0),
            None => Duration::ZERO,
        }
    }

    /// The delay before the next poll. `jitter` is in [0, 1) (from an RNG; fixed in tests).
    pub fn next(
        &mut self,
        policy: &PollPolicy,
        answer: Answer,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Duration {
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let ceiling = policy.ceiling.max(MIN_DELAY);
        let current = self.interval(policy);
        match answer {
            Answer::Running => {
                self.troubles = 0;
                if let Some(ra) = retry_after {
                    // The server knows best; keep our own pace for when it stops saying.
                    self.interval_ms = current.as_millis() as u64;
                    return clamp(ra, MIN_DELAY, MAX_RETRY_AFTER);
                }
                let factor = if policy.factor.is_finite() && policy.factor >= 1.0 {
                    policy.factor
                } else {
                    1.0
                };
                let grown = current.mul_f64(factor).min(ceiling);
                self.interval_ms = grown.as_millis() as u64;
                current.max(MIN_DELAY)
            }
            Answer::Trouble => {
                self.troubles = self.troubles.saturating_add(1);
                self.interval_ms = current.as_millis() as u64;
                if let Some(ra) = retry_after {
                    let ra = clamp(ra, MIN_DELAY, MAX_RETRY_AFTER);
                    // Honour it, spread a little so jobs throttled together do not return together.
                    return ra + ra.mul_f64(0.2 * jitter);
                }
                let exp = 2f64.powi(self.troubles.saturating_sub(1).min(16) as i32);
                let backoff = current
                    .max(Duration::from_secs(2))
                    .mul_f64(exp)
                    .min(ceiling);
                // "Equal jitter": between half and all of the back-off.
                backoff.mul_f64(0.5 + 0.5 * jitter).max(MIN_DELAY)
            }
        }
    }
}

/// A jitter value from the thread RNG.
pub fn random_jitter() -> f64 {
    rand::random::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn without_hints_starts_at_initial_and_backs_off_to_the_ceiling() {
        let p = PollPolicy::default();
        let mut s = Schedule::default();
        let mut got = vec![];
        for _ in 0..12 {
            got.push(s.next(&p, Answer::Running, None, 0.5));
        }
        assert_eq!(got[0], secs(1.0));
        assert_eq!(got[1], secs(1.5));
        assert_eq!(got[2], secs(2.25));
        assert!(got.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(*got.last().unwrap(), secs(60.0));
    }

    #[test]
    fn retry_after_is_honoured_and_clamped() {
        let p = PollPolicy::default();
        let mut s = Schedule::default();
        assert_eq!(s.next(&p, Answer::Running, Some(secs(2.0)), 0.9), secs(2.0));
        assert_eq!(s.next(&p, Answer::Running, Some(secs(0.0)), 0.9), secs(1.0));
        assert_eq!(
            s.next(&p, Answer::Running, Some(secs(86_400.0)), 0.9),
            secs(3600.0)
        );
        assert_eq!(
            s.next(
                &p,
                Answer::Running,
                Some(Duration::from_secs(u64::MAX)),
                0.9
            ),
            secs(3600.0)
        );
        // Hints do not advance our own pace.
        assert_eq!(s.next(&p, Answer::Running, None, 0.0), secs(1.0));
    }

    #[test]
    fn trouble_backs_off_with_jitter_and_recovers() {
        let p = PollPolicy::default();
        let mut s = Schedule::default();
        let a = s.next(&p, Answer::Trouble, None, 0.0);
        let b = s.next(&p, Answer::Trouble, None, 0.0);
        let c = s.next(&p, Answer::Trouble, None, 0.999);
        assert_eq!(a, secs(1.0)); // half of 2 s (the back-off starts at 2 s at least)
        assert_eq!(b, secs(2.0)); // half of 4 s
        assert!(c > secs(7.9) && c <= secs(8.0));
        for _ in 0..20 {
            let d = s.next(&p, Answer::Trouble, None, 1.0);
            assert!(d <= secs(60.0) && d >= MIN_DELAY);
        }
        assert_eq!(s.troubles, 23);
        // Jitter spreads the delay.
        let mut s1 = Schedule::default();
        let mut s2 = Schedule::default();
        assert_ne!(
            s1.next(&p, Answer::Trouble, None, 0.1),
            s2.next(&p, Answer::Trouble, None, 0.9)
        );
        // A 429 with Retry-After: at least what was asked.
        let d = s.next(&p, Answer::Trouble, Some(secs(1.0)), 0.5);
        assert!(d >= secs(1.0) && d <= secs(1.2));
        s.next(&p, Answer::Running, None, 0.0);
        assert_eq!(s.troubles, 0);
    }

    #[test]
    fn the_first_check_is_at_once_and_the_second_a_second_later() {
        let p = PollPolicy::default();
        let mut s = Schedule::default();
        assert_eq!(s.first(&p, None), Duration::ZERO);
        assert_eq!(s.next(&p, Answer::Running, None, 0.5), secs(1.0));
        assert_eq!(s.next(&p, Answer::Running, None, 0.5), secs(1.5));
        // A kick-off that says when to come back is believed, within the floor.
        let mut s = Schedule::default();
        assert_eq!(s.first(&p, Some(secs(5.0))), secs(5.0));
        assert_eq!(Schedule::default().first(&p, Some(secs(0.0))), secs(1.0));
        assert_eq!(s.next(&p, Answer::Running, None, 0.5), secs(1.0));
    }

    #[test]
    fn never_a_tight_loop() {
        let p = PollPolicy {
            initial: Duration::ZERO,
            factor: 0.0,
            ceiling: Duration::ZERO,
        };
        let mut s = Schedule::default();
        for i in 0..50 {
            let answer = if i % 3 == 0 {
                Answer::Trouble
            } else {
                Answer::Running
            };
            let ra = (i % 2 == 0).then_some(Duration::ZERO);
            assert!(s.next(&p, answer, ra, f64::NAN) >= MIN_DELAY);
        }
    }
}

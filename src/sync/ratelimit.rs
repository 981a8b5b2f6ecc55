//! The pacer: keeps a channel's sends under its rate profile (overall rate, and the
//! least gap per chat and per group), and holds back a single chat the platform asked to
//! wait for, without stalling the others.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::channels::RateProfile;

#[derive(Debug)]
pub struct Pacer {
    profile: RateProfile,
    next_overall: Instant,
    next_per_chat: HashMap<String, Instant>,
}

impl Pacer {
    pub fn new(profile: RateProfile, now: Instant) -> Pacer {
        Pacer { profile, next_overall: now, next_per_chat: HashMap::new() }
    }

    /// The earliest moment a message to `chat` may go.
    pub fn ready_at(&self, chat: &str) -> Instant {
        let chat_ready = self.next_per_chat.get(chat).copied().unwrap_or(self.next_overall);
        chat_ready.max(self.next_overall)
    }

    /// Records a send to `chat` at `now` (which must be at or after `ready_at`).
    pub fn record(&mut self, chat: &str, is_group: bool, now: Instant) {
        if let Some(rate) = self.profile.overall_per_sec {
            // Spacing sends evenly keeps every one-second window at or under the rate.
            self.next_overall = self.next_overall.max(now) + Duration::from_secs_f64(1.0 / rate);
        }
        let gap = if is_group { self.profile.per_group } else { self.profile.per_chat };
        if !gap.is_zero() {
            self.next_per_chat.insert(chat.to_string(), now + gap);
        }
        if self.next_per_chat.len() > 4096 {
            self.next_per_chat.retain(|_, t| *t > now);
        }
    }

    /// The platform asked us to leave `chat` alone for `wait`.
    pub fn hold(&mut self, chat: &str, until: Instant) {
        let entry = self.next_per_chat.entry(chat.to_string()).or_insert(until);
        *entry = (*entry).max(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> RateProfile {
        RateProfile {
            overall_per_sec: Some(10.0),
            per_chat: Duration::from_secs(1),
            per_group: Duration::from_secs(3),
            unanswered_per_hour: None,
        }
    }

    #[test]
    fn spaces_overall_and_per_chat() {
        let t0 = Instant::now();
        let mut p = Pacer::new(profile(), t0);
        assert_eq!(p.ready_at("a"), t0);
        p.record("a", false, t0);
        assert_eq!(p.ready_at("b"), t0 + Duration::from_millis(100));
        assert_eq!(p.ready_at("a"), t0 + Duration::from_secs(1));
        p.record("g", true, t0 + Duration::from_millis(100));
        assert_eq!(p.ready_at("g"), t0 + Duration::from_millis(3100));
    }

    #[test]
    fn a_hold_delays_only_its_chat() {
        let t0 = Instant::now();
        let mut p = Pacer::new(profile(), t0);
        p.hold("a", t0 + Duration::from_secs(5));
        assert_eq!(p.ready_at("a"), t0 + Duration::from_secs(5));
        assert_eq!(p.ready_at("b"), t0);
    }

    #[test]
    fn unlimited_never_waits() {
        let t0 = Instant::now();
        let mut p = Pacer::new(RateProfile::UNLIMITED, t0);
        for _ in 0..100 {
            p.record("a", false, t0);
        }
        assert_eq!(p.ready_at("a"), t0);
    }
}

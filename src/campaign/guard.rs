//! The rules that guard a running campaign, over store primitives: the consent re-check
//! just before each message goes, and the review after messages were dealt with, which
//! finishes a campaign or pulls its safety brake.

use crate::model::{CampaignId, MessageId, Millis};
use crate::store::{RecipientConsent, Result, ReviewFacts, Store};

/// Why a campaign message must not go now, if it must not: the customer blocked us, opted
/// out, or has no marketing consent on record any more.
pub fn consent_verdict(c: &RecipientConsent) -> Option<&'static str> {
    match (c.blocked, c.latest_marketing.as_deref()) {
        (true, _) => Some("blocked"),
        (false, Some("opt_in")) => None,
        (false, Some(_)) => Some("opted_out"),
        (false, None) => Some("no_consent"),
    }
}

/// Just before a message goes: true when it may; otherwise it is skipped with the reason.
/// A consent given back in the instant between the read and the skip only keeps one
/// promotion from going.
pub fn may_go(store: &mut Store, message: MessageId, now: Millis) -> Result<bool> {
    let Some(facts) = store.recipient_consent(message)? else { return Ok(true) };
    let Some(reason) = consent_verdict(&facts) else { return Ok(true) };
    let detail = format!("not sent: consent changed after the launch ({reason})");
    store.skip_campaign_message(message, reason, &detail, now)?;
    Ok(false)
}

/// What a review decides.
#[derive(Debug, Clone, PartialEq)]
pub enum Review {
    /// Messages are still queued and the brake holds.
    GoOn,
    /// Nothing is left to send.
    Finish,
    /// Too many went wrong: pause, saying why.
    Brake(String),
}

/// The brake pulls when failures plus opt-outs are more than `brake_share` of the
/// messages attempted, once `brake_min_sent` were attempted (a few early failures prove
/// nothing).
pub fn decide(f: &ReviewFacts) -> Review {
    if f.queued == 0 {
        return Review::Finish;
    }
    let attempted = f.sent + f.failed;
    let bad = f.failed + f.opted_out;
    if attempted < f.brake_min_sent.max(1) || (bad as f64) <= f.brake_share * attempted as f64 {
        return Review::GoOn;
    }
    Review::Brake(format!(
        "the safety brake: {bad} of {attempted} messages sent so far ({:.0}%) failed, were blocked or opted out; \
         the limit is {:.0}%",
        100.0 * bad as f64 / attempted as f64,
        100.0 * f.brake_share
    ))
}

/// Reviews a campaign after some of its messages were dealt with; returns the pause
/// reason when the brake was pulled just now.
pub fn review(store: &mut Store, id: CampaignId, now: Millis) -> Result<Option<String>> {
    let Some(facts) = store.review_facts(id)? else { return Ok(None) };
    match decide(&facts) {
        Review::GoOn => Ok(None),
        Review::Finish => {
            store.finish_campaign(id, now)?;
            Ok(None)
        }
        Review::Brake(reason) => Ok(store.pause_campaign(id, &reason)?.then_some(reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(queued: i64, sent: i64, failed: i64, opted_out: i64) -> ReviewFacts {
        ReviewFacts { queued, sent, failed, opted_out, brake_share: 0.05, brake_min_sent: 20 }
    }

    #[test]
    fn the_brake_waits_for_enough_sends_then_pulls_past_the_share() {
        assert_eq!(decide(&facts(0, 10, 0, 0)), Review::Finish);
        assert_eq!(decide(&facts(5, 10, 5, 0)), Review::GoOn, "too few attempted to judge");
        assert_eq!(decide(&facts(5, 99, 1, 4)), Review::GoOn, "5 of 100 is the limit, not past it");
        assert!(matches!(decide(&facts(5, 98, 2, 4)), Review::Brake(r) if r.contains("6 of 100")));
    }

    #[test]
    fn consent_verdicts() {
        let c =
            |latest: Option<&str>, blocked| RecipientConsent { latest_marketing: latest.map(String::from), blocked };
        assert_eq!(consent_verdict(&c(Some("opt_in"), false)), None);
        assert_eq!(consent_verdict(&c(Some("opt_in"), true)), Some("blocked"));
        assert_eq!(consent_verdict(&c(Some("opt_out"), false)), Some("opted_out"));
        assert_eq!(consent_verdict(&c(None, false)), Some("no_consent"));
    }
}

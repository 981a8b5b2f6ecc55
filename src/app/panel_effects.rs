//! The effects of the segment and campaign panel and the contact card, performed off the
//! loop like the others (`effects`): counting and sampling a filter, saving segments,
//! planning and launching campaigns, steering them, and reading and editing a contact.

use crate::campaign::preview::Preview;
use tokio::sync::mpsc;

use super::action::{self, Action, Effect};
use crate::store::{SharedStore, Store};
use crate::sync::Engine;

pub(super) fn perform(effect: Effect, store: SharedStore, tx: mpsc::UnboundedSender<Action>, engine: Option<&Engine>) {
    match effect {
        Effect::LoadSegment { generation, filter } => {
            tokio::spawn(async move {
                let result = store
                    .run(move |s| {
                        let filter = crate::campaign::Filter::parse(&filter).map_err(|e| e.to_string())?;
                        let condition = filter.condition(crate::model::now_ms());
                        let count = s.count_members(&condition).map_err(|e| e.to_string())?;
                        let sample = s.sample_members(&condition, SAMPLE).map_err(|e| e.to_string())?;
                        Ok((count, sample))
                    })
                    .await;
                let _ = tx.send(Action::SegmentLoaded { generation, result });
            });
        }
        Effect::ListSegments => {
            tokio::spawn(async move {
                match store.run(|s| s.segments()).await {
                    Ok(list) => tx.send(Action::SegmentsListed(list)),
                    Err(e) => tx.send(Action::Error(format!("loading segments: {e}"))),
                }
            });
        }
        Effect::SaveSegment { name, filter } => {
            tokio::spawn(async move {
                let result = store
                    .run(move |s| {
                        s.save_segment(&name, &filter, crate::model::now_ms())
                            .map(|_| format!("segment `{name}` saved"))
                    })
                    .await
                    .map_err(|e| e.to_string());
                let _ = tx.send(Action::Done(result));
                if let Ok(list) = store.run(|s| s.segments()).await {
                    let _ = tx.send(Action::SegmentsListed(list));
                }
            });
        }
        Effect::PlanCampaign { generation, filter, message, policy } => {
            tokio::spawn(async move {
                let result = store
                    .run(move |s| {
                        let filter = crate::campaign::Filter::parse(&filter).map_err(|e| e.to_string())?;
                        Preview::make(s, &filter, &message, &policy, crate::model::now_ms()).map_err(|e| e.to_string())
                    })
                    .await;
                let _ = tx.send(Action::Planned { generation, result });
            });
        }
        Effect::RenderPreview { generation, at, contacts, message, policy } => {
            tokio::spawn(async move {
                let result = store
                    .run(move |s| {
                        Preview::render(s, &contacts, &message, &policy, crate::model::now_ms())
                            .map_err(|e| e.to_string())
                    })
                    .await;
                let _ = tx.send(Action::PreviewRendered { generation, at, result });
            });
        }
        Effect::LaunchCampaign { name, segment, filter, message, policy } => {
            let wake = engine.map(Engine::waker);
            tokio::spawn(async move {
                let result = store
                    .run(move |s| {
                        let launched = crate::campaign::launch::launch(
                            s,
                            &name,
                            segment.as_deref(),
                            &filter,
                            &message,
                            &policy,
                            crate::model::now_ms(),
                        )?;
                        Ok::<_, crate::store::StoreError>(format!(
                            "campaign `{name}` launched: {} messages queued, {} excluded",
                            launched.plan.totals.included, launched.plan.totals.excluded
                        ))
                    })
                    .await
                    .map_err(|e| e.to_string());
                if let Some(wake) = wake {
                    wake.notify_waiters();
                }
                let _ = tx.send(Action::Launched(result));
            });
        }
        Effect::LoadCampaigns { finished_too, results_of } => {
            tokio::spawn(async move {
                let result = store
                    .run(move |s| {
                        let mut campaigns = s.active_campaigns()?;
                        // The latest finished ones too, for their results.
                        let recent = if finished_too { RECENT_CAMPAIGNS } else { 0 };
                        for name in s.campaign_names()?.into_iter().take(recent) {
                            if !campaigns.iter().any(|c| c.name == name) {
                                campaigns.push(s.campaign_status(&name)?);
                            }
                        }
                        let results = match results_of {
                            Some(name) => Some(crate::campaign::results::of(s, &name)?),
                            None => None,
                        };
                        Ok::<_, crate::store::StoreError>((campaigns, results))
                    })
                    .await;
                let action = match result {
                    Ok((campaigns, results)) => Action::CampaignsLoaded { campaigns, results },
                    Err(e) => Action::Error(format!("loading campaigns: {e}")),
                };
                let _ = tx.send(action);
            });
        }
        Effect::SetCampaignState { name, to } => {
            let wake = engine.map(Engine::waker);
            tokio::spawn(async move {
                let reason = (to == "paused").then_some("paused by hand");
                let result = store
                    .run(move |s| {
                        s.set_campaign_state(&name, &to, reason, crate::model::now_ms())
                            .map(|c| format!("campaign `{}` is {}", c.name, c.state))
                    })
                    .await
                    .map_err(|e| e.to_string());
                if let Some(wake) = wake {
                    wake.notify_waiters();
                }
                let _ = tx.send(Action::Done(result));
                let _ = tx.send(Action::StoreChanged);
            });
        }
        Effect::LoadContact(contact) => {
            tokio::spawn(async move {
                let result = store.run(move |s| s.contact_card(contact)).await.map_err(|e| e.to_string());
                let _ = tx.send(Action::ContactLoaded(result));
            });
        }
        Effect::EditContact { contact, edit } => {
            tokio::spawn(async move {
                let result = store.run(move |s| edit_contact(s, contact, edit)).await.map_err(|e| e.to_string());
                let _ = tx.send(Action::Done(result));
                let card = store.run(move |s| s.contact_card(contact)).await.map_err(|e| e.to_string());
                let _ = tx.send(Action::ContactLoaded(card));
            });
        }
        _ => {}
    }
}

/// Members shown in the segment panel's sample.
const SAMPLE: usize = 12;
/// Finished campaigns the panel lists besides those under way.
const RECENT_CAMPAIGNS: usize = 5;

/// A macro's reply queued, then its steps, in order; what was done, said for the
/// status bar. A step that fails stops the rest (what is done stays done).
pub(super) fn run_macro(
    s: &mut Store,
    conversation: crate::model::ConversationId,
    reply: Option<&str>,
    author: &str,
    steps: &[super::macros::Step],
) -> crate::store::Result<String> {
    use super::macros::Step;
    let mut did = Vec::new();
    if let Some(text) = reply {
        s.enqueue(conversation, text, author, crate::store::PRIORITY_REPLY, crate::model::now_ms())?;
        did.push("replied".to_string());
    }
    for step in steps {
        did.push(match step {
            Step::Status(status) => {
                s.set_status(conversation, *status)?;
                status.as_str().to_string()
            }
            Step::Snooze(until) => {
                s.snooze(conversation, *until)?;
                "snoozed".into()
            }
            Step::Tag(contact, tag) => {
                s.add_tag(*contact, tag)?;
                format!("tagged {tag}")
            }
            Step::Stage(contact, stage) => {
                s.set_stage(*contact, stage)?;
                format!("stage {stage}")
            }
            Step::Assign(agent) => {
                s.assign(conversation, agent.as_deref())?;
                match agent {
                    Some(a) => format!("assigned to {a}"),
                    None => "unassigned".into(),
                }
            }
        });
    }
    Ok(did.join(", "))
}

fn edit_contact(
    s: &mut Store,
    contact: crate::model::ContactId,
    edit: action::ContactEdit,
) -> crate::store::Result<String> {
    use action::ContactEdit;
    Ok(match edit {
        ContactEdit::ToggleTag(tag) => {
            if s.toggle_tag(contact, &tag)? {
                format!("tagged {tag}")
            } else {
                format!("tag {tag} removed")
            }
        }
        ContactEdit::Stage(stage) => {
            s.set_stage(contact, &stage)?;
            format!("stage: {stage}")
        }
        ContactEdit::Attribute(name, value) => {
            s.set_attribute(contact, &name, &value)?;
            if value.is_empty() { format!("{name} removed") } else { format!("{name} = {value}") }
        }
        ContactEdit::Phone(number) => {
            let region = s.phone_region();
            let e164 = s.claim_phone(contact, &number, region, "agent", crate::model::now_ms())?;
            format!("phone {e164} recorded (claimed)")
        }
        ContactEdit::TimeZone(zone) => {
            s.set_time_zone(contact, &zone)?;
            format!("time zone: {}", if zone.is_empty() { "the default" } else { &zone })
        }
        ContactEdit::Consent { channel, opt_in, note, by } => {
            s.record_agent_consent(contact, channel, "marketing", opt_in, &note, &by, crate::model::now_ms())?;
            format!("marketing {} on {} recorded", if opt_in { "opt-in" } else { "opt-out" }, channel.display_name())
        }
    })
}

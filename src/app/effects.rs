//! The console's effects performed: each store read or write `update` asked for runs on
//! the blocking pool, off the loop, and its result comes back as an `Action`.

use tokio::sync::mpsc;

use super::action::{self, Action, Effect, MessageRequest};
use super::state;
use crate::store::{SharedStore, Store};
use crate::sync::Engine;

/// Performs one effect off the loop; its result comes back as an action.
pub(super) fn perform(
    effect: Effect,
    store: &SharedStore,
    tx: &mpsc::UnboundedSender<Action>,
    engine: Option<&Engine>,
) {
    let (store, tx) = (store.clone(), tx.clone());
    match effect {
        Effect::SaveDrafts { agent, drafts } => {
            tokio::spawn(async move {
                let saved = store.run(move |s| s.save_drafts(&agent, &drafts, crate::model::now_ms())).await;
                if let Err(e) = saved {
                    let _ = tx.send(Action::Error(format!("cannot keep the draft: {e}")));
                }
            });
        }
        Effect::LoadDrafts { agent } => {
            tokio::spawn(async move {
                let action = match store.run(move |s| s.drafts(&agent)).await {
                    Ok(drafts) => Action::DraftsLoaded(drafts),
                    Err(e) => Action::Error(format!("cannot read the drafts: {e}")),
                };
                let _ = tx.send(action);
            });
        }
        Effect::LoadList { generation, filter, after, limit } => {
            tokio::spawn(async move {
                let action = match store.run(move |s| s.conversations_page(filter, after, limit)).await {
                    Ok(rows) => Action::ListLoaded { generation, after, limit, rows },
                    Err(e) => Action::Error(format!("loading conversations: {e}")),
                };
                let _ = tx.send(action);
            });
        }
        Effect::LoadMessages { conversation, request } => {
            tokio::spawn(async move {
                let result = store.run(move |s| read_messages(s, conversation, request)).await;
                let action = match result {
                    Ok(rows) => Action::MessagesLoaded { conversation, request, rows },
                    Err(e) => Action::Error(format!("loading messages: {e}")),
                };
                let _ = tx.send(action);
            });
        }
        Effect::Enqueue { conversation, text, author } => {
            let wake = engine.map(Engine::waker);
            tokio::spawn(async move {
                let result = store
                    .run(move |s| {
                        s.enqueue(conversation, &text, &author, crate::store::PRIORITY_REPLY, crate::model::now_ms())
                    })
                    .await;
                if let Some(wake) = wake {
                    wake.notify_waiters();
                }
                let _ = tx.send(Action::Enqueued(result.map(|_| ()).map_err(|e| e.to_string())));
                let _ = tx.send(Action::StoreChanged);
            });
        }
        Effect::EnqueueOutgoing { conversation, outgoing, author } => {
            let wake = engine.map(Engine::waker);
            tokio::spawn(async move {
                let result = store
                    .run(move |s| {
                        s.enqueue_message(
                            conversation,
                            &outgoing,
                            &author,
                            crate::store::PRIORITY_REPLY,
                            crate::model::now_ms(),
                        )
                    })
                    .await;
                if let Some(wake) = wake {
                    wake.notify_waiters();
                }
                let _ = tx.send(Action::Enqueued(result.map(|_| ()).map_err(|e| e.to_string())));
                let _ = tx.send(Action::StoreChanged);
            });
        }
        Effect::MarkRead { conversation, agent } => {
            tokio::spawn(async move {
                if let Err(e) = store.run(move |s| s.mark_read(conversation, &agent)).await {
                    let _ = tx.send(Action::Error(e.to_string()));
                }
                let _ = tx.send(Action::StoreChanged);
            });
        }
        Effect::SetStatus(conversation, status) => {
            tokio::spawn(async move {
                if let Err(e) = store.run(move |s| s.set_status(conversation, status)).await {
                    let _ = tx.send(Action::Error(e.to_string()));
                }
                let _ = tx.send(Action::StoreChanged);
            });
        }
        Effect::Snooze(conversation, until) => {
            tokio::spawn(async move {
                if let Err(e) = store.run(move |s| s.snooze(conversation, until)).await {
                    let _ = tx.send(Action::Error(e.to_string()));
                }
                let _ = tx.send(Action::StoreChanged);
            });
        }
        Effect::Notify { kind, title, body, desktop } => {
            let in_tmux = std::env::var_os("TMUX").is_some();
            let bytes = super::notify::sequence(kind, &title, &body, desktop, in_tmux);
            if !bytes.is_empty() {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(bytes.as_bytes()).and_then(|()| out.flush());
            }
        }
        Effect::Heartbeat { console, agent, conversation, typing, mentions_since } => {
            tokio::spawn(async move {
                let now = crate::model::now_ms();
                let me = agent.clone();
                match store.run(move |s| s.mentions(&me, mentions_since)).await {
                    Ok(m) if !m.is_empty() => {
                        let _ = tx.send(Action::Mentioned(m));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "cannot read mentions"),
                }
                let others = store
                    .run(move |s| {
                        s.heartbeat(&console, &agent, conversation, typing, now, super::presence::PRESENCE_FRESH)
                    })
                    .await;
                match (others, conversation) {
                    (Ok(others), Some(conversation)) => {
                        let _ = tx.send(Action::Presence { conversation, others });
                    }
                    (Ok(_), None) => {}
                    (Err(e), _) => tracing::debug!(error = %e, "presence heartbeat failed"),
                }
            });
        }
        Effect::Search { generation, query } => {
            tokio::spawn(async move {
                let result = store
                    .run(move |s| {
                        let mut hits = s.find_conversations(&query, 8)?;
                        hits.extend(s.search(&query, None, super::search::HITS)?);
                        Ok::<_, crate::store::StoreError>(hits)
                    })
                    .await
                    .map_err(|e| e.to_string());
                let _ = tx.send(Action::Found { generation, result });
            });
        }
        Effect::OpenConversation { conversation, found } => {
            tokio::spawn(async move {
                let result = store.run(move |s| s.conversation(conversation)).await.map_err(|e| e.to_string());
                let _ = tx.send(Action::ConversationRead { result, found });
            });
        }
        Effect::FindMatch { conversation, query, from, forward } => {
            tokio::spawn(async move {
                let q = query.clone();
                let result =
                    store.run(move |s| s.next_match(conversation, &q, from, forward)).await.map_err(|e| e.to_string());
                let _ = tx.send(Action::Matched { conversation, query, forward, result });
            });
        }
        Effect::ChangeMessage { message, change } => {
            let wake = engine.map(Engine::waker);
            tokio::spawn(async move {
                let what = change.what();
                match store.run(move |s| s.request_change(message, &change, crate::model::now_ms())).await {
                    Ok(Ok(())) => {
                        if let Some(wake) = wake {
                            wake.notify_waiters();
                        }
                        let _ = tx.send(Action::StoreChanged);
                    }
                    Ok(Err(why)) => drop(tx.send(Action::Error(format!("cannot {what} it: {why}")))),
                    Err(e) => drop(tx.send(Action::Error(format!("cannot {what} it: {e}")))),
                }
            });
        }
        Effect::WakeSnoozed(now) => {
            tokio::spawn(async move {
                let woken = store.run(move |s| match s.next_wake()? {
                    Some(due) if due <= now => crate::sync::scheduler::tick(s, now),
                    _ => Ok(Vec::new()),
                });
                match woken.await {
                    Ok(woken) if !woken.is_empty() => drop(tx.send(Action::StoreChanged)),
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "cannot wake snoozed conversations"),
                }
            });
        }
        Effect::RenderCanned { conversation, which, agent, replace } => {
            tokio::spawn(async move {
                let result = match store.run(move |s| s.render_canned(&which, conversation, &agent)).await {
                    Ok(rendered) => rendered,
                    Err(e) => Err(e.to_string()),
                };
                let _ = tx.send(Action::CannedRendered { conversation, replace, result });
            });
        }
        Effect::LoadCanned { conversation, agent } => {
            tokio::spawn(async move {
                let loaded = store
                    .run(move |s| {
                        let all = s.canned()?;
                        let mut out = Vec::with_capacity(all.len());
                        for c in all {
                            let rendered = s.render_canned(&c.name, conversation, &agent)?;
                            out.push((c, rendered));
                        }
                        Ok::<_, crate::store::StoreError>(out)
                    })
                    .await;
                match loaded {
                    Ok(list) => drop(tx.send(Action::CannedLoaded(list))),
                    Err(e) => drop(tx.send(Action::Error(format!("cannot read the canned replies: {e}")))),
                }
            });
        }
        Effect::SaveCanned(canned) => {
            tokio::spawn(async move {
                let name = canned.name.clone();
                let result = match store.run(move |s| s.save_canned(&canned, crate::model::now_ms())).await {
                    Ok(Ok(())) => Ok(format!("canned reply `{name}` saved")),
                    Ok(Err(why)) => Err(format!("not saved: {why}")),
                    Err(e) => Err(format!("not saved: {e}")),
                };
                let _ = tx.send(Action::Done(result));
            });
        }
        Effect::LoadAgents => {
            tokio::spawn(async move {
                match store.run(|s| s.agents()).await {
                    Ok(agents) => drop(tx.send(Action::AgentsLoaded(agents))),
                    Err(e) => drop(tx.send(Action::Error(format!("cannot read the agents: {e}")))),
                }
            });
        }
        Effect::LoadMuted { agent } => {
            tokio::spawn(async move {
                if let Ok(muted) = store.run(move |s| s.muted(&agent)).await {
                    let _ = tx.send(Action::MutedLoaded(muted));
                }
            });
        }
        Effect::Mute { agent, conversation, muted } => {
            tokio::spawn(async move {
                if let Err(e) = store.run(move |s| s.set_muted(&agent, conversation, muted)).await {
                    let _ = tx.send(Action::Error(format!("cannot keep the mute: {e}")));
                }
            });
        }
        Effect::AddNote { conversation, text, author } => {
            tokio::spawn(async move {
                let added = store.run(move |s| s.add_note(conversation, &author, &text, crate::model::now_ms())).await;
                if let Err(e) = added {
                    let _ = tx.send(Action::Error(e.to_string()));
                }
                let _ = tx.send(Action::StoreChanged);
            });
        }
        Effect::Assign(conversation, agent) => {
            tokio::spawn(async move {
                if let Err(e) = store.run(move |s| s.assign(conversation, agent.as_deref())).await {
                    let _ = tx.send(Action::Error(e.to_string()));
                }
                let _ = tx.send(Action::StoreChanged);
            });
        }
        Effect::Resend(conversation, agent) => {
            let wake = engine.map(Engine::waker);
            tokio::spawn(async move {
                match store.run(move |s| s.resend_failed(conversation, &agent, crate::model::now_ms())).await {
                    Ok(0) => {
                        let _ = tx.send(Action::Error("nothing has failed here".into()));
                    }
                    Ok(_) => {
                        if let Some(wake) = wake {
                            wake.notify_waiters();
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Action::Error(e.to_string()));
                    }
                }
                let _ = tx.send(Action::StoreChanged);
            });
        }
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
                        crate::campaign::launch::plan(s, &filter, &message, &policy, crate::model::now_ms())
                            .map_err(|e| e.to_string())
                    })
                    .await;
                let _ = tx.send(Action::Planned { generation, result });
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
        Effect::Suspend | Effect::ExternalEditor { .. } | Effect::Quit => {}
    }
}

/// Members shown in the segment panel's sample.
const SAMPLE: usize = 12;
/// Finished campaigns the panel lists besides those under way.
const RECENT_CAMPAIGNS: usize = 5;

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

/// The messages a `MessageRequest` asks for, oldest first (the benchmarks read them the
/// same way).
pub fn read_messages(
    s: &Store,
    conversation: crate::model::ConversationId,
    request: MessageRequest,
) -> Result<Vec<crate::store::MessageRow>, crate::store::StoreError> {
    use crate::store::MessageKey;
    match request {
        MessageRequest::Latest { limit } => s.messages_before(conversation, None, limit),
        MessageRequest::Oldest { limit } => s.messages_after(
            conversation,
            MessageKey { sent_at: i64::MIN, id: crate::model::MessageId(i64::MIN) },
            limit,
        ),
        MessageRequest::Older { before, limit } => s.messages_before(conversation, Some(before), limit),
        MessageRequest::Newer { after, limit } => s.messages_after(conversation, after, limit),
        MessageRequest::Refresh { from, to } => s.messages_between(conversation, from, to, state::MESSAGE_WINDOW),
        MessageRequest::Around { at, limit } => {
            let mut rows = s.messages_before(conversation, Some(at), limit)?;
            // From just before the match: the match itself comes first.
            let from = MessageKey { sent_at: at.sent_at, id: crate::model::MessageId(at.id.0 - 1) };
            rows.extend(s.messages_after(conversation, from, limit)?);
            Ok(rows)
        }
    }
}

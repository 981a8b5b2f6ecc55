//! The console's effects performed: each store read or write `update` asked for runs on
//! the blocking pool, off the loop, and its result comes back as an `Action`.

use tokio::sync::mpsc;

use super::action::{Action, Effect, MessageRequest};
use super::state;
use crate::store::{SharedStore, Store};
use crate::sync::Engine;

/// Performs one effect off the loop; its result comes back as an action.
pub(super) fn perform(
    effect: Effect,
    store: &SharedStore,
    tx: &mpsc::UnboundedSender<Action>,
    engine: Option<&Engine>,
    channels: &[crate::channels::Channel],
) {
    let (store, tx) = (store.clone(), tx.clone());
    match effect {
        Effect::ListDir { .. } | Effect::Attach { .. } | Effect::LoadMedia { .. } | Effect::Download { .. } => {
            super::file_effects::perform(effect, store, tx, engine, channels)
        }
        Effect::SaveDrafts { agent, drafts } => {
            tokio::spawn(async move {
                let saved = store.run(move |s| s.save_drafts(&agent, &drafts, crate::model::now_ms())).await;
                if let Err(e) = saved {
                    let _ = tx.send(Action::Error(format!("cannot keep the draft: {e}")));
                }
            });
        }
        Effect::LoadSpeller(config) => {
            tokio::task::spawn_blocking(move || {
                let (speller, problems) = crate::spell::dictionaries::load_all(&config);
                let _ = tx.send(Action::SpellLoaded { speller: std::sync::Arc::new(speller), problems });
            });
        }
        Effect::Suggest { speller, word } => {
            tokio::task::spawn_blocking(move || {
                let corrections = speller.suggest(&word);
                let _ = tx.send(Action::Suggested { word, corrections });
            });
        }
        Effect::LoadRemembered { agent } => {
            tokio::spawn(async move {
                match store.run(move |s| s.spell_words(&agent)).await {
                    Ok(words) => {
                        let _ = tx.send(Action::Remembered(words));
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot read the agent's dictionary"),
                }
            });
        }
        Effect::RememberWord { agent, word } => {
            tokio::spawn(async move {
                let kept = store.run(move |s| s.remember_word(&agent, &word, crate::model::now_ms())).await;
                if let Err(e) = kept {
                    let _ = tx.send(Action::Error(format!("cannot keep the word in your dictionary: {e}")));
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
                let woken = store.run(move |s| crate::sync::scheduler::tick(s, now));
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
        Effect::LoadPolls => {
            tokio::spawn(async move {
                let result = store.run(|s| s.polls()).await.map_err(|e| e.to_string());
                let _ = tx.send(Action::PollsLoaded(result));
            });
        }
        Effect::LoadAutomation => {
            tokio::spawn(async move {
                let result = store.run(|s| s.automation_fired()).await.map_err(|e| e.to_string());
                let _ = tx.send(Action::AutomationLoaded(result));
            });
        }
        Effect::LoadReports { period, context, generation } => {
            tokio::spawn(async move {
                let result =
                    store.run(move |s| super::reports::ReportData::read(s, &period, &context)).await.map(Box::new);
                let _ = tx.send(Action::ReportsLoaded { generation, result });
            });
        }
        Effect::LoadMacros => {
            tokio::spawn(async move {
                match store.run(|s| s.canned()).await {
                    Ok(all) => drop(tx.send(Action::MacrosLoaded(all))),
                    Err(e) => drop(tx.send(Action::Error(format!("cannot read the macros: {e}")))),
                }
            });
        }
        Effect::RenderMacro { conversation, name, agent } => {
            tokio::spawn(async move {
                let which = name.clone();
                let result = match store.run(move |s| s.render_canned(&which, conversation, &agent)).await {
                    Ok(rendered) => rendered,
                    Err(e) => Err(e.to_string()),
                };
                let _ = tx.send(Action::MacroRendered { name, result });
            });
        }
        Effect::RunMacro { name, conversation, reply, author, steps } => {
            let wake = engine.map(Engine::waker);
            tokio::spawn(async move {
                let done = store
                    .run(move |s| super::panel_effects::run_macro(s, conversation, reply.as_deref(), &author, &steps))
                    .await;
                if let Some(wake) = wake {
                    wake.notify_waiters();
                }
                let result = match done {
                    Ok(did) => Ok(format!("`{name}`: {did}")),
                    Err(e) => Err(format!("`{name}` stopped: {e}")),
                };
                let _ = tx.send(Action::Done(result));
                let _ = tx.send(Action::StoreChanged);
            });
        }
        Effect::SaveCanned(canned) => {
            tokio::spawn(async move {
                let name = canned.name.clone();
                let result = match store.run(move |s| s.save_canned(&canned, crate::model::now_ms())).await {
                    Ok(Ok(())) => {
                        // A macro saved here runs by its key at once.
                        if let Ok(all) = store.run(|s| s.canned()).await {
                            let _ = tx.send(Action::MacrosLoaded(all));
                        }
                        Ok(format!("canned reply `{name}` saved"))
                    }
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
        Effect::Mute { agent, conversation, muted } => {
            tokio::spawn(async move {
                if let Err(e) = store.run(move |s| s.set_muted(&agent, conversation, muted)).await {
                    let _ = tx.send(Action::Error(format!("cannot keep the mute: {e}")));
                }
                let _ = tx.send(Action::StoreChanged);
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
        panel @ (Effect::LoadSegment { .. }
        | Effect::ListSegments
        | Effect::SaveSegment { .. }
        | Effect::PlanCampaign { .. }
        | Effect::RenderPreview { .. }
        | Effect::LaunchCampaign { .. }
        | Effect::LoadCampaigns { .. }
        | Effect::SetCampaignState { .. }
        | Effect::LoadContact(_)
        | Effect::EditContact { .. }) => super::panel_effects::perform(panel, store, tx, engine),
        Effect::Person(request) => super::person::perform(request, store, tx),
        Effect::Suspend | Effect::ExternalEditor { .. } | Effect::Quit => {}
    }
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

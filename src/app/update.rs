//! `update`: the only code that changes the console's state. It does no I/O; what it
//! needs done comes back as `Effect`s.

use crossterm::event::{KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};

use super::action::{Action, Effect};
use super::overlay::Overlay;
use super::state::{AppState, ComposerMode, EngineView, Focus, NOTICE_MS, Notice};
use super::{conversation, list};
use crate::keymap::{Command, Context};
use crate::text;

pub fn update(s: &mut AppState, action: Action) -> Vec<Effect> {
    s.unchanged = false;
    let effects = apply(s, action);
    // Whatever changed the draft, its misspelled words are the ones underlined.
    super::spell::refresh(s);
    effects
}

fn apply(s: &mut AppState, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(key) => on_key(s, key),
        Action::Paste(pasted) => {
            if matches!(s.overlay, Overlay::Campaign) {
                return super::campaign_panel::paste(s, &pasted);
            }
            if s.open.is_none() || !s.overlay.is_none() {
                return Vec::new();
            }
            set_focus(s, Focus::Composer);
            // Terminals send CR for line breaks in a bracketed paste.
            s.composer.insert_str(pasted.replace("\r\n", "\n").replace('\r', "\n"));
            Vec::new()
        }
        Action::Mouse(m) => on_mouse(s, m),
        Action::Found { generation, result } => match result {
            Ok(hits) => super::search::found(s, generation, hits),
            Err(e) => {
                notify(s, format!("search failed: {e}"), true);
                Vec::new()
            }
        },
        Action::ConversationRead { result, found } => match result {
            Ok(row) => {
                let mut effects = super::list::open(s, row, found);
                effects.extend(set_focus(s, Focus::Conversation));
                effects
            }
            Err(e) => {
                notify(s, format!("cannot open the conversation: {e}"), true);
                Vec::new()
            }
        },
        Action::Focus(focused) => {
            s.focused = focused;
            Vec::new()
        }
        Action::Resize(w, h) => {
            s.size = (w, h);
            list::keep_selection_visible(s);
            Vec::new()
        }
        Action::Tick(now) => {
            s.now = now;
            if s.notice.as_ref().is_some_and(|n| now - n.at > NOTICE_MS) {
                s.notice = None;
            }
            // Drafts reach the store within a second of typing: a crash loses at most that.
            let mut effects = save_drafts(s);
            effects.extend(super::presence::heartbeat(s));
            // Every console wakes what is due by its clock, so snoozes come back on time
            // even with no engine running (a read, and a write only when one is due).
            effects.push(Effect::WakeSnoozed(now));
            effects
        }
        Action::Mentioned(notes) => super::presence::mentioned(s, notes),
        Action::Presence { conversation, others } => super::presence::others(s, conversation, others),
        Action::DraftsLoaded(drafts) => {
            for (conversation, text) in drafts {
                s.saved_drafts.insert(conversation, text.clone());
                if s.open_id() == Some(conversation) {
                    if s.composer.is_empty() && s.mode.keeps_draft() {
                        s.composer.insert_str(&text);
                    }
                } else {
                    s.drafts.entry(conversation).or_insert_with(|| {
                        let mut area = ratatui_textarea::TextArea::default();
                        area.insert_str(&text);
                        area
                    });
                }
            }
            Vec::new()
        }
        Action::StoreChanged => {
            let mut effects = list::refresh(s);
            effects.extend(conversation::refresh(s));
            effects.push(load_campaigns(s));
            // The member count is live: a STOP or an import changes it.
            if s.campaign_panel_open() {
                effects.extend(super::campaign_panel::count(s));
            }
            if let Some(panel) = s.contact_panel() {
                effects.push(Effect::LoadContact(panel.contact));
            }
            effects
        }
        Action::SegmentLoaded { generation, result } => {
            if let Some(panel) = s.campaign_panel.as_mut().filter(|p| p.generation == generation) {
                match result {
                    Ok((count, sample)) => {
                        panel.count = Some(count);
                        panel.sample = sample;
                    }
                    Err(e) => notify(s, e, true),
                }
            }
            Vec::new()
        }
        Action::SegmentsListed(saved) => {
            if let Some(panel) = s.campaign_panel.as_mut() {
                panel.saved = saved;
            }
            Vec::new()
        }
        Action::PreviewRendered { generation, at, result } => match result {
            Ok(rows) => super::campaign_preview::rendered(s, generation, at, rows),
            Err(e) => {
                notify(s, format!("cannot show the preview's rows: {e}"), true);
                Vec::new()
            }
        },
        Action::Planned { generation, result } => {
            match result {
                Ok(plan) => {
                    if let Some(panel) = s.campaign_panel.as_mut().filter(|p| p.generation == generation) {
                        panel.plan = Some(plan);
                    }
                }
                Err(e) => notify(s, e, true),
            }
            Vec::new()
        }
        Action::Launched(result) => {
            let ok = result.is_ok();
            match result {
                Ok(text) => notify(s, text, false),
                Err(e) => notify(s, format!("not launched: {e}"), true),
            }
            if let Some(panel) = s.campaign_panel.as_mut().filter(|_| ok) {
                panel.plan = None;
                panel.planned_form = None;
                panel.selected_campaign = 0;
            }
            vec![load_results(s)]
        }
        Action::CampaignsLoaded { campaigns, results } => {
            s.campaigns = campaigns.iter().filter(|c| c.state == "running" || c.state == "paused").cloned().collect();
            if let Some(panel) = s.campaign_panel.as_mut() {
                panel.campaigns = campaigns;
                panel.selected_campaign = panel.selected_campaign.min(panel.campaigns.len().saturating_sub(1));
                if results.is_some() {
                    panel.results = results;
                }
            }
            Vec::new()
        }
        Action::ContactLoaded(result) => {
            super::contact_panel::loaded(s, result);
            Vec::new()
        }
        Action::Person(answer) => super::person::answered(s, answer),
        Action::Done(result) => {
            match result {
                Ok(text) => notify(s, text, false),
                Err(e) => notify(s, e, true),
            }
            Vec::new()
        }
        Action::ListLoaded { generation, after, limit, rows } => list::loaded(s, generation, after, limit, rows),
        Action::MessagesLoaded { conversation: id, request, rows } => {
            conversation::loaded(s, id, request, rows);
            Vec::new()
        }
        Action::Enqueued(Ok(())) => Vec::new(),
        Action::Enqueued(Err(e)) => {
            notify(s, format!("not sent: {e}"), true);
            Vec::new()
        }
        Action::Engine(view) => {
            if let EngineView::InProcess(map) | EngineView::Client { channels: map, .. } = &view {
                for (kind, status) in map {
                    if let Some((at, e)) = &status.last_error
                        && s.notice.as_ref().is_none_or(|n| n.at < *at)
                    {
                        s.notice = Some(Notice { at: *at, text: format!("{kind}: {e}"), is_error: true });
                    }
                }
            }
            s.engine = view;
            Vec::new()
        }
        Action::Error(e) => {
            notify(s, e, true);
            Vec::new()
        }
        Action::CannedRendered { conversation, replace, result } => {
            super::canned::rendered(s, conversation, replace, result);
            Vec::new()
        }
        Action::CannedLoaded(list) => {
            super::canned::loaded(s, list);
            Vec::new()
        }
        Action::Edited(result) => {
            match result {
                Ok(text) if text.trim().is_empty() => {
                    notify(s, "the editor left nothing: the draft is kept".into(), false)
                }
                Ok(text) => {
                    // The composer keeps its mode (a note stays a note).
                    s.reset_composer();
                    s.composer.insert_str(text);
                    s.focus = Focus::Composer;
                    s.style_cursor();
                }
                Err(e) => notify(s, format!("{e}; the draft is kept"), true),
            }
            Vec::new()
        }
        Action::SpellLoaded { speller, problems } => {
            super::spell::loaded(s, speller, problems);
            Vec::new()
        }
        Action::Suggested { word, corrections } => {
            super::spell::suggested(s, &word, corrections);
            Vec::new()
        }
        Action::PollsLoaded(result) => {
            super::polls::loaded(s, result);
            Vec::new()
        }
        Action::ReportsLoaded { generation, result } => {
            super::reports::loaded(s, generation, result);
            Vec::new()
        }
        Action::AutomationLoaded(result) => {
            super::automation::loaded(s, result);
            Vec::new()
        }
        Action::Listed { query, result } => {
            super::attach::listed(s, query, result);
            Vec::new()
        }
        Action::MediaLoaded(messages) => {
            super::media::loaded(s, messages);
            Vec::new()
        }
        Action::NotAttached { caption, why } => {
            // The caption comes back unless something new was typed meanwhile.
            if s.composer.is_empty() {
                s.composer.insert_str(caption);
            }
            notify(s, format!("not attached: {why}"), true);
            Vec::new()
        }
        Action::MacrosLoaded(all) => {
            super::macros::loaded(s, all);
            Vec::new()
        }
        Action::MacroRendered { name, result } => {
            super::macros::rendered(s, &name, result);
            Vec::new()
        }
        Action::Remembered(words) => {
            super::spell::remembered(s, words);
            Vec::new()
        }
        Action::AgentsLoaded(agents) => {
            super::overlay::agents_loaded(s, agents);
            Vec::new()
        }
        Action::Matched { conversation, query, forward, result } => {
            conversation::matched(s, conversation, &query, forward, result)
        }
    }
}

/// Reloads the campaigns for the gauge (and the panel's list when it is open).
pub fn load_campaigns(s: &AppState) -> Effect {
    Effect::LoadCampaigns { finished_too: s.campaign_panel_open(), results_of: None }
}

/// Reloads the campaigns with the results of the one the panel has selected.
pub fn load_results(s: &AppState) -> Effect {
    let results_of = s
        .campaign_panel
        .as_ref()
        .filter(|_| s.campaign_panel_open())
        .and_then(|p| p.selected())
        .map(|c| c.name.clone());
    Effect::LoadCampaigns { finished_too: true, results_of }
}

/// Puts a line in the status bar.
pub fn notify(s: &mut AppState, message: String, is_error: bool) {
    s.notice = Some(Notice { at: s.now, text: text::sanitize(&message, false), is_error });
}

/// Moves focus; the conversation counts as read once the agent looks at it.
pub fn set_focus(s: &mut AppState, focus: Focus) -> Vec<Effect> {
    let focus = if s.open.is_none() { Focus::List } else { focus };
    s.focus = focus;
    s.style_cursor();
    match (&s.open, focus) {
        (Some(open), Focus::Conversation | Focus::Composer) if open.row.unread > 0 => {
            vec![Effect::MarkRead { conversation: open.id(), agent: s.agent.clone() }]
        }
        _ => Vec::new(),
    }
}

fn on_key(s: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        s.unchanged = true;
        return Vec::new();
    }
    let contexts = key_contexts(s);
    let command = s.keymap.resolve_in(&contexts, &key);
    if command != Some(Command::Quit) {
        s.quit_armed = false;
    }
    if let Overlay::Help(under) = &mut s.overlay {
        // Any key closes the help, giving back what it covered; quit also acts.
        s.overlay = std::mem::take(&mut **under);
        return match command {
            Some(Command::Quit) => quit(s),
            _ => Vec::new(),
        };
    }
    if !s.overlay.is_none() {
        return super::overlay::on_key(s, key);
    }
    let Some(command) = command else {
        if let Some(m) = super::macros::for_key(s, &key) {
            return super::macros::preview(s, m);
        }
        if s.focus != Focus::Composer {
            // A key bound to nothing here: nothing to draw again.
            s.unchanged = true;
            return Vec::new();
        }
        let before = (s.composer.cursor(), s.composer.screen_cursor(), s.composer.selection_range());
        if s.composer.input(key) {
            if key.code == crossterm::event::KeyCode::Char(':') {
                super::emoji::expand(&mut s.composer);
            }
        } else {
            s.unchanged = before == (s.composer.cursor(), s.composer.screen_cursor(), s.composer.selection_range());
        }
        return Vec::new();
    };
    run_command(s, command)
}

/// Where a key is looked up, first to last (then the global keys): the overlay's
/// context, or the focused pane's, after a search's when the open conversation has one.
pub fn key_contexts(s: &AppState) -> Vec<Context> {
    if let Some(context) = s.overlay.context() {
        return vec![context];
    }
    let found = s.focus == Focus::Conversation && s.open.as_ref().is_some_and(|o| o.found.is_some());
    if found { vec![Context::Found, Context::Conversation] } else { vec![s.focus.context()] }
}

/// Quits, asking first when drafts are unsent. They are kept in the store either way;
/// the question is so nobody leaves one behind by accident.
pub fn quit(s: &mut AppState) -> Vec<Effect> {
    let drafts = s.draft_count();
    if drafts > 0 && !s.quit_armed {
        s.quit_armed = true;
        let again = s.key_hint(crate::keymap::Context::Global, Command::Quit);
        let what = if drafts == 1 { "1 unsent draft is".to_string() } else { format!("{drafts} unsent drafts are") };
        notify(s, format!("{what} kept for next time: {again} again quits"), false);
        return save_drafts(s);
    }
    // The runtime writes every draft on the way out (`keep_drafts`), and waits for it.
    s.quit = true;
    vec![Effect::Quit]
}

/// Writes the drafts that changed since they were last saved.
pub fn save_drafts(s: &mut AppState) -> Vec<Effect> {
    let drafts = s.unsaved_drafts();
    if drafts.is_empty() {
        return Vec::new();
    }
    vec![Effect::SaveDrafts { agent: s.agent.clone(), drafts }]
}

pub fn run_command(s: &mut AppState, command: Command) -> Vec<Effect> {
    match command {
        Command::Quit => quit(s),
        Command::Help => {
            let under = std::mem::take(&mut s.overlay);
            s.overlay = Overlay::Help(Box::new(under));
            Vec::new()
        }
        Command::Suspend => vec![Effect::Suspend],
        Command::NextPane | Command::PrevPane => {
            let order = [Focus::List, Focus::Conversation, Focus::Composer];
            let i = order.iter().position(|f| *f == s.focus).unwrap_or(0);
            let step = if command == Command::NextPane { 1 } else { order.len() - 1 };
            set_focus(s, order[(i + step) % order.len()])
        }
        Command::Open | Command::Reply => set_focus(s, Focus::Composer),
        Command::Back => {
            // Esc in the composer first leaves a note (its text stays), a template or an
            // edit (the reply put aside comes back), then the composer.
            if s.focus == Focus::Composer && s.mode != ComposerMode::Reply {
                let kept = s.mode.kept().map(str::to_string).unwrap_or_else(|| s.composer_text());
                s.mode = ComposerMode::Reply;
                s.reset_composer();
                s.composer.insert_str(&kept);
                return Vec::new();
            }
            set_focus(s, Focus::List)
        }
        Command::Up | Command::Down | Command::PageUp | Command::PageDown | Command::Top | Command::Bottom => {
            match s.focus {
                Focus::List => list::navigate(s, command),
                _ => conversation::scroll(s, command),
            }
        }
        Command::NextUnanswered => list::next_unanswered(s),
        Command::FilterChannel => list::cycle_channel(s),
        Command::FilterStatus => list::cycle_status(s),
        Command::Resolve => list::toggle_resolved(s),
        Command::AssignMe => list::toggle_mine(s),
        Command::View => list::cycle_view(s),
        Command::Pending => list::toggle_pending(s),
        Command::Search => super::search::open(s),
        Command::Snooze => super::overlay::open_snooze(s),
        Command::Palette => super::overlay::open_palette(s),
        Command::OtherChannel => super::person::other_channel(s),
        Command::Duplicates => super::person::open_duplicates(s),
        Command::ByPerson => list::toggle_by_person(s),
        Command::Assign => super::overlay::open_agents(s),
        Command::Unassign => list::assign(s, None),
        Command::Mute => list::toggle_mute(s),
        Command::NextMatch => conversation::next_match(s, true),
        Command::PrevMatch => conversation::next_match(s, false),
        Command::Emoji => {
            if s.open.is_some() {
                s.overlay = super::overlay::Overlay::Emoji(super::emoji::picker());
            }
            Vec::new()
        }
        Command::ClearDraft => {
            // Cut, not dropped: Ctrl-U (the composer's undo) brings it back.
            s.composer.select_all();
            s.composer.cut();
            Vec::new()
        }
        Command::Canned => super::canned::open(s),
        Command::CannedNew => super::canned::ask_name(s),
        // The canned picker's own key: it reaches the picker through the overlay.
        Command::EditChoice => Vec::new(),
        Command::Complete => super::canned::complete(s),
        Command::SpellSuggest => super::spell::suggest(s),
        Command::Attach => super::attach::open(s),
        Command::Automation => super::automation::open(s),
        Command::Reports => super::reports::open(s),
        Command::Poll => super::polls::open(s),
        Command::OpenMedia => super::media::open(s, false),
        Command::SaveMedia => super::media::open(s, true),
        Command::ExternalEditor => {
            if s.open.is_none() {
                return Vec::new();
            }
            vec![Effect::ExternalEditor { text: s.composer_text() }]
        }
        Command::EditMessage => conversation::edit_last(s),
        Command::DeleteMessage => conversation::delete_last(s),
        Command::Close => {
            // In a conversation opened from a search: stop marking its words.
            if let Some(open) = &mut s.open {
                open.found = None;
            }
            Vec::new()
        }
        // The panels' own commands: their keys reach them through the overlay.
        Command::Choose
        | Command::Merge
        | Command::History
        | Command::Phone
        | Command::Distinct
        | Command::Tag
        | Command::Attribute
        | Command::TimeZone
        | Command::ConsentIn
        | Command::ConsentOut
        | Command::StageNext
        | Command::StagePrev
        | Command::NextField
        | Command::PrevField
        | Command::SaveSegment
        | Command::Preview
        | Command::Launch
        | Command::PauseResume
        | Command::CancelCampaign
        | Command::Results
        | Command::NextCampaign
        | Command::PrevCampaign => Vec::new(),
        Command::Note => {
            let to_note = !(s.mode == ComposerMode::Note && s.focus == Focus::Composer);
            s.mode = if to_note { ComposerMode::Note } else { ComposerMode::Reply };
            // The text typed so far stays: a reply can become a note and back.
            let kept = s.composer_text();
            s.reset_composer();
            s.composer.insert_str(&kept);
            set_focus(s, Focus::Composer)
        }
        Command::Resend => match s.open_id() {
            Some(id) => vec![Effect::Resend(id, s.agent.clone())],
            None => Vec::new(),
        },
        Command::Send => super::composer::send(s),
        Command::Template => super::overlay::open_templates(s),
        Command::Newline => {
            s.composer.insert_newline();
            Vec::new()
        }
        Command::ContactCard => super::contact_panel::open(s),
        Command::Campaigns => super::campaign_panel::open(s),
    }
}

fn on_mouse(s: &mut AppState, m: MouseEvent) -> Vec<Effect> {
    let panes = crate::ui::layout(ratatui::layout::Rect::new(0, 0, s.size.0, s.size.1), s);
    let at = ratatui::layout::Position::new(m.column, m.row);
    let in_list = panes.list.contains(at);
    match m.kind {
        MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
            let command = if m.kind == MouseEventKind::ScrollUp { Command::Up } else { Command::Down };
            if in_list { list::navigate(s, command) } else { conversation::scroll(s, command) }
        }
        MouseEventKind::Down(MouseButton::Left) if in_list => {
            let row = (m.row.saturating_sub(panes.list.y + 1) / 2) as usize + s.list.offset;
            let mut effects = set_focus(s, Focus::List);
            effects.extend(list::select(s, row));
            effects
        }
        MouseEventKind::Down(MouseButton::Left) if panes.composer.contains(at) => set_focus(s, Focus::Composer),
        MouseEventKind::Down(MouseButton::Left) if panes.conversation.contains(at) => set_focus(s, Focus::Conversation),
        // Moves (the terminal reports every one), releases, drags.
        _ => {
            s.unchanged = true;
            Vec::new()
        }
    }
}

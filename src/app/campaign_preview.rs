//! The campaign panel's preview: asking for one of exactly the form on screen, and the
//! rows of it as the marketer scrolls (the console keeps one rendered page; see
//! `campaign::preview`).

use super::campaign_panel::Field;
use super::update::notify;
use super::{AppState, Effect};
use crate::campaign::preview::{PAGE, Row};

/// Asks for a preview of the form as it is now.
pub(super) fn preview(s: &mut AppState) -> Vec<Effect> {
    let Some(panel) = s.campaign_panel.as_ref() else { return Vec::new() };
    match super::campaign_panel::message(panel, &s.templates) {
        Ok((_, message)) => {
            let filter = panel.text(Field::Filter);
            let form = panel.form();
            let panel = s.campaign_panel.as_mut().expect("open");
            panel.generation += 1;
            panel.planned_form = Some(form);
            panel.preview_offset = 0;
            // Let go of the last preview before the next is made, so one at most is held
            // (whole plans held two at once doubled the console's peak).
            panel.plan = None;
            panel.rendering = None;
            vec![Effect::PlanCampaign { generation: panel.generation, filter, message, policy: s.policy.clone() }]
        }
        Err(e) => {
            notify(s, e, true);
            Vec::new()
        }
    }
}

/// Asks for the preview's rows around where it is scrolled, when they are not rendered
/// yet (only a page of rows is ever kept).
pub(super) fn render_page(s: &mut AppState) -> Vec<Effect> {
    let room = s.size.1 as usize;
    let Some(panel) = s.campaign_panel.as_mut() else { return Vec::new() };
    let Some(preview) = panel.plan.as_ref() else { return Vec::new() };
    panel.preview_offset = panel.preview_offset.min(preview.rows.len().saturating_sub(1));
    let offset = panel.preview_offset;
    if preview.shows(offset, room) {
        return Vec::new();
    }
    // Twice the screen at least, with some rows above for scrolling back: a page always
    // covers what is on screen, however tall the terminal.
    let length = PAGE.max(room * 2);
    let at = offset.saturating_sub((length - room) / 2);
    // Asked for already, or just rendered there (rows at the end of the preview): asking
    // again would bring the same.
    if panel.rendering == Some(at)
        || (preview.page_at == at && preview.page.len() >= length.min(preview.rows.len() - at))
    {
        return Vec::new();
    }
    panel.rendering = Some(at);
    let contacts = preview.rows.iter().skip(at).take(length).copied().collect();
    vec![Effect::RenderPreview {
        generation: panel.generation,
        at,
        contacts,
        message: preview.message.clone(),
        policy: preview.policy.clone(),
    }]
}

/// A page of the preview rendered: kept when it answers the preview on screen.
pub fn rendered(s: &mut AppState, generation: u64, at: usize, rows: Vec<Row>) -> Vec<Effect> {
    let Some(panel) = s.campaign_panel.as_mut().filter(|p| p.generation == generation) else { return Vec::new() };
    if let Some(preview) = panel.plan.as_mut() {
        preview.page_at = at;
        preview.page = rows;
    }
    if panel.rendering == Some(at) {
        panel.rendering = None;
    }
    // Scrolled on meanwhile: the rows there.
    render_page(s)
}

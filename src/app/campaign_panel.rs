//! The segment and campaign panel: a small form (segment name, filter, campaign name,
//! two texts, the split) whose filter is counted and sampled as it is typed, a preview of
//! exactly who gets what, the launch, and the campaigns under way with their gauge,
//! pause, resume, cancel and results.

use crossterm::event::KeyEvent;
use ratatui::style::{Modifier, Style};
use ratatui_textarea::TextArea;

use super::action::Effect;
use super::state::AppState;
use super::update::notify;
use crate::campaign::preview::Preview;
use crate::campaign::results::CampaignResults;
use crate::campaign::{Filter, FilterError, Message, WhatsAppTemplate};
use crate::keymap::{Command, Context};
use crate::model::Button;
use crate::store::{CampaignStatus, SampleRow, Segment};

/// The form's fields, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Segment,
    Filter,
    Campaign,
    TextA,
    TextB,
    Split,
    Button,
    Template,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::Segment,
        Field::Filter,
        Field::Campaign,
        Field::TextA,
        Field::TextB,
        Field::Split,
        Field::Button,
        Field::Template,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Segment => "Segment",
            Field::Filter => "Filter",
            Field::Campaign => "Campaign",
            Field::TextA => "Text A",
            Field::TextB => "Text B",
            Field::Split => "A gets %",
            Field::Button => "Buttons",
            Field::Template => "WhatsApp",
        }
    }

    pub fn placeholder(self) -> &'static str {
        match self {
            Field::Segment => "a name to save the filter under (↑↓ the saved ones)",
            Field::Filter => {
                "channel:telegram tag:vip -tag:churned lang:ru inbound<30d consent:marketing attr:city=Kazan"
            }
            Field::Campaign => "the campaign's name",
            Field::TextA => "Привет, {{first_name|друг}}! … ({{attr.city}} and other variables)",
            Field::TextB => "a second version for an A/B test (optional)",
            Field::Split => "50",
            Field::Button => "optional: Shop now=https://… (a link) or Yes=yes (a reply); | between buttons",
            Field::Template => "optional: a template for closed 24-hour windows, as name | {{first_name}} | …",
        }
    }
}

pub struct CampaignPanel {
    pub field: Field,
    pub inputs: Vec<TextArea<'static>>,
    pub filter_error: Option<FilterError>,
    pub count: Option<usize>,
    pub sample: Vec<SampleRow>,
    pub saved: Vec<Segment>,
    /// Which saved segment ↑↓ showed last.
    pub saved_index: Option<usize>,
    pub plan: Option<Preview>,
    /// The row from which a page of the preview is being rendered.
    pub rendering: Option<usize>,
    /// The form as it was when `plan` was made: a launch needs a preview of exactly it.
    pub planned_form: Option<Vec<String>>,
    /// Launch pressed once: the next press launches.
    pub confirm_launch: bool,
    pub campaigns: Vec<CampaignStatus>,
    pub results: Option<CampaignResults>,
    /// Which campaign the gauge keys act on.
    pub selected_campaign: usize,
    /// Bumped per request, so a late answer to an older filter is dropped.
    pub generation: u64,
    /// Rows of the preview scrolled past.
    pub preview_offset: usize,
}

impl CampaignPanel {
    pub fn new() -> CampaignPanel {
        let inputs = Field::ALL.iter().map(|f| input(f.placeholder())).collect();
        let mut panel = CampaignPanel {
            field: Field::Filter,
            inputs,
            filter_error: None,
            count: None,
            sample: Vec::new(),
            saved: Vec::new(),
            saved_index: None,
            plan: None,
            planned_form: None,
            confirm_launch: false,
            campaigns: Vec::new(),
            results: None,
            selected_campaign: 0,
            generation: 0,
            preview_offset: 0,
            rendering: None,
        };
        panel.style_cursors();
        panel
    }

    pub fn text(&self, field: Field) -> String {
        self.inputs[index(field)].lines().join(" ")
    }

    fn set_text(&mut self, field: Field, text: &str) {
        let mut area = input(field.placeholder());
        area.insert_str(text);
        self.inputs[index(field)] = area;
        self.style_cursors();
    }

    /// Every field's text, in order: what a preview was made of.
    pub fn form(&self) -> Vec<String> {
        Field::ALL.iter().map(|f| self.text(*f)).collect()
    }

    fn style_cursors(&mut self) {
        for (i, area) in self.inputs.iter_mut().enumerate() {
            let style = if Field::ALL[i] == self.field {
                Style::default().add_modifier(Modifier::REVERSED)
            } else {
                Style::default()
            };
            area.set_cursor_style(style);
        }
    }

    pub fn selected(&self) -> Option<&CampaignStatus> {
        self.campaigns.get(self.selected_campaign)
    }
}

impl Default for CampaignPanel {
    fn default() -> Self {
        CampaignPanel::new()
    }
}

fn input(placeholder: &str) -> TextArea<'static> {
    let mut area = TextArea::default();
    area.set_placeholder_text(placeholder);
    area.set_placeholder_style(Style::default().add_modifier(Modifier::DIM));
    area.set_cursor_line_style(Style::default());
    area
}

fn index(field: Field) -> usize {
    Field::ALL.iter().position(|f| *f == field).unwrap_or(0)
}

/// Opens the panel: loads the saved segments, the campaigns, and counts the filter.
pub fn open(s: &mut AppState) -> Vec<Effect> {
    let panel = s.campaign_panel.get_or_insert_with(CampaignPanel::new);
    panel.confirm_launch = false;
    s.overlay = super::overlay::Overlay::Campaign;
    let mut effects = vec![Effect::ListSegments, super::update::load_results(s)];
    effects.extend(count(s));
    effects
}

/// Keys while the panel is open: the `campaign` context's commands, and text for the
/// focused field.
pub fn on_key(s: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    let command = s.keymap.resolve(Context::Campaign, &key);
    let Some(panel) = s.campaign_panel.as_mut() else { return Vec::new() };
    if command != Some(Command::Launch) {
        panel.confirm_launch = false;
    }
    match command {
        Some(Command::Close) => {
            s.overlay = super::overlay::Overlay::None;
            Vec::new()
        }
        Some(Command::NextField) => {
            move_field(panel, 1);
            Vec::new()
        }
        Some(Command::PrevField) => {
            move_field(panel, Field::ALL.len() - 1);
            Vec::new()
        }
        Some(command @ (Command::Up | Command::Down)) if panel.field == Field::Segment => {
            cycle_saved(panel, command == Command::Down);
            count(s)
        }
        Some(Command::PageDown) => {
            panel.preview_offset += 10;
            super::campaign_preview::render_page(s)
        }
        Some(Command::PageUp) => {
            panel.preview_offset = panel.preview_offset.saturating_sub(10);
            super::campaign_preview::render_page(s)
        }
        Some(Command::SaveSegment) => save_segment(s),
        Some(Command::Preview) => super::campaign_preview::preview(s),
        Some(Command::Launch) => launch(s),
        Some(Command::PauseResume) => steer(s, Steer::PauseOrResume),
        Some(Command::CancelCampaign) => steer(s, Steer::Cancel),
        Some(Command::Results) => vec![super::update::load_results(s)],
        Some(command @ (Command::NextCampaign | Command::PrevCampaign)) => {
            let n = panel.campaigns.len().max(1);
            panel.selected_campaign = if command == Command::NextCampaign {
                (panel.selected_campaign + 1) % n
            } else {
                (panel.selected_campaign + n - 1) % n
            };
            panel.results = None;
            vec![super::update::load_results(s)]
        }
        _ => {
            let field = panel.field;
            let area = &mut panel.inputs[index(field)];
            // One line per field: Enter moves on (above), pasted line breaks become spaces.
            if area.input(key) {
                if area.lines().len() > 1 {
                    let joined = area.lines().join(" ");
                    panel.set_text(field, &joined);
                }
                if field == Field::Filter {
                    panel.saved_index = None;
                    return count(s);
                }
            }
            Vec::new()
        }
    }
}

/// Text pasted into the focused field, on one line.
pub fn paste(s: &mut AppState, pasted: &str) -> Vec<Effect> {
    let Some(panel) = s.campaign_panel.as_mut() else { return Vec::new() };
    let field = panel.field;
    panel.inputs[index(field)].insert_str(pasted.replace(['\r', '\n'], " "));
    if field == Field::Filter { count(s) } else { Vec::new() }
}

fn move_field(panel: &mut CampaignPanel, step: usize) {
    let i = (index(panel.field) + step) % Field::ALL.len();
    panel.field = Field::ALL[i];
    panel.style_cursors();
}

fn cycle_saved(panel: &mut CampaignPanel, down: bool) {
    let n = panel.saved.len();
    if n == 0 {
        return;
    }
    let i = match (panel.saved_index, down) {
        (None, true) => 0,
        (None, false) => n - 1,
        (Some(i), true) => (i + 1) % n,
        (Some(i), false) => (i + n - 1) % n,
    };
    panel.saved_index = Some(i);
    let segment = panel.saved[i].clone();
    panel.set_text(Field::Segment, &segment.name);
    panel.set_text(Field::Filter, &segment.filter);
}

/// Parses the filter; a good one is counted and sampled, a bad one shows where.
pub fn count(s: &mut AppState) -> Vec<Effect> {
    let Some(panel) = s.campaign_panel.as_mut() else { return Vec::new() };
    let text = panel.text(Field::Filter);
    panel.generation += 1;
    match Filter::parse(&text) {
        Ok(_) => {
            panel.filter_error = None;
            vec![Effect::LoadSegment { generation: panel.generation, filter: text }]
        }
        Err(e) => {
            panel.filter_error = Some(e);
            panel.count = None;
            panel.sample.clear();
            Vec::new()
        }
    }
}

fn save_segment(s: &mut AppState) -> Vec<Effect> {
    let Some(panel) = s.campaign_panel.as_ref() else { return Vec::new() };
    let (name, filter) = (panel.text(Field::Segment).trim().to_string(), panel.text(Field::Filter));
    if name.is_empty() {
        notify(s, "type a segment name first (the Segment field)".into(), true);
        return Vec::new();
    }
    if panel.filter_error.is_some() {
        notify(s, "the filter does not parse yet".into(), true);
        return Vec::new();
    }
    vec![Effect::SaveSegment { name, filter }]
}

/// The message the form describes.
pub(super) fn message(
    panel: &CampaignPanel,
    templates: &[crate::config::TemplateConfig],
) -> Result<(Filter, Message), String> {
    let filter_text = panel.text(Field::Filter);
    let filter = Filter::parse(&filter_text).map_err(|e| format!("the filter: {e}"))?;
    let mut texts = vec![panel.text(Field::TextA)];
    let b = panel.text(Field::TextB);
    if !b.trim().is_empty() {
        texts.push(b);
    }
    let split_text = panel.text(Field::Split);
    let split: u8 = if split_text.trim().is_empty() {
        50
    } else {
        split_text.trim().parse().map_err(|_| format!("A gets %: `{split_text}` is not a number from 1 to 99"))?
    };
    let name = panel.text(Field::Campaign);
    let key = if name.trim().is_empty() { "preview".to_string() } else { name.trim().to_string() };
    let buttons_text = panel.text(Field::Button);
    let buttons = if buttons_text.trim().is_empty() { Vec::new() } else { Button::parse_rows(&[buttons_text])? };
    let template_text = panel.text(Field::Template);
    let template = if template_text.trim().is_empty() {
        None
    } else {
        let mut parts = split_outside_places(&template_text).into_iter().map(|p| p.trim().to_string());
        let name = parts.next().unwrap_or_default();
        let params: Vec<String> = parts.collect();
        Some(WhatsAppTemplate::new(templates, &name, &params)?)
    };
    let message = Message::new(&texts, split, buttons, template, &key, filter.required_channels())?;
    Ok((filter, message))
}

/// Splits on `|` except inside `{{…}}`, where a bar starts a default.
fn split_outside_places(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Bytes, not characters: the marks are ASCII, so every cut is on a boundary.
        if bytes[i..].starts_with(b"{{") {
            depth += 1;
            i += 2;
        } else if bytes[i..].starts_with(b"}}") {
            depth = depth.saturating_sub(1);
            i += 2;
        } else {
            if bytes[i] == b'|' && depth == 0 {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            i += 1;
        }
    }
    parts.push(&text[start..]);
    parts
}

fn launch(s: &mut AppState) -> Vec<Effect> {
    let Some(panel) = s.campaign_panel.as_ref() else { return Vec::new() };
    let name = panel.text(Field::Campaign).trim().to_string();
    if name.is_empty() {
        notify(s, "give the campaign a name first (the Campaign field)".into(), true);
        return Vec::new();
    }
    let Some(plan) = panel.plan.as_ref().filter(|_| panel.planned_form.as_ref() == Some(&panel.form())) else {
        let preview = s.key_hint(Context::Campaign, Command::Preview);
        notify(s, format!("preview first ({preview}): a launch sends exactly what the preview shows"), true);
        return Vec::new();
    };
    if plan.totals.included == 0 {
        notify(s, "nobody would get this campaign: see the preview's reasons".into(), true);
        return Vec::new();
    }
    if !panel.confirm_launch {
        let n = plan.totals.included;
        s.campaign_panel.as_mut().expect("open").confirm_launch = true;
        let launch = s.key_hint(Context::Campaign, Command::Launch);
        notify(s, format!("{launch} again sends `{name}` to {n} customers; any other key does not"), false);
        return Vec::new();
    }
    let (segment, filter) = (panel.text(Field::Segment).trim().to_string(), panel.text(Field::Filter));
    match message(panel, &s.templates) {
        Ok((_, message)) => {
            let panel = s.campaign_panel.as_mut().expect("open");
            panel.confirm_launch = false;
            vec![Effect::LaunchCampaign {
                name,
                segment: (!segment.is_empty()).then_some(segment),
                filter,
                message,
                policy: s.policy.clone(),
            }]
        }
        Err(e) => {
            notify(s, e, true);
            Vec::new()
        }
    }
}

enum Steer {
    PauseOrResume,
    Cancel,
}

fn steer(s: &mut AppState, how: Steer) -> Vec<Effect> {
    let Some(c) = s.campaign_panel.as_ref().and_then(|p| p.selected().cloned()) else {
        notify(s, "no campaign to act on".into(), true);
        return Vec::new();
    };
    let to = match (how, c.state.as_str()) {
        (Steer::PauseOrResume, "running") => "paused",
        (Steer::PauseOrResume, "paused") => "running",
        (Steer::Cancel, "running" | "paused") => "cancelled",
        (_, state) => {
            notify(s, format!("`{}` is {state}", c.name), true);
            return Vec::new();
        }
    };
    vec![Effect::SetCampaignState { name: c.name, to: to.into() }]
}

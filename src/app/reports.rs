//! The Reports screen: a period (today, 7 days, 30 days, or dates typed), and six
//! sections of charts with their numbers beside them: message volume per channel,
//! response times per agent and per channel, the funnel, new clients by channel and by
//! source, campaigns, and satisfaction with engagement. The figures are the `report`
//! module's tables, the very ones `switchboard report` prints, computed off the loop.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Effect;
use super::overlay::Overlay;
use super::state::AppState;
use crate::report::{By, Context, Metric, Period, Preset, Table};
use crate::store::Store;

/// The sections, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Section {
    #[default]
    Volume,
    Response,
    Funnel,
    Clients,
    Campaigns,
    Satisfaction,
}

impl Section {
    pub const ALL: [Section; 6] = [
        Section::Volume,
        Section::Response,
        Section::Funnel,
        Section::Clients,
        Section::Campaigns,
        Section::Satisfaction,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Section::Volume => "Volume",
            Section::Response => "Response times",
            Section::Funnel => "Funnel",
            Section::Clients => "New clients",
            Section::Campaigns => "Campaigns",
            Section::Satisfaction => "CSAT · engagement",
        }
    }

    fn step(self, by: isize) -> Section {
        let i = Section::ALL.iter().position(|s| *s == self).unwrap_or(0) as isize;
        Section::ALL[(i + by).rem_euclid(Section::ALL.len() as isize) as usize]
    }
}

/// Everything the screen shows for one period.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportData {
    /// Messages per day (or hour), per channel.
    pub volume: crate::report::engagement::Volume,
    pub by_agent: Table,
    pub by_channel: Table,
    pub funnel: Table,
    pub clients_by_channel: Table,
    pub clients_by_source: Table,
    pub campaigns: Table,
    pub csat: Table,
    pub engagement: Table,
}

impl ReportData {
    /// What the screen shows, read from the store.
    pub fn read(store: &Store, period: &Period, ctx: &Context) -> Result<ReportData, String> {
        let table = |metric, by| crate::report::table(store, metric, period, Some(by), ctx).map_err(|e| e.to_string());
        // Agents and channels from one pass over the replies.
        let mut response = crate::report::response::tables(store, period, &[By::Agent, By::Channel], ctx)
            .map_err(|e| e.to_string())?
            .into_iter();
        let (Some(by_agent), Some(by_channel)) = (response.next(), response.next()) else {
            return Err("no response times".into());
        };
        Ok(ReportData {
            volume: crate::report::engagement::volume(store, period, ctx).map_err(|e| e.to_string())?,
            by_agent,
            by_channel,
            funnel: table(Metric::Funnel, By::Week)?,
            clients_by_channel: table(Metric::NewClients, By::Channel)?,
            clients_by_source: table(Metric::NewClients, By::Source)?,
            campaigns: table(Metric::Campaigns, By::Campaign)?,
            csat: table(Metric::Csat, By::Channel)?,
            engagement: table(Metric::Engagement, By::Channel)?,
        })
    }
}

pub struct ReportsPanel {
    /// None: the dates typed.
    pub preset: Option<Preset>,
    pub period: Period,
    pub section: Section,
    pub data: Option<Box<ReportData>>,
    pub error: Option<String>,
    /// Dates being typed (`c`): `2026-11-01 2026-11-26`.
    pub typing: Option<String>,
    /// Which load the data answers, so a slow old one cannot replace a newer one.
    pub generation: u64,
}

pub fn open(s: &mut AppState) -> Vec<Effect> {
    let preset = Preset::default();
    let period = preset.period(s.now, s.report.zone);
    let panel = ReportsPanel {
        preset: Some(preset),
        period,
        section: Section::default(),
        data: None,
        error: None,
        typing: None,
        generation: 0,
    };
    s.overlay = Overlay::Reports(Box::new(panel));
    load(s)
}

fn load(s: &mut AppState) -> Vec<Effect> {
    let Overlay::Reports(panel) = &mut s.overlay else { return Vec::new() };
    if let Some(preset) = panel.preset {
        panel.period = preset.period(s.now, s.report.zone);
    }
    panel.generation += 1;
    vec![Effect::LoadReports {
        period: panel.period.clone(),
        context: Box::new(s.report.clone()),
        generation: panel.generation,
    }]
}

pub fn loaded(s: &mut AppState, generation: u64, result: Result<Box<ReportData>, String>) {
    let Overlay::Reports(panel) = &mut s.overlay else { return };
    if generation != panel.generation {
        return;
    }
    match result {
        Ok(data) => {
            panel.data = Some(data);
            panel.error = None;
        }
        Err(e) => panel.error = Some(format!("cannot compute the reports: {e}")),
    }
}

pub fn on_key(s: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    let (zone, now) = (s.report.zone, s.now);
    let Overlay::Reports(panel) = &mut s.overlay else { return Vec::new() };
    if let Some(typed) = &mut panel.typing {
        match key.code {
            KeyCode::Esc => panel.typing = None,
            KeyCode::Enter => {
                let words: Vec<&str> = typed.split([' ', ',']).filter(|w| !w.is_empty() && *w != "..").collect();
                let parsed = match words.as_slice() {
                    [from] => Period::parse(Some(from), None, now, zone),
                    [from, to] => Period::parse(Some(from), Some(to), now, zone),
                    _ => Err("type the first and the last day: 2026-11-01 2026-11-26".into()),
                };
                match parsed {
                    Ok(period) => {
                        panel.typing = None;
                        panel.preset = None;
                        panel.period = period;
                        return load(s);
                    }
                    Err(e) => panel.error = Some(e.replace("--from ", "from ").replace("--to ", "to ")),
                }
            }
            KeyCode::Backspace => {
                typed.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) && typed.chars().count() < 40 => {
                typed.push(c)
            }
            _ => {}
        }
        return Vec::new();
    }
    match key.code {
        KeyCode::Esc | KeyCode::Char('q') => s.overlay = Overlay::None,
        KeyCode::Right | KeyCode::Tab | KeyCode::Char('l') => panel.section = panel.section.step(1),
        KeyCode::Left | KeyCode::BackTab | KeyCode::Char('h') => panel.section = panel.section.step(-1),
        KeyCode::Char(c @ '1'..='6') => panel.section = Section::ALL[c as usize - '1' as usize],
        KeyCode::Char('p') => {
            panel.preset = Some(panel.preset.map_or(Preset::Today, Preset::next));
            return load(s);
        }
        KeyCode::Char('c') => {
            panel.typing = Some(String::new());
            panel.error = None;
        }
        KeyCode::Char('r') => return load(s),
        _ => {}
    }
    Vec::new()
}

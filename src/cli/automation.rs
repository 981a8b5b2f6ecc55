//! `switchboard automation list`: the rules of `[automation]`, each with when it last
//! fired, for whom and how often (from the store's log).

use chrono::Offset;

use crate::config::Config;
use crate::store::Store;

#[derive(Debug, clap::Subcommand)]
pub enum AutomationCommand {
    /// Every rule: on or off, what it does, when it last fired and for whom.
    List,
}

/// `automation list`: the rules of the config, each with its last firing from the store.
pub fn list(store: &Store, config: &Config) -> anyhow::Result<()> {
    let rules = config.automation.rules();
    if rules.is_empty() {
        println!("no automation rules: see [automation] in config.example.toml");
        return Ok(());
    }
    let fired = store.automation_fired()?;
    let tz = chrono::Local::now().offset().fix();
    for rule in rules {
        let last = match fired.iter().find(|f| f.rule == rule.rule) {
            Some(f) => format!(
                "last {} for {} ({} in all): {}",
                crate::ui::time::when(f.at, tz),
                crate::text::sanitize(&f.who, false),
                f.times,
                crate::text::sanitize(&f.detail, false)
            ),
            None => "never fired".into(),
        };
        let on = if rule.on { "on" } else { "off" };
        println!("{:<20} {on:<4} {}", rule.rule, crate::text::sanitize(&rule.what, false));
        println!("{:<20}      {last}", "");
    }
    Ok(())
}

//! `switchboard canned`: the team's canned replies and macros from the command line:
//! list, add (or change), remove, import from and export to a TOML file of `[[canned]]`
//! tables.

use anyhow::{Context as _, bail};

use crate::model::now_ms;
use crate::store::{Canned, CannedFile, Store};

#[derive(Debug, clap::Subcommand)]
pub enum CannedCommand {
    /// Every canned reply: name, /shortcut, language, key, body, then a macro's actions.
    List,
    /// Adds a canned reply (a macro, with --action), or changes the one with this name.
    Add {
        name: String,
        /// What follows the slash in the composer: /thanks, then Tab.
        #[arg(long)]
        shortcut: Option<String>,
        /// The text, with variables: {{first_name|друг}}, {{name}}, {{agent}}, {{attr.city}}.
        /// A macro's may be left out: it only acts.
        #[arg(long, default_value = "")]
        body: String,
        #[arg(long)]
        language: Option<String>,
        /// What the macro does after the reply, in order; repeat it: --action "tag shipped"
        /// --action resolve. One of: resolve, pending, snooze TIME, snooze until reply,
        /// tag NAME, assign NAME, assign me, unassign, stage NAME.
        #[arg(long = "action")]
        actions: Vec<String>,
        /// The key that runs it in the console (alt-1, f9): it shows a preview, Enter runs.
        #[arg(long)]
        key: Option<String>,
    },
    Remove {
        name: String,
    },
    /// Adds or changes every reply of a TOML file ([[canned]] name, shortcut, body,
    /// language): all of them, or none when one is wrong.
    Import {
        file: std::path::PathBuf,
    },
    /// Prints every reply as such a TOML file.
    Export,
}

pub fn run(store: &mut Store, command: CannedCommand) -> anyhow::Result<()> {
    match command {
        CannedCommand::List => {
            for c in store.canned()? {
                let shortcut = c.shortcut.map(|s| format!("/{s}")).unwrap_or_else(|| "-".into());
                let language = c.language.unwrap_or_else(|| "-".into());
                let key = c.key.unwrap_or_else(|| "-".into());
                let body = crate::text::truncate(&crate::text::sanitize(&c.body, false), 60);
                let name = crate::text::sanitize(&c.name, false);
                println!("{name:<24} {shortcut:<14} {language:<4} {key:<8} {body}");
                if !c.actions.is_empty() {
                    println!("{:<24} then: {}", "", crate::text::sanitize(&c.actions.join(", "), false));
                }
            }
        }
        CannedCommand::Add { name, shortcut, body, language, actions, key } => {
            let shortcut = shortcut.map(|s| s.trim_start_matches('/').to_string());
            let canned = Canned { name: name.clone(), shortcut, body, language, actions, key };
            if let Err(why) = store.save_canned(&canned, now_ms())? {
                bail!("not saved: {why}");
            }
            println!("canned reply `{name}` saved");
        }
        CannedCommand::Remove { name } => {
            if !store.remove_canned(&name)? {
                bail!("there is no canned reply `{name}`");
            }
            println!("canned reply `{name}` removed");
        }
        CannedCommand::Import { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let parsed: CannedFile = toml::from_str(&text).map_err(|e| {
                anyhow::anyhow!("{}: {}", file.display(), crate::config::describe_toml_error(&text, &e))
            })?;
            match store.import_canned(&parsed, now_ms())? {
                Ok(n) => println!("{n} canned replies imported from {}", file.display()),
                Err(why) => bail!("{}: nothing imported: {why}", file.display()),
            }
        }
        CannedCommand::Export => {
            let file = CannedFile { canned: store.canned()? };
            print!("{}", toml::to_string(&file)?);
        }
    }
    Ok(())
}

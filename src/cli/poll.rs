//! `switchboard poll`: polls from the command line: create one, list them, send one to a
//! chat, and the tally of the answers (text, JSON or CSV). To send one to a segment, a
//! campaign takes it: `campaign preview|launch --poll NAME`.

use std::io::Write;

use anyhow::bail;
use clap::{Subcommand, ValueEnum};

use crate::config::Paths;
use crate::model::ChannelKind;
use crate::store::{Poll, Store};
use crate::text::sanitize;

#[derive(Debug, Subcommand)]
pub enum PollCommand {
    /// A question with 2 to 10 options (each 1 to 20 characters).
    Create {
        name: String,
        #[arg(long)]
        question: String,
        /// An option, in order; repeat it.
        #[arg(long = "option")]
        options: Vec<String>,
    },
    /// Every poll: name, question, options.
    List,
    /// Sends a poll to one chat (as `send` does).
    Send {
        name: String,
        #[arg(long, value_parser = super::parse_channel)]
        channel: ChannelKind,
        #[arg(long)]
        chat: String,
    },
    /// The answers so far: per option, and per campaign variant (`direct` for a poll sent
    /// to a chat). Each customer's latest press counts.
    Results {
        name: String,
        #[arg(long, value_enum, default_value = "text")]
        format: TallyFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TallyFormat {
    Text,
    Json,
    Csv,
}

pub fn run(paths: &Paths, command: PollCommand) -> anyhow::Result<()> {
    let store = super::open_store(paths)?;
    let out = &mut std::io::stdout().lock();
    match command {
        PollCommand::Create { name, question, options } => {
            match store.create_poll(&name, &question, &options, crate::model::now_ms())? {
                Ok(poll) => writeln!(out, "poll `{}` saved: {} options", poll.name, poll.options.len())?,
                Err(why) => bail!("not saved: {why}"),
            }
        }
        PollCommand::List => {
            for p in store.polls()? {
                writeln!(out, "{:<20} {}", sanitize(&p.name, false), sanitize(&p.question, false))?;
                writeln!(out, "{:<20} {}", "", sanitize(&p.options.join(" · "), false))?;
            }
        }
        PollCommand::Send { name, channel, chat } => {
            let poll = find(&store, &name)?;
            let message = poll.message();
            message.check(channel).map_err(anyhow::Error::msg)?;
            drop(store);
            super::send(paths, channel, chat, message)?;
        }
        PollCommand::Results { name, format } => {
            let Some(tally) = store.poll_tally(&name)? else { bail!("there is no poll `{name}`") };
            match format {
                TallyFormat::Json => {
                    serde_json::to_writer(&mut *out, &tally)?;
                    writeln!(out)?;
                }
                TallyFormat::Csv => {
                    let mut csv = csv::Writer::from_writer(&mut *out);
                    let variants: Vec<&String> = tally.by_variant.keys().collect();
                    let mut header = vec!["option".to_string(), "answers".to_string()];
                    header.extend(variants.iter().map(|v| format!("variant {v}")));
                    csv.write_record(&header)?;
                    for (i, (option, n)) in tally.options.iter().enumerate() {
                        let mut row = vec![option.clone(), n.to_string()];
                        row.extend(variants.iter().map(|v| tally.by_variant[*v][i].to_string()));
                        csv.write_record(&row)?;
                    }
                    csv.flush()?;
                }
                TallyFormat::Text => {
                    writeln!(out, "{} — {} answers", sanitize(&tally.question, false), tally.answered)?;
                    let widest = tally.options.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
                    for (option, n) in &tally.options {
                        let bar = "█".repeat((*n * 30 / widest) as usize);
                        writeln!(out, "  {:<20} {n:>5}  {bar}", sanitize(option, false))?;
                    }
                    for (variant, counts) in &tally.by_variant {
                        let counts: Vec<String> = counts.iter().map(ToString::to_string).collect();
                        writeln!(out, "  variant {variant}: {}", counts.join(" / "))?;
                    }
                }
            }
        }
    }
    Ok(())
}

pub fn find(store: &Store, name: &str) -> anyhow::Result<Poll> {
    match store.poll(name)? {
        Some(p) => Ok(p),
        None => bail!("there is no poll `{name}` (switchboard poll list)"),
    }
}

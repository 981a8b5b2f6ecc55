//! `switchboard contact …` and `switchboard contacts duplicates`: one person across
//! channels from a script: the suggested merges and their reasons, a merge previewed
//! then made, a wrong merge split apart, a number an agent claims.

use std::io::Write;

use clap::Subcommand;

use crate::config::Config;
use crate::model::{ChannelKind, ContactId, now_ms};
use crate::store::{ContactCard, MergePreview, Store};
use crate::text::sanitize;

#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// Make B part of A: B's identities, conversations, consent, tags and numbers move
    /// to A, A's values win conflicts, and B is gone. --dry-run shows the result only.
    Merge {
        a: i64,
        b: i64,
        #[arg(long)]
        dry_run: bool,
    },
    /// Take one identity (CHANNEL:ID) out of a contact, with its conversations and its
    /// channel's consent: back to the contact it was merged from, or to a new one.
    Split {
        contact: i64,
        #[arg(long, value_name = "CHANNEL:ID")]
        identity: String,
    },
    /// Say A and B are two people: no longer suggested as one.
    Distinct { a: i64, b: i64 },
    /// Record a number the contact gave (claimed: it suggests, never links by itself).
    Phone { contact: i64, number: String },
    /// The contact's identities, numbers and link history.
    Show { contact: i64 },
}

#[derive(Debug, Subcommand)]
pub enum ContactsCommand {
    /// Pairs of contacts that may be one person, with the reasons.
    Duplicates,
}

pub fn contacts(store: &Store, command: ContactsCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    match command {
        ContactsCommand::Duplicates => {
            let found = store.duplicates()?;
            if found.is_empty() {
                writeln!(out, "no suggested merges")?;
            }
            for s in found {
                writeln!(
                    out,
                    "{:>6} {}  ⇄ {:>6} {}",
                    s.a,
                    sanitize(&s.a_name, false),
                    s.b,
                    sanitize(&s.b_name, false)
                )?;
                for reason in &s.reasons {
                    writeln!(out, "         {}", sanitize(reason, false))?;
                }
            }
            Ok(())
        }
    }
}

pub fn contact(store: &mut Store, command: ContactCommand, config: &Config, out: &mut dyn Write) -> anyhow::Result<()> {
    let agent = &config.ui.agent_name;
    match command {
        ContactCommand::Merge { a, b, dry_run } => {
            let preview = store.preview_merge(ContactId(a), ContactId(b))?;
            write_preview(&preview, out)?;
            if dry_run {
                writeln!(out, "\n(dry run: nothing changed)")?;
            } else {
                store.merge_contacts(ContactId(a), ContactId(b), agent, now_ms())?;
                writeln!(out, "\nmerged: contact {b} is now part of contact {a}")?;
            }
        }
        ContactCommand::Split { contact, identity } => {
            let (channel, id) = identity
                .split_once(':')
                .filter(|(_, id)| !id.is_empty())
                .ok_or_else(|| anyhow::anyhow!("--identity `{identity}` is not CHANNEL:ID (telegram:4242)"))?;
            let channel: ChannelKind = crate::cli::parse_channel(channel).map_err(anyhow::Error::msg)?;
            let split = store.split_contact(ContactId(contact), channel, id, agent, now_ms())?;
            writeln!(
                out,
                "{identity} is now contact {}{}: {} conversations and {} consent events went with it",
                split.contact,
                if split.restored { " (given back as it was before the merge)" } else { " (new)" },
                split.conversations,
                split.consent_events
            )?;
        }
        ContactCommand::Distinct { a, b } => {
            store.contact_card(ContactId(a))?;
            store.contact_card(ContactId(b))?;
            store.mark_distinct(ContactId(a), ContactId(b), agent, now_ms())?;
            writeln!(out, "contacts {a} and {b} are two people: no longer suggested as one")?;
        }
        ContactCommand::Phone { contact, number } => {
            store.contact_card(ContactId(contact))?;
            let e164 =
                store.claim_phone(ContactId(contact), &number, config.contacts.default_region, agent, now_ms())?;
            writeln!(out, "contact {contact}: {e164} (claimed)")?;
        }
        ContactCommand::Show { contact } => {
            let card = store.contact_card(ContactId(contact))?;
            write_card("", &card, out)?;
            for link in store.links(ContactId(contact))? {
                writeln!(
                    out,
                    "  {}  {:<8} {}",
                    crate::export::rfc3339(link.at),
                    link.kind,
                    sanitize(&link.reason, false)
                )?;
            }
        }
    }
    Ok(())
}

fn write_card(title: &str, card: &ContactCard, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(out, "{title}contact {}: {}  (stage {})", card.id, sanitize(&card.name, false), card.stage)?;
    for i in &card.identities {
        writeln!(out, "  {:<8} {}", i.channel.as_str(), sanitize(&i.external_id, false))?;
    }
    for p in &card.phones {
        writeln!(out, "  phone    {p}")?;
    }
    if !card.tags.is_empty() {
        writeln!(out, "  tags     {}", sanitize(&card.tags.join(", "), false))?;
    }
    for (name, value) in &card.attributes {
        writeln!(out, "  {}: {}", sanitize(name, false), sanitize(value, false))?;
    }
    Ok(())
}

fn write_preview(p: &MergePreview, out: &mut dyn Write) -> anyhow::Result<()> {
    write_card("stays:  ", &p.stays, out)?;
    write_card("joins:  ", &p.joins, out)?;
    write_card("\nresult: ", &p.result, out)?;
    writeln!(out, "  conversations: {} move to it", p.conversations)?;
    for (name, kept, dropped) in &p.conflicts {
        writeln!(
            out,
            "  conflict: {} is {} (kept) / {} (dropped)",
            sanitize(name, false),
            sanitize(kept, false),
            sanitize(dropped, false)
        )?;
    }
    writeln!(out, "  stage: {}", sanitize(&p.stage, false))?;
    writeln!(out, "  consent ({} events change hands; none is rewritten):", p.consent_events)?;
    for c in &p.result.consent {
        writeln!(
            out,
            "    {:<8} {:<9} {:<7} {} ({})",
            c.channel.as_str(),
            c.purpose,
            c.action,
            crate::export::rfc3339(c.at),
            sanitize(c.evidence.as_deref().unwrap_or(&c.source), false)
        )?;
    }
    Ok(())
}

//! Planning and launching a campaign over the store: who the members are as of now,
//! what each gets or why not (`plan`), and the launch that writes all of it in one
//! transaction, planning inside it so what is written is what was planned.

use super::filter::Filter;
use super::plan::{self, Message, Plan};
use super::policy::CampaignPolicy;
use crate::model::{CampaignId, Millis};
use crate::store::{Fate, NewCampaign, NewRecipient, Result, Store, StoreError};

/// A launched campaign: its id, the plan that was written, and how many of those it
/// reaches were held out.
#[derive(Debug, Clone, PartialEq)]
pub struct Launched {
    pub id: CampaignId,
    pub plan: Plan,
    pub held: usize,
}

/// Plans `message` for the members of `filter` as of `now`; nothing is written.
pub fn plan(store: &Store, filter: &Filter, message: &Message, policy: &CampaignPolicy, now: Millis) -> Result<Plan> {
    let mut planner = plan::Planner::new(message, policy, now);
    store.for_each_member(&filter.condition(now), now - policy.frequency_period, |m| planner.add(&m))?;
    Ok(planner.finish())
}

/// Plans and launches in one transaction: the campaign, every recipient and every outbox
/// row, or nothing. A campaign name is used once.
pub fn launch(
    store: &mut Store,
    name: &str,
    segment: Option<&str>,
    filter_text: &str,
    message: &Message,
    policy: &CampaignPolicy,
    now: Millis,
) -> Result<Launched> {
    let filter = Filter::parse(filter_text).map_err(|e| StoreError::NotFound(format!("the filter: {e}")))?;
    let variants = serde_json::json!(
        message
            .variants
            .iter()
            .map(
                |v| serde_json::json!({"name": v.name, "text": v.text.source(), "share": v.share, "buttons": v.buttons})
            )
            .collect::<Vec<_>>()
    );
    let new = NewCampaign {
        name,
        segment,
        filter: filter_text,
        template: message.variants[0].text.source(),
        variants: variants.to_string(),
        brake_share: policy.brake_share,
        brake_min_sent: policy.brake_min_sent,
        reply_window: policy.reply_window,
    };
    let (id, plan) = store.launch(&new, &filter.condition(now), now - policy.frequency_period, now, |members| {
        let plan = plan::plan(members, message, policy, now);
        (rows(&plan, message), plan)
    })?;
    let held = plan.included.iter().filter(|i| plan::held_out(&message.split_key, i.contact, message.holdout)).count();
    Ok(Launched { id, plan, held })
}

/// The plan as the store writes it: one row per member; of those it reaches, the
/// holdout's share is held out (written, sent nothing).
fn rows(plan: &Plan, message: &Message) -> Vec<NewRecipient> {
    let included = plan.included.iter().map(|i| NewRecipient {
        contact: i.contact,
        channel: Some(i.channel),
        chat_id: i.chat_id.clone(),
        conversation: i.conversation,
        fate: if plan::held_out(&message.split_key, i.contact, message.holdout) {
            Fate::Held { variant: i.variant.clone() }
        } else {
            Fate::Send { variant: i.variant.clone(), outgoing: i.outgoing.clone() }
        },
    });
    let excluded = plan.excluded.iter().map(|e| NewRecipient {
        contact: e.contact,
        channel: e.channel,
        chat_id: e.chat_id.clone().unwrap_or_default(),
        conversation: None,
        fate: Fate::Excluded { reason: e.reason.code(), detail: e.detail.clone() },
    });
    included.chain(excluded).collect()
}

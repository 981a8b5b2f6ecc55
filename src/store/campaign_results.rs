//! What a campaign's messages became, counted per variant in one query: the raw figures
//! `campaign::results` compares.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError};
use crate::model::{CampaignId, Millis};

/// The outcome counts of one variant.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct VariantResults {
    pub variant: String,
    pub recipients: i64,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub clicked: i64,
    pub replied: i64,
    pub opted_out: i64,
    pub failed: i64,
}

/// What a campaign's recipients `r` and their messages `m` became, as six summed
/// columns: sent, delivered, read, clicked, replied (a customer message within `window`,
/// an SQL expression, of one that went out) and opted out afterwards. One definition for
/// `campaign results` and `report campaigns`.
pub(super) fn outcomes(window: &str) -> String {
    format!(
        "coalesce(sum(m.status IN ('sent', 'delivered', 'read')), 0), \
         coalesce(sum(m.status IN ('delivered', 'read')), 0), \
         coalesce(sum(m.status = 'read'), 0), \
         coalesce(sum(EXISTS (SELECT 1 FROM message_events me WHERE me.message_id = m.id AND me.kind = 'click')), 0), \
         coalesce(sum(m.status IN ('sent', 'delivered', 'read') AND EXISTS (SELECT 1 FROM messages x \
           WHERE x.conversation_id = m.conversation_id AND x.direction = 'in' \
             AND x.kind NOT IN ('click', 'system', 'reaction') \
             AND x.sent_at > m.sent_at AND x.sent_at <= m.sent_at + {window})), 0), \
         coalesce(sum(EXISTS (SELECT 1 FROM consent_events e WHERE e.contact_id = r.contact_id \
           AND e.channel = r.channel AND e.purpose = 'marketing' AND e.action = 'opt_out' AND e.at >= m.sent_at)), 0)"
    )
}

impl Store {
    /// What each variant's messages became, and the campaign's reply window: what
    /// `campaign::results` compares.
    pub fn variant_counts(&self, name: &str) -> Result<(Vec<VariantResults>, Millis)> {
        let (id, window): (CampaignId, Millis) = self
            .conn
            .query_row("SELECT id, reply_window FROM campaigns WHERE name = ?1", [name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("no campaign named `{name}`")))?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT coalesce(r.variant, 'A'), count(*), {}, \
                   coalesce(sum(m.status = 'failed' AND r.state <> 'skipped'), 0) \
                 FROM campaign_recipients r JOIN messages m ON m.id = r.message_id \
                 WHERE r.campaign_id = ?1 GROUP BY 1 ORDER BY 1",
            outcomes("?2")
        ))?;
        let variants = stmt
            .query_map(params![id, window], |r| {
                Ok(VariantResults {
                    variant: r.get(0)?,
                    recipients: r.get(1)?,
                    sent: r.get(2)?,
                    delivered: r.get(3)?,
                    read: r.get(4)?,
                    clicked: r.get(5)?,
                    replied: r.get(6)?,
                    opted_out: r.get(7)?,
                    failed: r.get(8)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((variants, window))
    }
}

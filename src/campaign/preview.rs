//! A campaign preview as the console keeps it: the counts and the reasons, which member
//! each row stands for, and the rendered rows of one page. A segment of 50,000 members
//! made a plan of tens of megabytes (every member's text, name and chat); this keeps
//! eight bytes a row, and renders the rows of a page when they are to be shown, from
//! the members as they are then.

use super::plan::{self, Excluded, Included, Message, Tally, Totals};
use super::{CampaignPolicy, Filter};
use crate::model::{ContactId, Millis};
use crate::store::{Condition, Result, Store};

/// Rows rendered at once.
pub const PAGE: usize = 60;

/// One row of a preview.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    Included(Included),
    Excluded(Excluded),
    /// The member was deleted since the preview was made.
    Gone(ContactId),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub totals: Totals,
    /// Each row's member: those who get the campaign first, then those left out, each
    /// in the order the plan met them.
    pub rows: Vec<ContactId>,
    /// The rendered rows from `page_at` on.
    pub page_at: usize,
    pub page: Vec<Row>,
    /// What was previewed, for rendering further pages the same way.
    pub message: Message,
    pub policy: CampaignPolicy,
}

impl Preview {
    /// Plans `message` for the members `filter` picks, as `launch::plan` does, keeping
    /// each decision's member and the first page's rows.
    pub fn make(
        store: &Store,
        filter: &Filter,
        message: &Message,
        policy: &CampaignPolicy,
        now: Millis,
    ) -> Result<Preview> {
        let (mut included, mut excluded) = (Vec::new(), Vec::new());
        let (mut first_in, mut first_out) = (Vec::new(), Vec::new());
        let mut tally = Tally::default();
        let mut members = 0;
        store.for_each_member(&filter.condition(now), now - policy.frequency_period, |m| {
            members += 1;
            match plan::decide(&m, message, policy, now) {
                Ok(i) => {
                    tally.included(&i);
                    included.push(i.contact);
                    if first_in.len() < PAGE {
                        first_in.push(Row::Included(i));
                    }
                }
                Err(e) => {
                    tally.excluded(&e);
                    excluded.push(e.contact);
                    if first_out.len() < PAGE {
                        first_out.push(Row::Excluded(e));
                    }
                }
            }
        })?;
        first_in.extend(first_out);
        first_in.truncate(PAGE);
        included.extend(excluded);
        Ok(Preview {
            totals: tally.totals(members),
            rows: included,
            page_at: 0,
            page: first_in,
            message: message.clone(),
            policy: policy.clone(),
        })
    }

    /// The row at `i`, when it is on the rendered page.
    pub fn row(&self, i: usize) -> Option<&Row> {
        self.page.get(i.checked_sub(self.page_at)?)
    }

    /// Whether rows `at..at + count` that exist are all on the rendered page.
    pub fn shows(&self, at: usize, count: usize) -> bool {
        let end = (at + count).min(self.rows.len());
        at >= self.page_at && end <= self.page_at + self.page.len()
    }

    /// Renders the rows of `contacts` from the members as they are at `now`, one row
    /// each, in order (a member deleted since is `Row::Gone`, so the page keeps its
    /// places).
    pub fn render(
        store: &Store,
        contacts: &[ContactId],
        message: &Message,
        policy: &CampaignPolicy,
        now: Millis,
    ) -> Result<Vec<Row>> {
        let ids: Vec<i64> = contacts.iter().map(|c| c.0).collect();
        let condition = Condition {
            sql: "c.id IN (SELECT value FROM json_each(?))".into(),
            params: vec![serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into()).into()],
        };
        let mut found = std::collections::HashMap::new();
        store.for_each_member(&condition, now - policy.frequency_period, |m| {
            found.insert(m.contact, m);
        })?;
        Ok(contacts
            .iter()
            .map(|c| match found.get(c).map(|m| plan::decide(m, message, policy, now)) {
                Some(Ok(i)) => Row::Included(i),
                Some(Err(e)) => Row::Excluded(e),
                None => Row::Gone(*c),
            })
            .collect())
    }
}

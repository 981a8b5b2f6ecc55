//! Campaigns: the segment filter language, message templates, the rules every campaign
//! keeps, and planning (who gets exactly what, and why the others get nothing). The store
//! keeps segments and campaigns; the outbox sender sends their messages.

pub mod filter;
pub mod guard;
pub mod launch;
pub mod plan;
pub mod policy;
pub mod preview;
pub mod results;
pub mod template;

pub use filter::{Filter, FilterError};
pub use launch::Launched;
pub use plan::{Excluded, Included, Message, Plan, Reason, Variant, WhatsAppTemplate};
pub use policy::CampaignPolicy;
pub use template::Template;

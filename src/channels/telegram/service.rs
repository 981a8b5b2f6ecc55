//! Telegram service messages: a member joined or left, a title, photo or pin changed, a
//! group migrated, a forum topic or a video chat started, and the like. The Bot API sends
//! them as `Message`s with one service field set; they are notices, not something a
//! customer said, so they become `system` rows that never mark a conversation waiting.
//! Read from the raw JSON, so a field newer than teloxide's types is still understood.

use serde_json::Value;

use crate::model::{ChannelKind, ChatRef, InboundMessage, Peer};

/// The service fields of a Bot API `Message`, each with how to say it.
const FIELDS: &[&str] = &[
    "new_chat_members",
    "left_chat_member",
    "new_chat_title",
    "new_chat_photo",
    "delete_chat_photo",
    "group_chat_created",
    "supergroup_chat_created",
    "channel_chat_created",
    "message_auto_delete_timer_changed",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
    "pinned_message",
    "forum_topic_created",
    "forum_topic_edited",
    "forum_topic_closed",
    "forum_topic_reopened",
    "general_forum_topic_hidden",
    "general_forum_topic_unhidden",
    "video_chat_scheduled",
    "video_chat_started",
    "video_chat_ended",
    "video_chat_participants_invited",
    "boost_added",
    "chat_background_set",
    "proximity_alert_triggered",
    "write_access_allowed",
    "connected_website",
    "giveaway_created",
    "giveaway_completed",
    "checklist_tasks_done",
    "checklist_tasks_added",
    "direct_message_price_changed",
    "paid_message_price_changed",
    "chat_owner_left",
    "chat_owner_changed",
    "successful_payment",
    "refunded_payment",
    "community_chat_added",
    "community_chat_removed",
    "community_chat_joined",
    "managed_bot_created",
    "poll_option_added",
    "poll_option_deleted",
    "gift",
    "unique_gift",
    "gift_upgrade_sent",
    "suggested_post_approved",
    "suggested_post_approval_failed",
    "suggested_post_declined",
    "suggested_post_paid",
    "suggested_post_refunded",
];

/// The service message in `msg` (a raw `Message`), if it is one: a `system` row.
pub fn decode(msg: &Value) -> Option<InboundMessage> {
    let field = FIELDS.iter().find(|f| msg.get(**f).is_some_and(|v| !v.is_null()))?;
    let chat = &msg["chat"];
    let chat_id = id_text(&chat["id"])?;
    let message_id = id_text(&msg["message_id"])?;
    let from = msg.get("from").map(peer).unwrap_or_else(|| Peer {
        external_id: chat_id.clone(),
        display_name: chat["title"].as_str().unwrap_or("the group").to_string(),
        username: None,
        locale: None,
    });
    let is_group = matches!(chat["type"].as_str(), Some("group" | "supergroup" | "channel"));
    let title = match chat["title"].as_str() {
        Some(t) if is_group => t.to_string(),
        _ => from.display_name.clone(),
    };
    let line = line(field, &msg[*field], &from);
    let chat = ChatRef { channel: ChannelKind::Telegram, external_chat_id: chat_id, is_group, title };
    let at = msg["date"].as_i64().unwrap_or(0).saturating_mul(1000);
    let mut m = InboundMessage::text(chat, from, message_id, line, at);
    m.kind = "system".into();
    m.media = Some(serde_json::json!({ "service": field, "detail": msg[*field] }).to_string());
    Some(m)
}

fn id_text(v: &Value) -> Option<String> {
    v.as_i64().map(|i| i.to_string()).or_else(|| v.as_u64().map(|u| u.to_string()))
}

fn peer(user: &Value) -> Peer {
    Peer {
        external_id: id_text(&user["id"]).unwrap_or_default(),
        display_name: name(user),
        username: user["username"].as_str().map(str::to_string),
        locale: user["language_code"].as_str().map(str::to_string),
    }
}

/// A user's name as people read it.
fn name(user: &Value) -> String {
    let full = [user["first_name"].as_str(), user["last_name"].as_str()].into_iter().flatten().collect::<Vec<_>>();
    match (full.is_empty(), user["username"].as_str()) {
        (false, _) => full.join(" "),
        (true, Some(u)) => format!("@{u}"),
        (true, None) => "someone".into(),
    }
}

/// What happened, as a line in the conversation.
fn line(field: &str, v: &Value, from: &Peer) -> String {
    let quoted = |key: &str| v[key].as_str().map(|s| format!(" “{s}”")).unwrap_or_default();
    let who = &from.display_name;
    match field {
        "new_chat_members" => {
            let names: Vec<String> = v.as_array().into_iter().flatten().map(name).collect();
            let joined_alone = names.len() == 1
                && v[0]["id"].as_i64().map(|i| i.to_string()).as_deref() == Some(from.external_id.as_str());
            if joined_alone { format!("{who} joined the group") } else { format!("{who} added {}", names.join(", ")) }
        }
        "left_chat_member" => {
            let gone = name(v);
            if gone == *who { format!("{who} left the group") } else { format!("{who} removed {gone}") }
        }
        "new_chat_title" => format!("{who} renamed the group to “{}”", v.as_str().unwrap_or("")),
        "new_chat_photo" => format!("{who} changed the group's photo"),
        "delete_chat_photo" => format!("{who} removed the group's photo"),
        "group_chat_created" | "supergroup_chat_created" => format!("{who} created the group"),
        "channel_chat_created" => "the channel was created".into(),
        "message_auto_delete_timer_changed" => match v["message_auto_delete_time"].as_i64() {
            Some(0) | None => format!("{who} turned off disappearing messages"),
            Some(s) => format!("{who} set messages to disappear after {}", span(s)),
        },
        "migrate_to_chat_id" => format!("the group became a supergroup (now chat {v})"),
        "migrate_from_chat_id" => format!("this supergroup was the group {v}"),
        "pinned_message" => {
            let text = v["text"].as_str().or(v["caption"].as_str()).unwrap_or("a message");
            let short: String = text.chars().take(60).collect();
            format!("{who} pinned “{short}”")
        }
        "forum_topic_created" => format!("{who} created the topic{}", quoted("name")),
        "forum_topic_edited" => format!("{who} edited the topic{}", quoted("name")),
        "forum_topic_closed" => format!("{who} closed the topic"),
        "forum_topic_reopened" => format!("{who} reopened the topic"),
        "general_forum_topic_hidden" => format!("{who} hid the General topic"),
        "general_forum_topic_unhidden" => format!("{who} showed the General topic"),
        "video_chat_scheduled" => format!("{who} scheduled a video chat"),
        "video_chat_started" => format!("{who} started a video chat"),
        "video_chat_ended" => match v["duration"].as_i64() {
            Some(s) => format!("the video chat ended after {}", span(s)),
            None => "the video chat ended".into(),
        },
        "video_chat_participants_invited" => {
            let names: Vec<String> = v["users"].as_array().into_iter().flatten().map(name).collect();
            format!(
                "{who} invited {} to the video chat",
                if names.is_empty() { "people".into() } else { names.join(", ") }
            )
        }
        "boost_added" => format!("{who} boosted the group"),
        "chat_background_set" => format!("{who} changed the chat's background"),
        "proximity_alert_triggered" => format!("{who} is near"),
        "write_access_allowed" => format!("{who} allowed the bot to write"),
        "connected_website" => format!("{who} logged in on {}", v.as_str().unwrap_or("a website")),
        "giveaway_created" => "a giveaway was started".into(),
        "giveaway_completed" => "a giveaway ended".into(),
        "checklist_tasks_done" => format!("{who} marked checklist tasks done"),
        "checklist_tasks_added" => format!("{who} added tasks to the checklist"),
        "direct_message_price_changed" | "paid_message_price_changed" => "the price of messages changed".into(),
        "chat_owner_left" => "the owner left the chat".into(),
        "successful_payment" => {
            format!("{who} paid {}", super::kinds::money(&v["total_amount"], v["currency"].as_str().unwrap_or("")))
        }
        "refunded_payment" => format!(
            "{} refunded to {who}",
            super::kinds::money(&v["total_amount"], v["currency"].as_str().unwrap_or(""))
        ),
        "chat_owner_changed" => "the chat has a new owner".into(),
        "community_chat_added" | "community_chat_joined" => match v["community"]["name"].as_str() {
            Some(name) if field == "community_chat_added" => format!("the chat was added to the community “{name}”"),
            Some(name) => format!("{who} joined from the community “{name}”"),
            None => "the chat was added to a community".into(),
        },
        "community_chat_removed" => "the chat was removed from its community".into(),
        "managed_bot_created" => {
            let bot = v["bot"]["username"].as_str().map(|u| format!(" @{u}")).unwrap_or_default();
            format!("{who} created the bot{bot}")
        }
        "poll_option_added" => format!("{who} added the option{} to the poll", quoted("option_text")),
        "poll_option_deleted" => format!("{who} deleted the option{} from the poll", quoted("option_text")),
        "gift" | "unique_gift" => format!("{who} sent a gift"),
        "gift_upgrade_sent" => format!("{who} upgraded a gift"),
        "suggested_post_approved" => "a suggested post was approved".into(),
        "suggested_post_approval_failed" => "a suggested post could not be approved".into(),
        "suggested_post_declined" => "a suggested post was declined".into(),
        "suggested_post_paid" => "a suggested post was paid for".into(),
        "suggested_post_refunded" => "a suggested post was refunded".into(),
        other => format!("service message: {other}"),
    }
}

/// Seconds as people say a span.
fn span(secs: i64) -> String {
    match secs {
        s if s % 86_400 == 0 => format!("{} day(s)", s / 86_400),
        s if s % 3_600 == 0 => format!("{} hour(s)", s / 3_600),
        s if s % 60 == 0 => format!("{} minute(s)", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(field: &str, value: Value) -> Value {
        json!({"message_id": 7, "date": 1773134113, field: value,
               "chat": {"id": -1001234567890i64, "type": "supergroup", "title": "Опт Казань"},
               "from": {"id": 42, "is_bot": false, "first_name": "Анна"}})
    }

    #[test]
    fn members_titles_pins_and_topics_read_as_notices() {
        let joined =
            decode(&msg("new_chat_members", json!([{"id": 42, "is_bot": false, "first_name": "Анна"}]))).unwrap();
        assert_eq!((joined.kind.as_str(), joined.text.as_str()), ("system", "Анна joined the group"));
        assert!(joined.chat.is_group && joined.chat.title == "Опт Казань");
        let added =
            decode(&msg("new_chat_members", json!([{"id": 43, "is_bot": false, "first_name": "Иван"}]))).unwrap();
        assert_eq!(added.text, "Анна added Иван");
        let pinned = decode(&msg(
            "pinned_message",
            json!({"message_id": 3, "date": 1, "text": "Прайс на ноябрь", "chat": {"id": 1, "type": "private"}}),
        ))
        .unwrap();
        assert_eq!(pinned.text, "Анна pinned “Прайс на ноябрь”");
        assert_eq!(decode(&msg("new_chat_title", json!("Опт"))).unwrap().text, "Анна renamed the group to “Опт”");
        assert_eq!(
            decode(&msg("forum_topic_created", json!({"name": "Доставка", "icon_color": 1}))).unwrap().text,
            "Анна created the topic “Доставка”"
        );
        assert_eq!(
            decode(&msg("migrate_to_chat_id", json!(-1009876))).unwrap().text,
            "the group became a supergroup (now chat -1009876)"
        );
        assert_eq!(decode(&msg("delete_chat_photo", json!(true))).unwrap().sent_at, 1_773_134_113_000);
    }

    #[test]
    fn ordinary_messages_are_not_service_messages() {
        assert!(
            decode(&json!({"message_id": 1, "date": 1, "text": "hi", "chat": {"id": 1, "type": "private"}})).is_none()
        );
        assert!(decode(&msg("pinned_message", Value::Null)).is_none());
    }
}

//! The updates the emulator's customers cause, in the Bot API's exact JSON: messages,
//! photos, locations, edits, button presses, blocks and deep links.

use serde_json::{Value, json};

use super::customers::Customer;

/// The bot the emulator pretends to be.
pub const BOT_ID: i64 = 7_000_000_001;
pub const BOT_NAME: &str = "Switchboard Demo";
pub const BOT_USERNAME: &str = "switchboard_demo_bot";

pub fn bot_user() -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": BOT_NAME, "username": BOT_USERNAME})
}

pub fn private_chat(c: &Customer) -> Value {
    let mut chat = json!({"id": c.id, "type": "private", "first_name": c.first_name});
    if let Some(last) = &c.last_name {
        chat["last_name"] = json!(last);
    }
    if let Some(u) = &c.username {
        chat["username"] = json!(u);
    }
    chat
}

pub fn user(c: &Customer) -> Value {
    let mut user = json!({"id": c.id, "is_bot": false, "first_name": c.first_name, "language_code": c.lang});
    if let Some(last) = &c.last_name {
        user["last_name"] = json!(last);
    }
    if let Some(u) = &c.username {
        user["username"] = json!(u);
    }
    user
}

/// What a customer does, as the body of a `message` (or `edited_message`).
#[derive(Debug, Clone, PartialEq)]
pub enum Said {
    Text(String),
    Photo { caption: Option<String> },
    Location { latitude: f64, longitude: f64 },
    Start(String),
}

pub fn message(c: &Customer, message_id: i64, date: i64, said: &Said) -> Value {
    let mut m = json!({"message_id": message_id, "date": date, "chat": private_chat(c), "from": user(c)});
    match said {
        Said::Text(text) => m["text"] = json!(text),
        Said::Start(payload) => {
            m["text"] = json!(format!("/start {payload}"));
            m["entities"] = json!([{"type": "bot_command", "offset": 0, "length": 6}]);
        }
        Said::Photo { caption } => {
            let id = format!("AgACAgIAAxk-demo-{message_id}");
            m["photo"] = json!([
                {"file_id": format!("{id}-s"), "file_unique_id": format!("u{message_id}s"), "width": 90, "height": 120, "file_size": 2100},
                {"file_id": id, "file_unique_id": format!("u{message_id}"), "width": 960, "height": 1280, "file_size": 187_000}
            ]);
            if let Some(caption) = caption {
                m["caption"] = json!(caption);
            }
        }
        Said::Location { latitude, longitude } => m["location"] = json!({"latitude": latitude, "longitude": longitude}),
    }
    m
}

/// A press on a button of one of our messages.
pub fn callback_query(c: &Customer, query_id: &str, our_message: Value, data: &str) -> Value {
    json!({"callback_query": {
        "id": query_id, "from": user(c), "message": our_message,
        "chat_instance": format!("-{}", c.id), "data": data
    }})
}

/// The customer blocked (`kicked`) or unblocked (`member`) the bot.
pub fn my_chat_member(c: &Customer, date: i64, blocked: bool) -> Value {
    let (old, new) = if blocked {
        (
            json!({"user": bot_user(), "status": "member"}),
            json!({"user": bot_user(), "status": "kicked", "until_date": 0}),
        )
    } else {
        (
            json!({"user": bot_user(), "status": "kicked", "until_date": 0}),
            json!({"user": bot_user(), "status": "member"}),
        )
    };
    json!({"my_chat_member": {
        "chat": private_chat(c), "from": user(c), "date": date,
        "old_chat_member": old, "new_chat_member": new
    }})
}

//! The sandbox: loopback emulators of the messenger APIs with scripted customers. `--demo`
//! and the tests both use it, so both go through the real adapters over real HTTP.

pub mod customers;
mod history;
pub mod people;
pub mod push;
mod script;
pub mod seed;
pub mod telegram;
mod telegram_control;
pub mod telegram_files;
mod telegram_send;
pub mod telegram_updates;
pub mod viber;
pub mod vk;
pub mod whatsapp;

pub use customers::Customer;
pub use telegram::{EmulatorOptions, SentMessage, TelegramEmulator};
pub use telegram_updates::Said;

/// Tells a broadcast from a conversation the way a customer's phone would: many
/// customers getting a message from the business within seconds of each other.
#[derive(Debug, Default)]
pub struct BroadcastSense {
    recent: std::collections::VecDeque<(std::time::Instant, String)>,
}

impl BroadcastSense {
    /// Notes a message to `customer`; true when it is one of a broadcast (three or more
    /// customers written to within three seconds, which no agent typing replies does).
    pub fn note(&mut self, customer: &str) -> bool {
        let now = std::time::Instant::now();
        while self.recent.front().is_some_and(|(t, _)| now.duration_since(*t).as_secs() >= 3) {
            self.recent.pop_front();
        }
        self.recent.push_back((now, customer.to_string()));
        let distinct: std::collections::HashSet<&str> = self.recent.iter().map(|(_, c)| c.as_str()).collect();
        distinct.len() >= 3
    }
}

/// A small deterministic generator (xorshift64*): the demo and the tests need repeatable
/// variety, not cryptographic randomness.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

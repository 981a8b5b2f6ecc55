//! switchboard: a terminal console in which a business talks to its customers over
//! messengers, with one local SQLite store as the single source of truth.

pub mod app;
pub mod automation;
pub mod campaign;
pub mod channels;
pub mod cli;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod export;
pub mod generate;
pub mod import;
pub mod keymap;
pub mod logging;
pub mod model;
pub mod report;
pub mod sandbox;
pub mod spell;
pub mod store;
pub mod sync;
pub mod text;
pub mod theme;
pub mod training;
pub mod ui;

//! Logs go to a daily file under the state directory (or `<data-dir>/logs`): nothing is
//! printed while the console has the terminal. Customer text and secrets are never
//! logged; ids and reasons are.

use std::path::Path;

use anyhow::Context;
use tracing_subscriber::EnvFilter;

pub fn init(dir: &Path, level: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating the log directory {}", dir.display()))?;
    let filter = EnvFilter::try_new(level).with_context(|| format!("log.level `{level}` is not a tracing filter"))?;
    let appender = tracing_appender::rolling::daily(dir, "switchboard.log");
    tracing_subscriber::fmt()
        .with_writer(appender)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot start logging: {e}"))
}

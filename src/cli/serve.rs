//! `switchboard serve`: the engine without a console, by hand or by systemd; or, with
//! `--for-consoles`, the engine a console starts, which stops a few seconds after the
//! last console has gone.

use std::time::Duration;

use anyhow::bail;

use super::{channels, open_store};
use crate::config::{Config, Paths};
use crate::sync::{Engine, EngineLock};

pub(super) async fn serve(paths: &Paths, config: Config, for_consoles: bool) -> anyhow::Result<()> {
    open_store(paths)?;
    crate::logging::init(&paths.log_dir, &config.log.level)?;
    let channels = channels(&config)?;
    if channels.is_empty() {
        bail!("no channel is configured in {}: see config.example.toml", paths.config_file.display());
    }
    let Some(lock) = EngineLock::acquire_patiently(&paths.lock_file())? else {
        let pid = EngineLock::holder(&paths.lock_file()).map(|p| format!(" (pid {p})")).unwrap_or_default();
        bail!("another engine{pid} already serves the store in {}", paths.data_dir.display());
    };
    let rules = config.ingest_rules();
    let _engine = Engine::start_with(
        lock,
        &paths.store_file(),
        channels,
        &config.webhook,
        &rules,
        &config.assignment,
        &config.automation,
    )?;
    if for_consoles {
        tracing::info!("engine started for the consoles; it stops a few seconds after the last one");
        let consoles = paths.consoles_file();
        tokio::select! {
            r = wait_for_stop() => r,
            _ = last_console_gone(&consoles) => {
                tracing::info!("no console attached: the engine stops");
                Ok(())
            }
        }
    } else {
        eprintln!(
            "switchboard: serving {} (logs in {}); Ctrl-C stops.",
            paths.store_file().display(),
            paths.log_dir.display()
        );
        wait_for_stop().await
    }
}

/// Returns once no console has been attached for `CONSOLES_GRACE` (a console that is
/// restarting, or just starting, has that long to attach).
async fn last_console_gone(consoles: &std::path::Path) {
    const CONSOLES_GRACE: Duration = Duration::from_secs(5);
    let mut alone_since: Option<tokio::time::Instant> = None;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if crate::sync::ConsolePresence::any(consoles) {
            alone_since = None;
        } else if alone_since.get_or_insert_with(tokio::time::Instant::now).elapsed() >= CONSOLES_GRACE {
            return;
        }
    }
}

async fn wait_for_stop() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    Ok(())
}

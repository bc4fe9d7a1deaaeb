//! Retention and erasure (docs/privacy.md): a background job deletes what
//! is past its time, and a group's facilitators (over HTTP) or the operator
//! (`peercircle erase`) erase a person's data from a group.
//!
//! The job takes "now" from the server's [`crate::clock::Clock`], so a test
//! moves it on with a paused tokio clock; how long each kind of data is kept
//! comes from the `retention_*` settings.

use std::sync::Arc;
use std::time::Duration;

use crate::app_state::AppState;
use crate::settings::Settings;
use crate::store::{Cutoffs, Expired, Store, StoreResult};

const DAY_MS: i64 = 86_400_000;

/// The instants before which data is past its time at `now`.
pub fn cutoffs(settings: &Settings, now: i64) -> Cutoffs {
    let days = |d: u32| now - i64::from(d) * DAY_MS;
    Cutoffs {
        joins_before: days(settings.retention_joins_days),
        snapshots_before: days(settings.retention_snapshots_days),
        audit_before: days(settings.retention_audit_days),
        bans_before: days(settings.retention_bans_days),
        now,
    }
}

/// Deletes what is past its time at `now`, once.
pub async fn run_once(store: &dyn Store, settings: &Settings, now: i64) -> StoreResult<Expired> {
    let expired = store.expire(&cutoffs(settings, now)).await?;
    for (kind, rows) in expired.counts() {
        crate::metrics::retention_deleted(kind, rows);
    }
    if expired != Expired::default() {
        tracing::info!(
            participants = expired.participants,
            snapshots = expired.snapshots,
            audit = expired.audit,
            bans = expired.bans,
            login_tokens = expired.login_tokens,
            "retention: deleted what was past its time"
        );
    }
    Ok(expired)
}

/// Runs [`run_once`] at start and every `retention_interval_minutes` until
/// the server shuts down (never when the interval is 0).
pub fn spawn_job(state: &AppState) {
    let minutes = state.settings.retention_interval_minutes;
    if minutes == 0 {
        tracing::info!("retention job off (retention_interval_minutes = 0)");
        return;
    }
    let state = state.clone();
    let every = Duration::from_secs(u64::from(minutes) * 60);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = state.shutdown.cancelled() => break,
                _ = ticks.tick() => {
                    if let Err(e) = run_once(state.store.as_ref(), &state.settings, state.now_ms()).await {
                        tracing::error!(error = %e, "retention job failed; it runs again later");
                    }
                }
            }
        }
    });
}

/// Erases a person from a group (see [`Store::erase_participant`]) and
/// counts it. Returns the participant ids erased.
pub async fn erase_participant(
    store: &Arc<dyn Store>,
    group_id: &str,
    participant_id: &str,
    now: i64,
) -> StoreResult<Vec<String>> {
    let erased = store
        .erase_participant(group_id, participant_id, now)
        .await?;
    crate::metrics::erased("participant");
    tracing::info!(group = %group_id, rows = erased.len(), "a person's data was erased from a group");
    Ok(erased)
}

/// `peercircle erase --participant ID`: finds the participant's group and
/// erases them from it.
/// Returns the line for the operator (counts and ids only; main prints it).
pub async fn erase_command(settings: &Settings, participant_id: &str) -> anyhow::Result<String> {
    let store = crate::store::connect(&settings.database).await?;
    let result = async {
        let participant = store
            .participant(participant_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("there is no participant {participant_id}"))?;
        let session = store
            .session(&participant.session_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the participant's session is gone"))?;
        let erased = erase_participant(&store, &session.group_id, participant_id, crate::now_ms())
            .await
            .map_err(|e| match e {
                crate::store::StoreError::Conflict(m) => anyhow::anyhow!(m),
                other => anyhow::anyhow!(other),
            })?;
        anyhow::Ok(format!(
            "Erased {} join(s) of this person from group {}.",
            erased.len(),
            session.group_id
        ))
    }
    .await;
    store.close().await;
    result
}

/// `peercircle expire`: the retention job, once, now.
/// Returns the line for the operator (counts only; main prints it).
pub async fn expire_command(settings: &Settings) -> anyhow::Result<String> {
    let store = crate::store::connect(&settings.database).await?;
    let result = run_once(store.as_ref(), settings, crate::now_ms()).await;
    store.close().await;
    let e = result?;
    Ok(format!(
        "Deleted: {} participants, {} snapshots, {} audit entries, {} bans, {} login tokens.",
        e.participants, e.snapshots, e.audit, e.bans, e.login_tokens
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cutoffs_are_days_back_from_now() {
        let s = Settings::default();
        let now = 1_000 * DAY_MS;
        let c = cutoffs(&s, now);
        assert_eq!(c.joins_before, now - 30 * DAY_MS);
        assert_eq!(c.snapshots_before, now - 30 * DAY_MS);
        assert_eq!(c.audit_before, now - 365 * DAY_MS);
        assert_eq!(c.bans_before, now - 365 * DAY_MS);
        assert_eq!(c.now, now);
    }
}

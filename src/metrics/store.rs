//! [`MeteredStore`]: the store with the latency of every statement in
//! `peercircle_store_seconds{op}` (the operation is the method's name).
//! It wraps whichever backend [`crate::store::connect`] opened.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;

use crate::store::*;

/// A [`Store`] that times every call of the store it wraps.
pub struct MeteredStore {
    inner: Arc<dyn Store>,
}

impl MeteredStore {
    pub fn wrap(inner: Arc<dyn Store>) -> Arc<dyn Store> {
        Arc::new(MeteredStore { inner })
    }
}

async fn timed<T>(op: &'static str, call: impl std::future::Future<Output = T>) -> T {
    let started = Instant::now();
    let out = call.await;
    super::store_latency(op, started.elapsed().as_secs_f64());
    out
}

#[async_trait]
#[allow(clippy::too_many_arguments)]
impl Store for MeteredStore {
    async fn ping(&self) -> StoreResult<()> {
        timed("ping", self.inner.ping()).await
    }

    async fn close(&self) {
        self.inner.close().await
    }

    async fn is_empty(&self) -> StoreResult<bool> {
        timed("is_empty", self.inner.is_empty()).await
    }

    async fn create_facilitator(
        &self,
        email: &str,
        name: &str,
        password_hash: &str,
    ) -> StoreResult<Facilitator> {
        timed(
            "create_facilitator",
            self.inner.create_facilitator(email, name, password_hash),
        )
        .await
    }

    async fn facilitator_by_email(
        &self,
        email: &str,
    ) -> StoreResult<Option<(Facilitator, String)>> {
        timed(
            "facilitator_by_email",
            self.inner.facilitator_by_email(email),
        )
        .await
    }

    async fn facilitator(&self, id: &str) -> StoreResult<Option<Facilitator>> {
        timed("facilitator", self.inner.facilitator(id)).await
    }

    async fn create_login_token(
        &self,
        facilitator_id: &str,
        token_hash: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        timed(
            "create_login_token",
            self.inner
                .create_login_token(facilitator_id, token_hash, expires_at),
        )
        .await
    }

    async fn facilitator_by_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<Facilitator>> {
        timed(
            "facilitator_by_token",
            self.inner.facilitator_by_token(token_hash, now),
        )
        .await
    }

    async fn delete_login_token(&self, token_hash: &str) -> StoreResult<()> {
        timed(
            "delete_login_token",
            self.inner.delete_login_token(token_hash),
        )
        .await
    }

    async fn create_group(&self, facilitator_id: &str, input: &GroupInput) -> StoreResult<Group> {
        timed(
            "create_group",
            self.inner.create_group(facilitator_id, input),
        )
        .await
    }

    async fn update_group(&self, id: &str, input: &GroupInput) -> StoreResult<Group> {
        timed("update_group", self.inner.update_group(id, input)).await
    }

    async fn group(&self, id: &str) -> StoreResult<Option<Group>> {
        timed("group", self.inner.group(id)).await
    }

    async fn access_code_hash(&self, group_id: &str) -> StoreResult<Option<String>> {
        timed("access_code_hash", self.inner.access_code_hash(group_id)).await
    }

    async fn groups_of(&self, facilitator_id: &str) -> StoreResult<Vec<Group>> {
        timed("groups_of", self.inner.groups_of(facilitator_id)).await
    }

    async fn delete_group(&self, id: &str) -> StoreResult<()> {
        timed("delete_group", self.inner.delete_group(id)).await
    }

    async fn set_group_facilitators(
        &self,
        group_id: &str,
        facilitator_ids: &[String],
    ) -> StoreResult<()> {
        timed(
            "set_group_facilitators",
            self.inner.set_group_facilitators(group_id, facilitator_ids),
        )
        .await
    }

    async fn is_group_facilitator(
        &self,
        group_id: &str,
        facilitator_id: &str,
    ) -> StoreResult<bool> {
        timed(
            "is_group_facilitator",
            self.inner.is_group_facilitator(group_id, facilitator_id),
        )
        .await
    }

    async fn create_sessions(
        &self,
        group_id: &str,
        times: &[(i64, i64)],
    ) -> StoreResult<Vec<SessionRecord>> {
        timed(
            "create_sessions",
            self.inner.create_sessions(group_id, times),
        )
        .await
    }

    async fn session(&self, id: &str) -> StoreResult<Option<SessionRecord>> {
        timed("session", self.inner.session(id)).await
    }

    async fn sessions_of_group(
        &self,
        group_id: &str,
        after: i64,
    ) -> StoreResult<Vec<SessionRecord>> {
        timed(
            "sessions_of_group",
            self.inner.sessions_of_group(group_id, after),
        )
        .await
    }

    async fn cancel_session(&self, id: &str) -> StoreResult<()> {
        timed("cancel_session", self.inner.cancel_session(id)).await
    }

    async fn set_session_started(&self, id: &str, at: Option<i64>) -> StoreResult<()> {
        timed(
            "set_session_started",
            self.inner.set_session_started(id, at),
        )
        .await
    }

    async fn set_session_ended(&self, id: &str, at: i64) -> StoreResult<()> {
        timed("set_session_ended", self.inner.set_session_ended(id, at)).await
    }

    async fn set_session_locked(&self, id: &str, locked: bool) -> StoreResult<()> {
        timed(
            "set_session_locked",
            self.inner.set_session_locked(id, locked),
        )
        .await
    }

    async fn add_participant(
        &self,
        session_id: &str,
        name: &str,
        token_hash: &str,
        device_hash: Option<&str>,
        address_hash: Option<&str>,
        capacity: u32,
        now: i64,
        held_since: i64,
    ) -> StoreResult<JoinOutcome> {
        timed(
            "add_participant",
            self.inner.add_participant(
                session_id,
                name,
                token_hash,
                device_hash,
                address_hash,
                capacity,
                now,
                held_since,
            ),
        )
        .await
    }

    async fn participant_by_token(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<ParticipantRecord>> {
        timed(
            "participant_by_token",
            self.inner.participant_by_token(token_hash),
        )
        .await
    }

    async fn participant(&self, id: &str) -> StoreResult<Option<ParticipantRecord>> {
        timed("participant", self.inner.participant(id)).await
    }

    async fn count_participants(&self, session_id: &str, held_since: i64) -> StoreResult<u32> {
        timed(
            "count_participants",
            self.inner.count_participants(session_id, held_since),
        )
        .await
    }

    async fn mark_arrived(&self, participant_id: &str, at: i64) -> StoreResult<()> {
        timed("mark_arrived", self.inner.mark_arrived(participant_id, at)).await
    }

    async fn participants_of_session(
        &self,
        session_id: &str,
    ) -> StoreResult<Vec<ParticipantRecord>> {
        timed(
            "participants_of_session",
            self.inner.participants_of_session(session_id),
        )
        .await
    }

    async fn remove_participant(&self, id: &str, ban: bool, by: &str, now: i64) -> StoreResult<()> {
        timed(
            "remove_participant",
            self.inner.remove_participant(id, ban, by, now),
        )
        .await
    }

    async fn is_banned(
        &self,
        group_id: &str,
        device_hash: Option<&str>,
        address_hash: Option<&str>,
    ) -> StoreResult<bool> {
        timed(
            "is_banned",
            self.inner.is_banned(group_id, device_hash, address_hash),
        )
        .await
    }

    async fn removed_participants(&self, session_id: &str) -> StoreResult<Vec<String>> {
        timed(
            "removed_participants",
            self.inner.removed_participants(session_id),
        )
        .await
    }

    async fn save_snapshot(&self, session_id: &str, data: &str, at: i64) -> StoreResult<()> {
        timed(
            "save_snapshot",
            self.inner.save_snapshot(session_id, data, at),
        )
        .await
    }

    async fn load_snapshot(&self, session_id: &str) -> StoreResult<Option<String>> {
        timed("load_snapshot", self.inner.load_snapshot(session_id)).await
    }

    async fn audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        timed("audit", self.inner.audit(entry)).await
    }

    async fn audit_log(&self, group_id: &str, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        timed("audit_log", self.inner.audit_log(group_id, limit)).await
    }

    async fn erase_participant(
        &self,
        group_id: &str,
        participant_id: &str,
        now: i64,
    ) -> StoreResult<Vec<String>> {
        timed(
            "erase_participant",
            self.inner.erase_participant(group_id, participant_id, now),
        )
        .await
    }

    async fn erase_group(&self, group_id: &str) -> StoreResult<()> {
        timed("erase_group", self.inner.erase_group(group_id)).await
    }

    async fn expire(&self, cutoffs: &Cutoffs) -> StoreResult<Expired> {
        timed("expire", self.inner.expire(cutoffs)).await
    }
}

#[async_trait]
impl Leases for MeteredStore {
    async fn acquire_lease(
        &self,
        session_id: &str,
        node_id: &str,
        node_url: &str,
        lease_ms: i64,
    ) -> StoreResult<Option<i64>> {
        timed(
            "acquire_lease",
            self.inner
                .acquire_lease(session_id, node_id, node_url, lease_ms),
        )
        .await
    }

    async fn renew_leases(
        &self,
        node_id: &str,
        held: &[(String, i64)],
        lease_ms: i64,
    ) -> StoreResult<Vec<String>> {
        timed(
            "renew_leases",
            self.inner.renew_leases(node_id, held, lease_ms),
        )
        .await
    }

    async fn release_lease(&self, session_id: &str, node_id: &str, token: i64) -> StoreResult<()> {
        timed(
            "release_lease",
            self.inner.release_lease(session_id, node_id, token),
        )
        .await
    }

    async fn lease_owner(&self, session_id: &str) -> StoreResult<Option<LeaseOwner>> {
        timed("lease_owner", self.inner.lease_owner(session_id)).await
    }

    async fn save_snapshot_fenced(
        &self,
        session_id: &str,
        token: i64,
        data: &str,
        at: i64,
    ) -> StoreResult<bool> {
        timed(
            "save_snapshot_fenced",
            self.inner.save_snapshot_fenced(session_id, token, data, at),
        )
        .await
    }
}

//! One conformance suite for every store: each case of `store_suite` runs
//! against SQLite (`sqlite::…`) and PostgreSQL (`postgres::…`), each time on
//! a fresh database. PostgreSQL comes from `PEERCIRCLE_TEST_PG` (an admin
//! URL, default `postgres://postgres@127.0.0.1:5432/postgres`; start one with
//! `bash tests/pg.sh`).
//!
//! Run: `cargo test --test store_conformance`.

mod store_suite;

use store_suite::Db;

/// For each backend, one `#[tokio::test]` per case (multi-threaded, so the
/// concurrent cases really run at once). `postgres_only` cases check what
/// several nodes sharing a database rely on, which SQLite's one-process
/// store does not promise.
macro_rules! conformance {
    (
        both: [$($case:ident in $module:ident),* $(,)?],
        postgres_only: [$($pg_case:ident in $pg_module:ident),* $(,)?] $(,)?
    ) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let db = Db::sqlite().await;
                    store_suite::$module::$case(&db).await;
                    db.finish().await;
                }
            )*
        }

        mod postgres {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let Some(db) = Db::postgres().await else { return };
                    store_suite::$module::$case(&db).await;
                    db.finish().await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $pg_case() {
                    let Some(db) = Db::postgres().await else { return };
                    store_suite::$pg_module::$pg_case(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

conformance! {
    both: [
        a_new_database_is_empty_until_someone_is_added in accounts,
        facilitators_are_found_by_email_and_id in accounts,
        login_tokens_expire_and_can_be_deleted in accounts,
        groups_keep_every_field in accounts,
        groups_of_a_facilitator_in_creation_order in accounts,
        co_facilitators_keep_their_order in accounts,
        deleting_a_group_takes_its_sessions_but_keeps_the_audit_log in accounts,
        a_series_of_sessions_is_listed_by_start in sessions,
        sessions_start_lock_end_and_cancel in sessions,
        joins_stop_at_capacity_and_removal_frees_a_place in sessions,
        forty_joins_at_once_fill_exactly_ten_places in sessions,
        un_arrived_joins_hold_their_place_only_until_the_hold_ends in sessions,
        the_count_of_places_follows_arrivals_and_removals in sessions,
        an_address_ban_spares_a_device_that_came_before_it in sessions,
        removed_participants_are_listed_per_session in sessions,
        snapshots_are_replaced_and_go_with_their_session in sessions,
        bans_bar_a_device_or_address_from_that_group_only in sessions,
        the_audit_log_is_newest_first_and_limited in sessions,
        a_lease_goes_to_one_node_at_a_time_and_tokens_only_grow in leases,
        renewals_are_batched_and_a_late_renewal_loses in leases,
        a_fenced_snapshot_write_is_refused_once_the_lease_moved in leases,
        nodes_taking_a_session_at_once_get_one_lease in leases,
        expiry_deletes_only_what_is_past_its_time in retention,
        erasing_a_person_takes_every_join_of_their_device_in_the_group in retention,
        erasing_waits_until_their_session_has_ended in retention,
        erasing_a_group_takes_everything_of_it in retention,
    ],
    postgres_only: [
        two_handles_see_each_others_writes_at_once in sessions,
    ],
}

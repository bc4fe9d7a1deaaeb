//! The store conformance suite, shared by every backend: each case is an
//! `async fn(&Db)` that exercises the `Store` trait only, so SQLite and
//! PostgreSQL must answer alike. `tests/store_conformance.rs` runs every case
//! once per backend, each on a fresh database of its own.
//!
//! SQLite: a file in a temporary folder. PostgreSQL: a database
//! `pc_test_<pid>_<random>` created through the admin URL in
//! `PEERCIRCLE_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! and dropped when the case ends, even when it fails. With
//! `PEERCIRCLE_TEST_PG=skip` the PostgreSQL cases say so and pass; otherwise
//! an unreachable PostgreSQL fails them with a hint (`bash tests/pg.sh`).

#![allow(dead_code)]

pub mod accounts;
pub mod leases;
pub mod retention;
pub mod sessions;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use peercircle::store::{GroupInput, Store, SupportResource};
use sqlx::Connection;

/// The admin URL used when `PEERCIRCLE_TEST_PG` is not set.
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// One fresh database for one case, with every store handle opened on it.
pub struct Db {
    url: String,
    kind: Kind,
    handles: Mutex<Vec<Arc<dyn Store>>>,
}

enum Kind {
    Sqlite { _dir: tempfile::TempDir },
    Postgres(PgDatabase),
}

impl Db {
    /// A new SQLite database in a temporary folder.
    pub async fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}", dir.path().join("store.db").display());
        Db::with(url, Kind::Sqlite { _dir: dir }).await
    }

    /// A new PostgreSQL database, or `None` when `PEERCIRCLE_TEST_PG=skip`.
    pub async fn postgres() -> Option<Db> {
        let admin = std::env::var("PEERCIRCLE_TEST_PG")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_ADMIN_URL.to_string());
        if admin == "skip" {
            eprintln!("PostgreSQL store cases skipped (PEERCIRCLE_TEST_PG=skip)");
            return None;
        }
        let database = PgDatabase::create(&admin).await;
        let url = database.url();
        Some(Db::with(url, Kind::Postgres(database)).await)
    }

    async fn with(url: String, kind: Kind) -> Db {
        let db = Db {
            url,
            kind,
            handles: Mutex::new(Vec::new()),
        };
        db.open().await;
        db
    }

    /// Is this the PostgreSQL backend (several nodes may write at once)?
    pub fn is_postgres(&self) -> bool {
        matches!(self.kind, Kind::Postgres(_))
    }

    /// The handle opened first: what a single server would use.
    pub fn store(&self) -> Arc<dyn Store> {
        self.lock()[0].clone()
    }

    /// Another handle on the same database, with its own connection pool,
    /// as a second node (or process) would open it.
    pub async fn open(&self) -> Arc<dyn Store> {
        let store = peercircle::store::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot open the store: {e:#}"));
        self.lock().push(store.clone());
        store
    }

    /// Closes every handle (the database itself goes when `self` drops).
    pub async fn finish(self) {
        let handles = std::mem::take(&mut *self.lock());
        for h in handles {
            h.close().await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<dyn Store>>> {
        self.handles.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A throw-away PostgreSQL database, dropped (connections and all) on drop.
struct PgDatabase {
    admin: String,
    name: String,
}

impl PgDatabase {
    async fn create(admin: &str) -> PgDatabase {
        let name = format!(
            "pc_test_{}_{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        let mut conn =
            tokio::time::timeout(Duration::from_secs(10), sqlx::PgConnection::connect(admin))
                .await
                .map_err(|_| "timed out".to_string())
                .and_then(|r| r.map_err(|e| e.to_string()))
                .unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is not reachable at {} ({e}). Start one with \
                 `export PEERCIRCLE_TEST_PG=$(bash tests/pg.sh)`, point \
                 PEERCIRCLE_TEST_PG at an admin URL, or set PEERCIRCLE_TEST_PG=skip.",
                        peercircle::store::redact_url(admin)
                    )
                });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
        conn.close().await.ok();
        PgDatabase {
            admin: admin.to_string(),
            name,
        }
    }

    /// The admin URL with its database replaced by this one.
    fn url(&self) -> String {
        let (base, query) = match self.admin.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (self.admin.as_str(), None),
        };
        let authority_start = base.find("://").map_or(0, |i| i + 3);
        let server = match base[authority_start..].find('/') {
            Some(slash) => &base[..authority_start + slash],
            None => base,
        };
        match query {
            Some(q) => format!("{server}/{}?{q}", self.name),
            None => format!("{server}/{}", self.name),
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Drop runs outside any runtime we may block: use a thread of its own.
        let admin = self.admin.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || -> Result<(), String> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .map_err(|e| e.to_string())?;
                conn.close().await.ok();
                Ok(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop the test database {}: {e}", self.name),
            Err(_) => eprintln!("could not drop the test database {}", self.name),
        }
    }
}

/// A valid group as the API layer would hand it over.
pub fn group_input(capacity: u32) -> GroupInput {
    GroupInput {
        name: "Carers' evening".into(),
        description: "For people looking after someone.".into(),
        agreement: "Be kind. What is said here stays here.".into(),
        timezone: "Europe/London".into(),
        capacity,
        access_code_hash: Some(Some("argon-hash".into())),
        support_resources: vec![
            SupportResource {
                label: "Samaritans".into(),
                url: "tel:116123".into(),
            },
            SupportResource {
                label: "Carers UK".into(),
                url: "https://www.carersuk.org/".into(),
            },
        ],
        keep_transcript: false,
    }
}

/// Unwraps a store result, naming what failed.
#[track_caller]
pub fn ok<T, E: std::fmt::Debug>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e:?}"),
    }
}

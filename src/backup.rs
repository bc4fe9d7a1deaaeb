//! `peercircle backup PATH` and `peercircle restore PATH` for a SQLite
//! database (on PostgreSQL use `pg_dump` and `pg_restore`).
//!
//! A backup is SQLite's `VACUUM INTO`: one read transaction, so the copy is
//! consistent even while the server runs and writes (WAL mode lets both go
//! on), and compact. A restore refuses while a server holds the database,
//! checks that the file is a sound peercircle database, keeps the current
//! database beside it (`…db.before-restore-<unix seconds>`) and puts the
//! copy in its place; the next start applies any newer migrations.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Context;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row};

use crate::store::Backend;

fn sqlite_file(database: &str) -> anyhow::Result<PathBuf> {
    match Backend::of(database) {
        Some(Backend::Sqlite) => {}
        Some(Backend::Postgres) => anyhow::bail!(
            "this database is PostgreSQL: back it up with pg_dump \
             (e.g. pg_dump -Fc -f peercircle.dump DATABASE_URL) and restore with pg_restore"
        ),
        None => anyhow::bail!(
            "unsupported database URL {}",
            crate::store::redact_url(database)
        ),
    }
    let options = SqliteConnectOptions::from_str(database)
        .with_context(|| format!("bad database URL {database:?}"))?;
    let file = options.get_filename().to_path_buf();
    anyhow::ensure!(
        !file.as_os_str().is_empty() && file.as_os_str() != ":memory:",
        "an in-memory database cannot be backed up or restored"
    );
    Ok(file)
}

/// Writes a consistent copy of the SQLite database `database` to `target`
/// (which must not exist). Safe while the server runs.
pub async fn backup(database: &str, target: &Path) -> anyhow::Result<u64> {
    let file = sqlite_file(database)?;
    anyhow::ensure!(file.exists(), "there is no database at {}", file.display());
    anyhow::ensure!(
        !target.exists(),
        "{} already exists: choose a new file name",
        target.display()
    );
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    }
    let target_text = target
        .to_str()
        .context("the backup path must be valid UTF-8")?;
    let mut conn = SqliteConnectOptions::new()
        .filename(&file)
        .busy_timeout(std::time::Duration::from_secs(30))
        .connect()
        .await
        .with_context(|| format!("cannot open the database {}", file.display()))?;
    sqlx::query("VACUUM INTO ?")
        .bind(target_text)
        .execute(&mut conn)
        .await
        .with_context(|| format!("the backup to {} failed", target.display()))?;
    conn.close().await?;
    Ok(std::fs::metadata(target)?.len())
}

/// Checks that `file` is a sound peercircle SQLite database.
async fn check(file: &Path) -> anyhow::Result<()> {
    let mut conn = SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .connect()
        .await
        .with_context(|| format!("cannot open {}", file.display()))?;
    let verdict: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .with_context(|| format!("{} is not a SQLite database", file.display()))?
        .try_get(0)?;
    anyhow::ensure!(verdict == "ok", "{} is damaged: {verdict}", file.display());
    let tables: i64 = sqlx::query(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' \
         AND name IN ('_sqlx_migrations', 'facilitators', 'groups', 'sessions', 'participants')",
    )
    .fetch_one(&mut conn)
    .await?
    .try_get(0)?;
    anyhow::ensure!(
        tables == 5,
        "{} is not a peercircle database",
        file.display()
    );
    conn.close().await?;
    Ok(())
}

/// Puts the backup `source` in place of the database `database`, which no
/// server may be using. Returns where the replaced database was kept, if
/// there was one.
pub async fn restore(database: &str, source: &Path) -> anyhow::Result<Option<PathBuf>> {
    let file = sqlite_file(database)?;
    anyhow::ensure!(source.exists(), "there is no file {}", source.display());
    check(source).await?;
    // Held until the copy is in place: no server can start meanwhile, and
    // this fails at once while one runs.
    let _lock = crate::store::sqlite::lock_database(database)?;
    let stamp = jiff::Timestamp::now().as_second();
    let kept = if file.exists() {
        let mut kept = file.clone().into_os_string();
        kept.push(format!(".before-restore-{stamp}"));
        let kept = PathBuf::from(kept);
        // A consistent copy of what is there now (its WAL folded in).
        backup(database, &kept).await?;
        Some(kept)
    } else {
        None
    };
    let mut staging = file.clone().into_os_string();
    staging.push(".restoring");
    let staging = PathBuf::from(staging);
    std::fs::copy(source, &staging).with_context(|| format!("cannot copy {}", source.display()))?;
    for suffix in ["-wal", "-shm"] {
        let mut side = file.clone().into_os_string();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    std::fs::rename(&staging, &file)
        .with_context(|| format!("cannot replace {}", file.display()))?;
    Ok(kept)
}

//! The `peercircle` command: parses the command line and hands over to the
//! library. Kept thin on purpose; all behaviour lives in `peercircle::…`.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use peercircle::settings::Settings;
use peercircle::startup::Application;

/// peercircle: a real-time server for facilitated peer-support groups.
///
/// Settings come from defaults, then the TOML file given with --config, then
/// PEERCIRCLE_* environment variables, then the flags below.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Cli {
    /// A TOML settings file.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database URL (overrides PEERCIRCLE_DATABASE), e.g. sqlite://./data/peercircle.db
    /// or postgres://peercircle@db.example.org/peercircle
    #[arg(long, global = true, value_name = "URL")]
    database: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server (the default when no command is given).
    Serve {
        /// Address to listen on (overrides PEERCIRCLE_LISTEN), e.g. 127.0.0.1:8080
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Create the demo facilitator and group on an empty database (true/false).
        #[arg(long)]
        demo: Option<bool>,
    },
    /// Manage facilitator accounts.
    Facilitator {
        #[command(subcommand)]
        command: FacilitatorCommand,
    },
    /// Create or update the database schema, then exit.
    Migrate,
    /// Erase a person's data from a group, on their request: the join
    /// given and every other join of the group's sessions from the same
    /// device (see docs/privacy.md).
    Erase {
        /// The id of one of their joins (a participant id, `p_…`).
        #[arg(long)]
        participant: String,
    },
    /// Write a consistent copy of the SQLite database to PATH (safe while
    /// the server runs). On PostgreSQL use pg_dump.
    Backup {
        /// Where to write the copy (must not exist yet).
        path: PathBuf,
    },
    /// Replace the SQLite database with the backup at PATH (the server must
    /// be stopped; the current database is kept beside it).
    Restore {
        /// The backup to restore.
        path: PathBuf,
    },
    /// Delete now what is past its time (the server also does this every
    /// `retention_interval_minutes`).
    Expire,
}

#[derive(Subcommand, Debug)]
enum FacilitatorCommand {
    /// Add a facilitator account. The password is asked for at a prompt, or
    /// read from standard input with --password-stdin.
    Add {
        /// Their e-mail address (used to log in).
        #[arg(long)]
        email: String,
        /// Their name as participants will see it.
        #[arg(long)]
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let env: HashMap<String, String> = std::env::vars().collect();
    let mut settings = Settings::load(cli.config.as_deref(), &env)?;
    if let Some(db) = cli.database {
        settings.database = db;
    }
    peercircle::logging::init(&settings)?;

    match cli.command.unwrap_or(Command::Serve {
        listen: None,
        demo: None,
    }) {
        Command::Serve { listen, demo } => {
            if let Some(listen) = listen {
                settings.listen = listen;
            }
            if let Some(demo) = demo {
                settings.demo = demo;
            }
            serve(settings).await
        }
        Command::Migrate => {
            let store = peercircle::store::connect(&settings.database).await?;
            store.close().await;
            println!(
                "The database at {} is up to date.",
                peercircle::store::redact_url(&settings.database)
            );
            Ok(())
        }
        Command::Erase { participant } => {
            peercircle::retention::erase_command(&settings, &participant)
                .await
                .map(|line| println!("{line}"))
        }
        Command::Backup { path } => {
            let bytes = peercircle::backup::backup(&settings.database, &path).await?;
            println!(
                "Backed up the database to {} ({bytes} bytes).",
                path.display()
            );
            Ok(())
        }
        Command::Restore { path } => {
            let kept = peercircle::backup::restore(&settings.database, &path).await?;
            if let Some(kept) = kept {
                println!("The database as it was is kept at {}.", kept.display());
            }
            println!("Restored {}. Start the server again.", path.display());
            Ok(())
        }
        Command::Expire => peercircle::retention::expire_command(&settings)
            .await
            .map(|line| println!("{line}")),
        Command::Facilitator {
            command:
                FacilitatorCommand::Add {
                    email,
                    name,
                    password_stdin,
                },
        } => {
            let password = if password_stdin || !std::io::stdin().is_terminal() {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                line.trim_end_matches(['\r', '\n']).to_string()
            } else {
                let first = rpassword::prompt_password("Password: ")?;
                let again = rpassword::prompt_password("Password again: ")?;
                anyhow::ensure!(first == again, "the two passwords differ");
                first
            };
            let store = peercircle::store::connect(&settings.database).await?;
            let added = peercircle::api::facilitators::add_facilitator(
                store.as_ref(),
                &email,
                &name,
                &password,
            )
            .await;
            store.close().await;
            let f = added.context("could not add the facilitator")?;
            println!("Added facilitator {} ({}).", f.name, f.id);
            Ok(())
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    let base = app.state().base_url.to_string();
    if let Some(demo) = app.demo() {
        println!("{}", demo.banner(&base));
    }
    println!("peercircle is listening on {base}");
    let token = app.shutdown_token();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        token.cancel();
    });
    app.run_until_stopped().await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

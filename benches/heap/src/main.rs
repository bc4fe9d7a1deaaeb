//! `peercircle-heap`: the peercircle server with every allocation recorded
//! by dhat, for itemizing what an idle socket costs (BENCHMARKS.md, "Where
//! the bytes of an idle socket go").
//!
//! It understands the two commands `peercircle-load --spawn` uses:
//! `facilitator add --email E --name N --password-stdin` and `serve`
//! (settings from the `PEERCIRCLE_*` environment, as the real server). While
//! serving, `SIGUSR1` stops the profiler and writes the heap as it is at
//! that moment (dhat's "t-end") to `PEERCIRCLE_HEAP_OUT` (default
//! `dhat-heap.json`); the server keeps running until `SIGTERM`. Then
//! `benches/heap/itemize.py FILE` groups the live bytes by part of the
//! socket. Allocation is several times slower under dhat: use it for bytes,
//! never for speed.

use std::collections::HashMap;
use std::io::BufRead;

use anyhow::Context;
use peercircle::settings::Settings;
use peercircle::startup::Application;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env: HashMap<String, String> = std::env::vars().collect();
    let settings = Settings::load(None, &env)?;
    let rt = tokio::runtime::Runtime::new()?;
    match args.first().map(String::as_str) {
        Some("facilitator") => rt.block_on(add_facilitator(settings, &args)),
        Some("serve") | None => rt.block_on(serve(settings)),
        Some(other) => anyhow::bail!("unknown command {other}: expected serve or facilitator add"),
    }
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1).map(String::as_str)
}

async fn add_facilitator(settings: Settings, args: &[String]) -> anyhow::Result<()> {
    let email = flag(args, "--email").context("--email")?;
    let name = flag(args, "--name").context("--name")?;
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    let store = peercircle::store::connect(&settings.database).await?;
    let added =
        peercircle::api::facilitators::add_facilitator(store.as_ref(), email, name, password).await;
    store.close().await;
    added.context("could not add the facilitator")?;
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::new(&settings.log);
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let out = std::env::var("PEERCIRCLE_HEAP_OUT").unwrap_or_else(|_| "dhat-heap.json".into());
    // Deep stacks: the frames that say which part of a socket allocated
    // sit under the allocator's own and the collections'.
    let profiler = dhat::Profiler::builder()
        .file_name(&out)
        .trim_backtraces(Some(48))
        .build();
    let app = Application::build(settings).await?;
    println!(
        "peercircle (heap profile) is listening on {}",
        app.state().base_url
    );
    let token = app.shutdown_token();
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let mut usr1 = signal(SignalKind::user_defined1()).expect("SIGUSR1");
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM");
        let mut profiler = Some(profiler);
        loop {
            tokio::select! {
                _ = usr1.recv() => {
                    if let Some(p) = profiler.take() {
                        let stats = dhat::HeapStats::get();
                        eprintln!(
                            "heap now: {} bytes in {} blocks; writing {out}",
                            stats.curr_bytes, stats.curr_blocks
                        );
                        drop(p);
                    }
                }
                _ = term.recv() => break,
            }
        }
        token.cancel();
    });
    app.run_until_stopped().await
}

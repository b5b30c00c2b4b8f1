//! `kmh bench`: the LRS load generator. It starts a real server on
//! 127.0.0.1:0 over a fresh store and drives it over HTTP with freshly
//! generated, realistic statements (≈1.3 KB: context, result, extensions,
//! thousands of learners and activities), so every acknowledged write is a
//! durable group commit. Each throughput figure is the median of `--runs`.

mod cpu;
mod workload;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::lrs::LocalServer;
use crate::lrs::credentials::{self, Scope};
use crate::store::{Store, Writer};
use cpu::{Cpu, Machine};
use workload::Workload;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Statements in the store before the read and at-scale measurements.
    #[arg(long, env = "KMH_BENCH_PREFILL", default_value_t = 100_000)]
    pub prefill: usize,
    /// Single-statement POSTs per throughput run.
    #[arg(long, env = "KMH_BENCH_SINGLES", default_value_t = 10_000)]
    pub singles: usize,
    /// Statements sent in batches of 100 per throughput run.
    #[arg(long, env = "KMH_BENCH_BATCHED", default_value_t = 50_000)]
    pub batched: usize,
    /// Clients sending the batches of 100 at once. Each waits for its
    /// answer (its batch durable) before it sends the next. As many as send
    /// single statements at once: with fewer, the server waits for clients
    /// part of the time (see BENCHMARKS.md, "Checking batches off the async
    /// workers").
    #[arg(long, env = "KMH_BENCH_BATCH_CLIENTS", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub batch_clients: u16,
    /// GET requests per query measurement.
    #[arg(long, env = "KMH_BENCH_GETS", default_value_t = 500)]
    pub gets: usize,
    /// Runs per throughput figure (the median is reported).
    #[arg(long, env = "KMH_BENCH_RUNS", default_value_t = 3)]
    pub runs: usize,
    /// Folder for the benchmark's store (default: a temporary folder).
    #[arg(long, env = "KMH_BENCH_DATA")]
    pub data: Option<PathBuf>,
    /// Store learners by pseudonym, as `kmh serve` does by default;
    /// `--pseudonymise=false` measures a store that keeps real identifiers.
    #[arg(
        long,
        env = "KMH_BENCH_PSEUDONYMISE",
        default_value_t = true,
        num_args = 0..=1,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pub pseudonymise: bool,
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let temp;
    let dir = match &args.data {
        Some(d) => d.clone(),
        None => {
            temp = tempfile_dir()?;
            temp.clone()
        }
    };
    // The server and the load generator run on runtimes of their own, so
    // that the CPU each uses can be told apart by thread name.
    let runtime = |name: &str| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name(name)
            .build()
    };
    let server = runtime(cpu::SERVER_THREADS)?;
    let client = runtime(cpu::CLIENT_THREADS)?;
    let result = client.block_on(bench(&args, &dir, server.handle()));
    if args.data.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("kmh-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

struct Target {
    url: String,
    key: String,
    secret: String,
    client: reqwest::Client,
}

impl Target {
    async fn post(&self, body: Vec<u8>) -> anyhow::Result<()> {
        let r = self
            .client
            .post(format!("{}/xapi/statements", self.url))
            .basic_auth(&self.key, Some(&self.secret))
            .header("X-Experience-API-Version", "1.0.3")
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await?;
        anyhow::ensure!(
            r.status().is_success(),
            "POST answered {}: {}",
            r.status(),
            r.text().await?
        );
        Ok(())
    }

    async fn get(&self, query: &str) -> anyhow::Result<()> {
        let r = self
            .client
            .get(format!("{}/xapi/statements?{query}", self.url))
            .basic_auth(&self.key, Some(&self.secret))
            .header("X-Experience-API-Version", "1.0.3")
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "GET answered {}", r.status());
        r.bytes().await?;
        Ok(())
    }
}

async fn bench(
    args: &BenchArgs,
    dir: &std::path::Path,
    server_runtime: &tokio::runtime::Handle,
) -> anyhow::Result<()> {
    let store = Store::open(dir).context("opening the benchmark store")?;
    store
        .settle_pseudonymisation(Some(args.pseudonymise), true)
        .context("the benchmark store's pseudonymisation setting")?;
    let issued = credentials::issue(&[Scope::All], Vec::new(), "bench".into());
    store.put_credential(&issued.record)?;
    let (writer, writer_thread) = Writer::start(store.clone());
    let server = server_runtime
        .spawn(LocalServer::start(store.clone(), writer))
        .await??;
    let target = Arc::new(Target {
        url: server.url.clone(),
        key: issued.record.key.clone(),
        secret: issued.secret.clone(),
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()?,
    });
    let workload = Arc::new(Workload::new(5_000, 400));
    let memtables = MemtablePeak::watch(store.clone());

    println!(
        "kmh bench: store in {} (learners {})",
        dir.display(),
        if args.pseudonymise {
            "pseudonymised"
        } else {
            "with real identifiers"
        }
    );
    // `--data` may name a store that holds statements already: the first
    // runs then measure that store, and say so.
    let start = store.approximate_statement_count();
    let (first, first_rate) = if start == 0 {
        ("empty store".to_owned(), "the empty-store rate".to_owned())
    } else {
        (
            format!("store of {start} statements"),
            format!("the rate at {start} statements"),
        )
    };
    println!("| measurement | result |");
    println!("|---|---|");
    let single1 = median_rate(args.runs, || {
        posts(&target, &workload, args.singles / 4, 1, 1)
    })
    .await?;
    println!(
        "| single-statement POST, concurrency 1, {first} | {:.0} statements/s |",
        single1.rate
    );
    let single8 = median_rate(args.runs, || posts(&target, &workload, args.singles, 8, 1)).await?;
    println!(
        "| single-statement POST, concurrency 8, {first} | {:.0} statements/s |",
        single8.rate
    );
    single8.cpu_row("single-statement POST, concurrency 8");
    let clients = usize::from(args.batch_clients);
    let batch_empty = median_rate(args.runs, || {
        posts(&target, &workload, args.batched / 100, clients, 100)
    })
    .await?;
    println!(
        "| batches of 100, concurrency {clients}, {first} | {:.0} statements/s |",
        batch_empty.rate
    );
    batch_empty.cpu_row(&format!("batches of 100, {first}"));

    let have = store.approximate_statement_count();
    if args.prefill > have {
        let started = Instant::now();
        let missing = args.prefill - have;
        // In chunks of 100 requests of 1000, so the pre-generated bodies
        // stay around 150 MB.
        let mut rates = Vec::new();
        let mut left = missing.div_ceil(1000);
        while left > 0 {
            let chunk = left.min(100);
            rates.push(posts(&target, &workload, chunk, 2, 1000).await?.rate);
            left -= chunk;
        }
        let rate = rates.iter().sum::<f64>() / rates.len().max(1) as f64;
        println!(
            "| prefill to {} statements (batches of 1000) | {rate:.0} statements/s, {:.1} s |",
            args.prefill,
            started.elapsed().as_secs_f64()
        );
    }
    let batch_full = median_rate(args.runs, || {
        posts(&target, &workload, args.batched / 100, clients, 100)
    })
    .await?;
    let n = store.approximate_statement_count();
    println!(
        "| batches of 100, concurrency {clients}, at {n} statements | {:.0} statements/s ({:.0}% of {first_rate}) |",
        batch_full.rate,
        100.0 * batch_full.rate / batch_empty.rate
    );
    batch_full.cpu_row(&format!("batches of 100, at {n} statements"));
    for name in ["agent", "activity"] {
        let (p50, p95) = latencies(&target, &workload, args.gets, |w, i| match name {
            "agent" => w.agent_filter(i),
            _ => w.activity_filter(i),
        })
        .await?;
        println!(
            "| GET by {name} (limit 50) at {n} statements | p50 {p50:.2} ms, p95 {p95:.2} ms |"
        );
    }
    let bytes = store.disk_space()?;
    println!(
        "| disk per statement (store incl. indexes and journal) | {:.0} bytes ({:.1} MiB for {n}) |",
        bytes as f64 / n.max(1) as f64,
        bytes as f64 / 1048576.0
    );

    println!(
        "| memtables (writes not yet flushed), peak during the bench | {:.1} MiB |",
        memtables.stop().await as f64 / 1048576.0
    );

    server.stop().await?;
    drop(store);
    tokio::task::spawn_blocking(move || writer_thread.join())
        .await?
        .ok();
    Ok(())
}

/// The most memory the store's memtables held, sampled every 50 ms: the
/// part of the server's memory that grows with sustained writes.
struct MemtablePeak {
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl MemtablePeak {
    fn watch(store: Store) -> MemtablePeak {
        let peak = Arc::new(AtomicU64::new(0));
        let seen = Arc::clone(&peak);
        let task = tokio::spawn(async move {
            loop {
                seen.fetch_max(store.memtable_bytes(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        MemtablePeak { peak, task }
    }

    /// The peak in bytes.
    async fn stop(self) -> u64 {
        self.task.abort();
        let _ = self.task.await;
        self.peak.load(Ordering::Relaxed)
    }
}

/// The outcome of a throughput measurement's runs.
#[derive(Default)]
struct Throughput {
    /// Median statements per second.
    rate: f64,
    /// CPU the runs used, over all of them, with the flushes and
    /// compactions they left to the engine.
    cpu: Cpu,
    statements: usize,
    /// The machine's idle time over the timed parts of the runs.
    idle: Machine,
}

impl Throughput {
    fn cpu_row(&self, what: &str) {
        let idle = self
            .idle
            .idle_percent(Machine::default())
            .map(|p| format!("; machine idle {p:.0} %"))
            .unwrap_or_default();
        println!(
            "| CPU per statement, {what} | {}{idle} |",
            self.cpu.per_statement(self.statements)
        );
    }
}

/// One run of [`posts`].
struct Run {
    rate: f64,
    statements: usize,
    /// The machine's idle and total time while the requests ran.
    idle: Machine,
}

/// Runs `f` `runs` times, back to back as a client that keeps sending
/// would: each run meets the flushes and compactions the runs before it
/// left. The flushes and compactions that writes before the first run left
/// (the prefill's above all) are done before it starts, and those the last
/// run leaves are waited for and counted in the CPU per statement.
async fn median_rate<F, Fut>(runs: usize, mut f: F) -> anyhow::Result<Throughput>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Run>>,
{
    engine_settled().await;
    let before = Cpu::now();
    let mut rates = Vec::with_capacity(runs);
    let mut total = Throughput::default();
    for _ in 0..runs.max(1) {
        let run = f().await?;
        rates.push(run.rate);
        total.statements += run.statements;
        total.idle.idle += run.idle.idle;
        total.idle.total += run.idle.total;
    }
    let mut cpu = Cpu::now() - before;
    engine_settled().await;
    cpu.engine = (Cpu::now() - before).engine;
    total.cpu = cpu;
    rates.sort_by(f64::total_cmp);
    total.rate = rates[rates.len() / 2];
    Ok(total)
}

/// Sends `requests` POSTs of `per_request` fresh statements from
/// `concurrency` clients; answers statements per second. The bodies are
/// generated before the clock starts, so that the generator (which shares
/// the machine) does not count against the server.
async fn posts(
    target: &Arc<Target>,
    workload: &Arc<Workload>,
    requests: usize,
    concurrency: usize,
    per_request: usize,
) -> anyhow::Result<Run> {
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..requests)
            .map(|i| workload.body(i, per_request))
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let machine = Machine::now();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (target, bodies, next) = (target.clone(), bodies.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else {
                    return anyhow::Ok(());
                };
                target.post(body.clone()).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let now = Machine::now();
    let statements = requests * per_request;
    Ok(Run {
        rate: statements as f64 / seconds,
        statements,
        idle: Machine {
            idle: now.idle.saturating_sub(machine.idle),
            total: now.total.saturating_sub(machine.total),
        },
    })
}

/// Waits until the store's background worker is idle (under 5 % of a core
/// over a quarter of a second), for two minutes at most.
async fn engine_settled() {
    const WINDOW: Duration = Duration::from_millis(250);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = Cpu::now().engine;
    while Instant::now() < deadline {
        tokio::time::sleep(WINDOW).await;
        let now = Cpu::now().engine;
        if now.saturating_sub(last) < WINDOW.as_nanos() as u64 / 20 {
            return;
        }
        last = now;
    }
}

async fn latencies(
    target: &Arc<Target>,
    workload: &Workload,
    count: usize,
    query: impl Fn(&Workload, usize) -> String,
) -> anyhow::Result<(f64, f64)> {
    let mut times: Vec<Duration> = Vec::with_capacity(count);
    for i in 0..count {
        let q = query(workload, i);
        let t = Instant::now();
        target.get(&q).await?;
        times.push(t.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Ok((ms(times[count / 2]), ms(times[count * 95 / 100])))
}

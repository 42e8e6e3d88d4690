//! `keygate-bench`: starts a Keygate server, seeds it through its admin CLI and REST API, and drives
//! each hot path with an in-process HTTP/1.1 load generator. See docs/benchmarks.md.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

mod callgrind;
mod grants;
mod hooks;
mod http;
mod load;
mod procfs;
mod scenarios;
mod server;
mod stats;

use load::{LoadSettings, Measured};
use server::{Server, ServerOptions};
use stats::{fmt_latency, fmt_mib, fmt_rate, parse_duration};

#[derive(Debug, Parser)]
#[command(
    name = "keygate-bench",
    about = "Benchmarks Keygate's hot paths against a real server (see docs/benchmarks.md)"
)]
struct Args {
    /// The keygate binary to run
    #[arg(long, value_name = "PATH", default_value = "target/release/keygate")]
    server: PathBuf,
    /// Also run every scenario on PostgreSQL: a URL whose user may create databases (one is created
    /// for the run and dropped after)
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// Skip SQLite (with --postgres: PostgreSQL only)
    #[arg(long)]
    no_sqlite: bool,
    /// Measured time per scenario
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Load before measuring, per scenario (not counted)
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    warmup: Duration,
    /// Concurrent keep-alive connections
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Comma-separated scenarios to run [default: all]
    #[arg(long, value_delimiter = ',')]
    scenarios: Vec<String>,
    /// Contacts created before the scenarios (read scenarios pick among them)
    #[arg(long, default_value_t = 1000)]
    contacts: usize,
    /// Contacts created (and events awaited) by hook_deliveries
    #[arg(long, default_value_t = 5000)]
    hook_events: usize,
    /// Turn the server's rate limiter off (by default every request is checked against a limit no
    /// scenario reaches, as in a deployment with limits on)
    #[arg(long)]
    no_rate_limits: bool,
    /// Do not pin the server and the load generator to different CPUs
    #[arg(long)]
    no_pin: bool,
    /// Let the load generator sleep while it waits for answers, so that the server's CPU also pays for
    /// waking it (by default, when pinned, it never sleeps; see docs/benchmarks.md)
    #[arg(long)]
    sleeping_generator: bool,
    /// Run the server under Valgrind's callgrind and report the instructions it executes per request:
    /// to compare two builds on a noisy machine (times mean nothing then; see docs/benchmarks.md)
    #[arg(long)]
    callgrind: bool,
    /// A few seconds in all: 1 s per scenario, no warm-up, 4 connections, SQLite only. Fails only when
    /// a scenario got no successful answer at all (a broken harness), never on speed.
    #[arg(long)]
    smoke: bool,
    /// List the scenarios and exit
    #[arg(long)]
    list: bool,
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    if args.list {
        for (name, what) in scenarios::ALL {
            println!("{name:20} {what}");
        }
        return ExitCode::SUCCESS;
    }
    if args.smoke {
        args.duration = Duration::from_secs(1);
        // Under callgrind a scenario's first answers wait for Valgrind to translate the code they run,
        // a second or more each in a debug build: without a warm-up the window may see none.
        args.warmup = if args.callgrind {
            Duration::from_secs(5)
        } else {
            Duration::ZERO
        };
        args.connections = 4;
        args.contacts = 50;
        args.hook_events = 50;
        args.postgres = None;
        args.no_sqlite = false;
    }
    let selected: Vec<&'static str> = if args.scenarios.is_empty() {
        scenarios::ALL.iter().map(|(n, _)| *n).collect()
    } else {
        let mut out = Vec::new();
        for wanted in &args.scenarios {
            match scenarios::ALL.iter().find(|(n, _)| n == wanted) {
                Some((n, _)) => out.push(*n),
                None => {
                    let names: Vec<&str> = scenarios::ALL.iter().map(|(n, _)| *n).collect();
                    eprintln!(
                        "unknown scenario {wanted:?}; the scenarios are {}",
                        names.join(", ")
                    );
                    return ExitCode::from(2);
                }
            }
        }
        out
    };
    if args.connections == 0 {
        eprintln!("--connections must be at least 1");
        return ExitCode::from(2);
    }

    // Pin before the runtime starts, so every thread of this process (and every admin CLI it runs)
    // inherits the affinity: server on CPU 0, load generator on CPU 1.
    let machine = procfs::Machine::describe();
    let pinning = if args.no_pin { None } else { pin_self() };
    let workers = if pinning.is_some() {
        1
    } else {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args, selected, machine, pinning)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("error: at least one scenario got no successful answer (see above)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// CPUs of (server, load generator), when `taskset` can pin them apart.
#[derive(Clone, Copy)]
struct Pinning {
    server: usize,
    load: usize,
}

fn pin_self() -> Option<Pinning> {
    // The first two CPUs this process may use (not necessarily 0 and 1 in a container).
    let allowed = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                .map(procfs::parse_cpu_list)
        })
        .unwrap_or_default();
    let (&server, &load) = (allowed.first()?, allowed.get(1)?);
    if !procfs::on_path("taskset") {
        return None;
    }
    let pid = std::process::id().to_string();
    procfs::output("taskset", &["-a", "-cp", &load.to_string(), &pid]).map(|_| Pinning { server, load })
}

/// One row of a report.
struct Row {
    name: &'static str,
    measured: Measured,
    note: Option<String>,
}

async fn run(
    args: Args,
    selected: Vec<&'static str>,
    machine: procfs::Machine,
    pinning: Option<Pinning>,
) -> anyhow::Result<bool> {
    println!("# Keygate benchmark");
    println!();
    println!(
        "- machine: {} ({} CPUs, {} usable), {} RAM",
        machine.cpu_model, machine.cpus, machine.usable_cpus, machine.memory
    );
    println!("- kernel {}, {}", machine.kernel, machine.rustc);
    println!("- commit {}", machine.commit);
    println!("- server binary {}", args.server.display());
    println!(
        "- {} s measured per scenario after {} s warm-up, {} connections (HTTP/1.1 keep-alive, closed loop), seed {:#x}",
        args.duration.as_secs_f64(),
        args.warmup.as_secs_f64(),
        args.connections,
        load::SEED
    );
    match pinning {
        Some(p) => println!(
            "- server pinned to CPU {}, load generator to CPU {} (taskset)",
            p.server, p.load
        ),
        None => println!("- not pinned (needs taskset and 2 CPUs): server and load generator share the CPUs"),
    }
    // Only a generator with a CPU of its own may keep it busy. Under callgrind CPU times mean nothing,
    // and a generator that never sleeps would only slow `callgrind_control`, which runs on its CPU at
    // each window's edges.
    let timed_on_own_cpu = pinning.is_some() && !args.callgrind;
    let busy_poll = timed_on_own_cpu && !args.sleeping_generator;
    if busy_poll {
        println!("- load generator busy-polls its sockets: the server never pays for waking it on loopback");
    } else if timed_on_own_cpu {
        println!("- load generator sleeps between answers (--sleeping-generator): the server's CPU includes waking it");
    }
    if args.callgrind {
        println!(
            "- server under Valgrind's callgrind (--callgrind): instructions per request, user space only"
        );
    }
    if args.no_rate_limits {
        println!("- rate limiter off (--no-rate-limits)");
    } else {
        println!(
            "- rate limiter on: every request checked against a per-credential limit no scenario reaches"
        );
    }
    let (signature, verification) = es256_costs(if args.smoke {
        Duration::from_millis(100)
    } else {
        Duration::from_secs(1)
    });
    println!(
        "- one ES256 signature {:.1} µs, one verification {:.1} µs (aws-lc-rs, on the load generator's CPU)",
        micros(signature),
        micros(verification)
    );

    let mut stores: Vec<Option<String>> = Vec::new();
    if !args.no_sqlite {
        stores.push(None);
    }
    if let Some(url) = &args.postgres {
        stores.push(Some(url.clone()));
    }
    if stores.is_empty() {
        anyhow::bail!("--no-sqlite needs --postgres");
    }
    let mut all_ok = true;
    for postgres in stores {
        let started = Instant::now();
        let mut server = Server::start(ServerOptions {
            binary: &args.server,
            postgres: postgres.as_deref(),
            pin_cpu: pinning.map(|p| p.server),
            hook_debounce_ms: 0,
            rate_limits: !args.no_rate_limits,
            callgrind: args.callgrind,
        })
        .await?;
        let startup = started.elapsed();
        // Let the start-up settle (signing keys, first dispatcher ticks) before reading idle RSS.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let idle_rss = Rss::of(server.pid);
        println!();
        match &postgres {
            Some(url) => println!("## {} ({})", server.store, server::redact(url)),
            None => println!("## {}", server.store),
        }
        println!();
        let result = run_store(&args, &selected, &mut server, postgres.is_some(), busy_poll).await;
        let log = server.log_tail();
        server.stop().await;
        let (rows, seeded_rss) = match result {
            Ok(r) => r,
            Err(e) => {
                anyhow::bail!("{e:#}\nserver log:\n{log}");
            }
        };
        println!(
            "Started and ready in {:.2} s; RSS idle {} after start, {} after seeding.",
            startup.as_secs_f64(),
            idle_rss,
            seeded_rss
        );
        println!();
        print_table(&rows, postgres.is_some(), signature, args.callgrind);
        for row in &rows {
            if row.measured.ok == 0 {
                all_ok = false;
                println!(
                    "FAILED {}: no successful answer ({})",
                    row.name,
                    row.measured
                        .first_error
                        .as_deref()
                        .unwrap_or("no request completed")
                );
            } else if let Some(e) = row
                .measured
                .first_error
                .as_deref()
                .filter(|_| row.measured.errors > 0)
            {
                println!("{}: {} errors, the first: {e}", row.name, row.measured.errors);
            }
        }
    }
    Ok(all_ok)
}

async fn run_store(
    args: &Args,
    selected: &[&'static str],
    server: &mut Server,
    postgres: bool,
    // The generator never sleeps ([`load::BusyPoll`]): only when it has a CPU of its own.
    busy_poll: bool,
) -> anyhow::Result<(Vec<Row>, Rss)> {
    let mut seed = scenarios::seed(server, args.contacts.max(1)).await?;
    if selected.contains(&"refresh_token") {
        let tokens = grants::refresh_tokens(server.addr, &seed, args.connections).await?;
        seed.refresh_tokens = std::sync::Arc::new(tokens);
    }
    let seeded_rss = Rss::of(server.pid);
    let settings = LoadSettings {
        addr: server.addr,
        connections: args.connections,
        warmup: args.warmup,
        duration: args.duration,
        server_pid: server.pid,
        // Backends of a local PostgreSQL; their CPU is the database's share of each request.
        database_comm: postgres.then_some("postgres"),
        callgrind: None,
        busy_poll,
    };
    let mut rows = Vec::new();
    for &name in selected {
        if !server.alive() {
            anyhow::bail!("the server exited before {name}");
        }
        eprintln!("running {name}…");
        let row = match scenarios::workload(name, server.addr, &seed)? {
            Some(workload) => Row {
                name,
                measured: load::run(
                    LoadSettings {
                        callgrind: server.callgrind.clone().map(|cg| {
                            (
                                cg,
                                format!("{}-{name}", if postgres { "postgres" } else { "sqlite" }),
                            )
                        }),
                        ..settings.clone()
                    },
                    workload,
                )
                .await,
                note: None,
            },
            None => {
                let wait = if args.smoke {
                    Duration::from_secs(20)
                } else {
                    Duration::from_secs(60)
                };
                match hooks::run(settings.clone(), &seed, args.hook_events, wait).await {
                    Ok(report) => Row {
                        name,
                        note: Some(format!(
                            "{} events in {} deliveries ({} duplicates); contacts created at {}/s; rate, latency (create sent → delivered) and CPU are per event, creation included",
                            report.events,
                            report.deliveries,
                            report.duplicates,
                            fmt_rate(report.creation_rate)
                        )),
                        measured: report.measured,
                    },
                    // A scenario that cannot even start is a failed row, not the end of the run.
                    Err(e) => Row {
                        name,
                        note: None,
                        measured: Measured {
                            errors: 1,
                            first_error: Some(format!("{e:#}")),
                            ..Measured::default()
                        },
                    },
                }
            }
        };
        rows.push(row);
    }
    Ok((rows, seeded_rss))
}

fn print_table(rows: &[Row], postgres: bool, signature: Duration, callgrind: bool) {
    let mut header = vec![
        "scenario",
        "req/s",
        "p50",
        "p99",
        "max",
        "ok",
        "errors",
        "server CPU/req",
        "of which user",
    ];
    if postgres {
        header.push("db CPU/req");
    }
    if callgrind {
        header.push("instr/req");
    }
    header.push("peak RSS");
    let mut lines: Vec<Vec<String>> = Vec::new();
    for row in rows {
        let m = &row.measured;
        let mut line = vec![
            row.name.to_owned(),
            fmt_rate(m.rate()),
            fmt_latency(m.latencies.percentile(50.0)),
            fmt_latency(m.latencies.percentile(99.0)),
            fmt_latency(m.latencies.max()),
            m.ok.to_string(),
            m.errors.to_string(),
            m.cpu_per_request()
                .map_or("-".into(), |d| format!("{:.1} µs", micros(d))),
            m.user_cpu_per_request()
                .map_or("-".into(), |d| format!("{:.1} µs", micros(d))),
        ];
        if postgres {
            line.push(
                m.database_cpu_per_request()
                    .map_or("-".into(), |d| format!("{:.1} µs", micros(d))),
            );
        }
        if callgrind {
            line.push(
                m.instructions_per_request()
                    .map_or("-".into(), |n| format!("{n:.0}")),
            );
        }
        line.push(fmt_mib(m.peak_rss));
        lines.push(line);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let print = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = widths[i] - c.chars().count();
                if i == 0 {
                    format!("{c}{}", " ".repeat(pad))
                } else {
                    format!("{}{c}", " ".repeat(pad))
                }
            })
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    print(header.iter().map(|s| (*s).to_owned()).collect());
    println!(
        "|{}|",
        widths
            .iter()
            .enumerate()
            .map(|(i, w)| if i == 0 {
                format!(":{}", "-".repeat(w + 1))
            } else {
                format!("{}:", "-".repeat(w + 1))
            })
            .collect::<Vec<_>>()
            .join("|")
    );
    for line in lines {
        print(line);
    }
    println!();
    let measured = |name: &str| rows.iter().find(|r| r.name == name).map(|r| &r.measured);
    if callgrind {
        // Valgrind's times say nothing of Keygate's: only the counts compare.
        let instr = |name: &str| measured(name).and_then(Measured::instructions_per_request);
        if let (Some(base), Some(bearer)) = (instr("healthz_with_token"), instr("me_bearer")) {
            println!(
                "- bearer check (/v1/me) against /healthz with the same Authorization header ({base:.0} instructions): + {:.0} = + {:.0}%",
                bearer - base,
                (bearer / base.max(1.0) - 1.0) * 100.0
            );
        }
        println!("- under callgrind: times, rates, CPU and RSS are Valgrind's, not Keygate's; compare instructions");
        println!(
            "- each window's dump is kept in {}/ (`callgrind_annotate {}/sqlite-me_bearer.out`)",
            callgrind::KEPT,
            callgrind::KEPT
        );
        return;
    }
    let cpu = |name: &str| measured(name).and_then(Measured::cpu_per_request);
    let user = |name: &str| measured(name).and_then(Measured::user_cpu_per_request);
    let times = |a: Duration, b: Duration| micros(a) / micros(b).max(1e-9);
    if let (Some(token), Some(token_user)) = (cpu("client_credentials"), user("client_credentials")) {
        println!(
            "- token issuance: {:.1} µs of server CPU per token = {:.1}× one ES256 signature ({:.1} µs); \
             in user space {:.1} µs = {:.1}×",
            micros(token),
            times(token, signature),
            micros(signature),
            micros(token_user),
            times(token_user, signature),
        );
    }
    // The same request bytes on both sides: what is left is the check and /v1/me's answer.
    if let (Some(base), Some(bearer)) = (cpu("healthz_with_token"), cpu("me_bearer")) {
        println!(
            "- bearer check (/v1/me) against /healthz with the same Authorization header ({:.1} µs): + {:.0}%",
            micros(base),
            (times(bearer, base) - 1.0) * 100.0
        );
    }
    if let (Some(base), Some(base_user)) = (cpu("healthz"), user("healthz")) {
        for (name, what) in [
            ("me_bearer", "bearer check (/v1/me)"),
            ("contact_get_bearer", "bearer read"),
        ] {
            if let (Some(bearer), Some(bearer_user)) = (cpu(name), user(name)) {
                println!(
                    "- {what}: {:.1} µs of server CPU per request = the /healthz baseline ({:.1} µs) + {:.0}%; \
                     in user space {:.1} µs against {:.1} µs, + {:.0}%",
                    micros(bearer),
                    micros(base),
                    (times(bearer, base) - 1.0) * 100.0,
                    micros(bearer_user),
                    micros(base_user),
                    (times(bearer_user, base_user) - 1.0) * 100.0
                );
            }
        }
    }
    for row in rows {
        if let Some(note) = &row.note {
            println!("- {}: {note}", row.name);
        }
    }
    // Other work on the machine skews every figure: say so rather than let it pass unnoticed.
    let busy: Vec<(&str, f64)> = rows
        .iter()
        .filter_map(|r| {
            let other = r.measured.other_cpu?;
            let window = r.measured.window.as_secs_f64();
            (window > 0.0).then(|| (r.name, other.as_secs_f64() / window))
        })
        .collect();
    if let Some(&(name, worst)) = busy.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
        println!(
            "- other processes on the machine: at most {:.0}% of a CPU during a scenario ({name})",
            worst * 100.0
        );
        if worst > 0.1 {
            let list: Vec<String> = busy
                .iter()
                .filter(|(_, share)| *share > 0.1)
                .map(|(name, share)| format!("{name} {:.0}%", share * 100.0))
                .collect();
            println!(
                "- WARNING: other work competed for the CPUs ({}): those figures are not comparable",
                list.join(", ")
            );
        }
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The CPU time of one ES256 signature and of one verification (P-256, SHA-256, as access tokens
/// are signed and checked), measured here with the library the server uses.
fn es256_costs(budget: Duration) -> (Duration, Duration) {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{
        EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING,
    };
    let zero = (Duration::ZERO, Duration::ZERO);
    let rng = SystemRandom::new();
    let Ok(pkcs8) = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng) else {
        return zero;
    };
    let Ok(pair) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()) else {
        return zero;
    };
    // A signing input the size of an access token's header and claims.
    let message = [b'x'; 420];
    let Ok(signature) = pair.sign(&rng, &message) else {
        return zero;
    };
    let timed = |f: &dyn Fn() -> bool| {
        let start = Instant::now();
        let mut n = 0u32;
        while start.elapsed() < budget || n < 10 {
            if !f() {
                return Duration::ZERO;
            }
            n += 1;
        }
        start.elapsed() / n
    };
    let sign = timed(&|| pair.sign(&rng, &message).is_ok());
    let public = pair.public_key().as_ref().to_vec();
    let verify = timed(&|| {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public)
            .verify(&message, signature.as_ref())
            .is_ok()
    });
    (sign, verify)
}

/// A resident set: the whole (`VmRSS`, what the targets are about) and its anonymous part (`RssAnon`:
/// what the server allocated). The rest is mostly the executable's own pages, whose count depends on how
/// much of the file the page cache holds (the kernel maps cached neighbours on each fault), so it moves
/// between runs of the very same binary.
struct Rss {
    total: Option<u64>,
    anonymous: Option<u64>,
}

impl Rss {
    fn of(pid: u32) -> Self {
        Self {
            total: procfs::status_bytes(pid, "VmRSS"),
            anonymous: procfs::status_bytes(pid, "RssAnon"),
        }
    }
}

impl std::fmt::Display for Rss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({} anonymous)",
            fmt_mib(self.total),
            fmt_mib(self.anonymous)
        )
    }
}

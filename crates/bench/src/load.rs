//! The load generator: N connections, each sending its next request as soon as the previous answer
//! arrived (closed loop), for a warm-up and then a measured window. Every latency in the window is
//! recorded; the server's CPU time and peak RSS are sampled at the window's edges.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Request, StatusCode};

use crate::callgrind::Callgrind;
use crate::http::{Body, Conn, Reply};
use crate::procfs;
use crate::stats::Latencies;

/// Builds the `n`th request of a connection; `rng` is the connection's own, seeded deterministically.
pub type MakeRequest = Arc<dyn Fn(&mut Rng, u64) -> Request<Body> + Send + Sync>;

pub type MakeChained = Arc<dyn Fn(&str) -> Request<Body> + Send + Sync>;
pub type NextState = Arc<dyn Fn(&Reply) -> Option<String> + Send + Sync>;

/// How a scenario's requests are built.
#[derive(Clone)]
pub enum Requests {
    /// Each on its own, from the connection's generator and the request's number.
    Independent(MakeRequest),
    /// Each from what the previous answer handed over (a rotated refresh token's successor).
    Chained(Chain),
}

/// One thread of state per connection: `make` builds a request from the state, `next` takes the next
/// state from an answer. An answer without one leaves the state as it was.
#[derive(Clone)]
pub struct Chain {
    /// Each connection's first state, by connection index; a connection without one sends nothing.
    pub start: Arc<Vec<String>>,
    pub make: MakeChained,
    pub next: NextState,
}

/// What a scenario sends and what counts as success.
#[derive(Clone)]
pub struct Workload {
    pub requests: Requests,
    pub expect: StatusCode,
    /// A byte string the body must contain (so a 200 that carries a refusal still counts as an error).
    pub expect_body: Option<&'static str>,
}

#[derive(Clone)]
pub struct LoadSettings {
    pub addr: SocketAddr,
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// The server's process, sampled for CPU time and peak RSS.
    pub server_pid: u32,
    /// Also sample the CPU of every process with this name (the PostgreSQL server).
    pub database_comm: Option<&'static str>,
    /// Count the server's instructions in the window (the server runs under callgrind), keeping the
    /// dump under this name.
    pub callgrind: Option<(Callgrind, String)>,
    /// Keep the load generator's thread busy while it waits for answers (see [`BusyPoll`]).
    pub busy_poll: bool,
}

/// While alive, keeps the load generator's runtime thread from sleeping: a task that only yields, so
/// the thread checks its sockets without blocking, over and over.
///
/// Why: on loopback the server's CPU delivers every answer into the generator's socket, and if the
/// generator's thread sleeps, wakes it, which on a virtual machine is an inter-processor interrupt
/// that exits to the hypervisor. Whenever the server is faster than the generator's wake-ups (tokens:
/// about 10 µs of the server's kernel time per answer), the server's CPU per request then measures
/// the harness, work a server on a network never does (there, the client's machine wakes the
/// client). A generator that never sleeps leaves no one to wake. Only used when the generator has a
/// CPU of its own (pinned); otherwise it would take the server's.
pub struct BusyPoll(tokio::task::JoinHandle<()>);

impl BusyPoll {
    pub fn start(enabled: bool) -> Option<BusyPoll> {
        enabled.then(|| {
            BusyPoll(tokio::spawn(async {
                loop {
                    tokio::task::yield_now().await;
                }
            }))
        })
    }
}

impl Drop for BusyPoll {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What one scenario measured.
#[derive(Debug, Default)]
pub struct Measured {
    pub latencies: Latencies,
    pub ok: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub window: Duration,
    pub server_cpu: Duration,
    /// The part of `server_cpu` spent in user space: Keygate's own code and its libraries, without the
    /// kernel's share (on loopback that includes delivering each answer to the load generator).
    pub server_user_cpu: Duration,
    pub database_cpu: Option<Duration>,
    /// CPU time the rest of the machine used meanwhile (neither the server, its database nor the load
    /// generator): other work that skews the figures.
    pub other_cpu: Option<Duration>,
    pub peak_rss: Option<u64>,
    /// Instructions the server executed in the window, under `--callgrind`.
    pub instructions: Option<u64>,
}

impl Measured {
    pub fn rate(&self) -> f64 {
        if self.window.is_zero() {
            return 0.0;
        }
        self.ok as f64 / self.window.as_secs_f64()
    }

    /// Server CPU time per successful request.
    pub fn cpu_per_request(&self) -> Option<Duration> {
        per(self.server_cpu, self.ok)
    }

    pub fn user_cpu_per_request(&self) -> Option<Duration> {
        per(self.server_user_cpu, self.ok)
    }

    pub fn database_cpu_per_request(&self) -> Option<Duration> {
        per(self.database_cpu?, self.ok)
    }

    pub fn instructions_per_request(&self) -> Option<f64> {
        let n = self.instructions?;
        (self.ok > 0).then(|| n as f64 / self.ok as f64)
    }
}

fn per(total: Duration, n: u64) -> Option<Duration> {
    (n > 0).then(|| total / u32::try_from(n).unwrap_or(u32::MAX))
}

/// Process CPU time, from `/proc`, at a moment.
pub struct CpuSample {
    server: Option<u64>,
    server_user: Option<u64>,
    database: Option<u64>,
    load_generator: Option<u64>,
    machine: Option<u64>,
}

pub struct CpuMeter {
    ticks_per_second: u64,
    server_pid: u32,
    database_comm: Option<&'static str>,
}

impl CpuMeter {
    pub fn new(server_pid: u32, database_comm: Option<&'static str>) -> CpuMeter {
        CpuMeter {
            ticks_per_second: procfs::clock_ticks_per_second(),
            server_pid,
            database_comm,
        }
    }

    pub fn sample(&self) -> CpuSample {
        let server = procfs::user_and_system_ticks(self.server_pid);
        CpuSample {
            server: server.map(|(user, system)| user + system),
            server_user: server.map(|(user, _)| user),
            database: self.database_comm.map(procfs::cpu_ticks_of_all),
            load_generator: procfs::cpu_ticks(std::process::id()),
            machine: procfs::machine_busy_ticks(),
        }
    }

    /// Server, database and other CPU time between two samples.
    pub fn between(&self, a: &CpuSample, b: &CpuSample) -> CpuUse {
        let ticks = |a: Option<u64>, b: Option<u64>| Some(b?.saturating_sub(a?));
        let to_time = |ticks: u64| Duration::from_secs_f64(ticks as f64 / self.ticks_per_second as f64);
        let server = ticks(a.server, b.server);
        let database = ticks(a.database, b.database);
        let other = ticks(a.machine, b.machine).map(|machine| {
            let ours = server.unwrap_or(0)
                + database.unwrap_or(0)
                + ticks(a.load_generator, b.load_generator).unwrap_or(0);
            to_time(machine.saturating_sub(ours))
        });
        CpuUse {
            server: server.map_or(Duration::ZERO, to_time),
            server_user: ticks(a.server_user, b.server_user).map_or(Duration::ZERO, to_time),
            database: database.map(to_time),
            other,
        }
    }
}

pub struct CpuUse {
    pub server: Duration,
    pub server_user: Duration,
    pub database: Option<Duration>,
    pub other: Option<Duration>,
}

/// A small deterministic generator (xorshift64*): the same seed, the same requests.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // Never zero, and neighbouring seeds far apart.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform enough in `0..n` for choosing records (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// The fixed seed of all runs; connection `i` uses `SEED + i`.
pub const SEED: u64 = 0x6B65_7967_6174_6521;

struct ConnectionResult {
    latencies: Vec<u64>,
    ok: u64,
    errors: u64,
    first_error: Option<String>,
}

/// Runs `workload` against the server and measures it.
pub async fn run(settings: LoadSettings, workload: Workload) -> Measured {
    let meter = CpuMeter::new(settings.server_pid, settings.database_comm);
    // Connections are opened before the clock starts, so connecting is not measured.
    let mut conns = Vec::with_capacity(settings.connections);
    let mut connect_errors = 0;
    let mut first_error = None;
    for _ in 0..settings.connections {
        match Conn::open(settings.addr).await {
            Ok(c) => conns.push(Some(c)),
            Err(e) => {
                connect_errors += 1;
                first_error.get_or_insert_with(|| format!("{e:#}"));
                conns.push(None);
            }
        }
    }
    // Before the clock starts: the first answers under instrumentation are slow while callgrind
    // translates the code they run, and the warm-up absorbs that.
    let mut callgrind_error = None;
    if let Some((cg, _)) = &settings.callgrind {
        if let Err(e) = cg.instrument(true).await {
            callgrind_error = Some(e);
        }
    }
    let busy_poll = BusyPoll::start(settings.busy_poll);
    let start = Instant::now();
    let measure_from = start + settings.warmup;
    let until = measure_from + settings.duration;
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, conn)| {
            let workload = workload.clone();
            let addr = settings.addr;
            tokio::spawn(async move { drive(addr, conn, i as u64, workload, measure_from, until).await })
        })
        .collect();

    tokio::time::sleep_until(measure_from.into()).await;
    procfs::reset_peak_rss(settings.server_pid);
    let callgrind = settings.callgrind.as_ref().filter(|_| callgrind_error.is_none());
    if let Some((cg, _)) = callgrind {
        if let Err(e) = cg.zero().await {
            callgrind_error = Some(e);
        }
    }
    let before = meter.sample();
    let window_start = Instant::now();
    tokio::time::sleep_until(until.into()).await;
    let after = meter.sample();
    let window = window_start.elapsed();
    drop(busy_poll);
    let peak_rss = procfs::status_bytes(settings.server_pid, "VmHWM");
    let instructions = match callgrind {
        Some((cg, name)) if callgrind_error.is_none() => match cg.dump_instructions(name).await {
            Ok(n) => Some(n),
            Err(e) => {
                callgrind_error = Some(e);
                None
            }
        },
        _ => None,
    };
    if let Some((cg, _)) = &settings.callgrind {
        if let Err(e) = cg.instrument(false).await {
            callgrind_error.get_or_insert(e);
        }
    }

    let mut samples = Vec::new();
    let mut measured = Measured {
        errors: connect_errors,
        first_error,
        window,
        peak_rss,
        instructions,
        ..Measured::default()
    };
    if let Some(e) = callgrind_error {
        // A count that failed is an error of the row, never a silent gap.
        measured.errors += 1;
        measured.first_error = Some(format!("callgrind: {e:#}"));
    }
    for task in tasks {
        let Ok(r) = task.await else {
            measured.errors += 1;
            continue;
        };
        samples.extend(r.latencies);
        measured.ok += r.ok;
        measured.errors += r.errors;
        if measured.first_error.is_none() {
            measured.first_error = r.first_error;
        }
    }
    let cpu = meter.between(&before, &after);
    (measured.server_cpu, measured.server_user_cpu) = (cpu.server, cpu.server_user);
    (measured.database_cpu, measured.other_cpu) = (cpu.database, cpu.other);
    measured.latencies = Latencies::new(samples);
    measured
}

async fn drive(
    addr: SocketAddr,
    mut conn: Option<Conn>,
    index: u64,
    workload: Workload,
    measure_from: Instant,
    until: Instant,
) -> ConnectionResult {
    let mut rng = Rng::new(SEED.wrapping_add(index));
    let mut result = ConnectionResult {
        latencies: Vec::new(),
        ok: 0,
        errors: 0,
        first_error: None,
    };
    let mut n = 0u64;
    let mut state = match &workload.requests {
        Requests::Chained(chain) => chain.start.get(index as usize).cloned(),
        Requests::Independent(_) => None,
    };
    loop {
        let sent = Instant::now();
        if sent >= until {
            break;
        }
        let counted = sent >= measure_from;
        let c = match conn.as_mut() {
            Some(c) => c,
            None => match Conn::open(addr).await {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    if counted {
                        result.errors += 1;
                        result.first_error.get_or_insert_with(|| format!("{e:#}"));
                    }
                    // Do not spin against a server that is gone.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let request = match (&workload.requests, state.as_deref()) {
            (Requests::Independent(make), _) => make(&mut rng, n),
            (Requests::Chained(chain), Some(s)) => (chain.make)(s),
            (Requests::Chained(_), None) => {
                result.errors += 1;
                result
                    .first_error
                    .get_or_insert_with(|| format!("no start state for connection {index}"));
                break;
            }
        };
        n += 1;
        let outcome = c.send(request).await;
        let done = Instant::now();
        // Warm-up answers too: the chain must follow every answer to stay valid.
        if let (Requests::Chained(chain), Ok(reply)) = (&workload.requests, &outcome) {
            if let Some(s) = (chain.next)(reply) {
                state = Some(s);
            }
        }
        if !counted || done > until {
            if outcome.is_err() {
                conn = None;
            }
            continue;
        }
        match outcome {
            Ok(reply) => {
                let body_ok = workload
                    .expect_body
                    .is_none_or(|needle| reply.body.windows(needle.len()).any(|w| w == needle.as_bytes()));
                if reply.status == workload.expect && body_ok {
                    result.ok += 1;
                    result
                        .latencies
                        .push(u64::try_from((done - sent).as_nanos()).unwrap_or(u64::MAX));
                } else {
                    result.errors += 1;
                    result.first_error.get_or_insert_with(|| {
                        let body = String::from_utf8_lossy(&reply.body);
                        let body: String = body.chars().take(300).collect();
                        format!("status {}: {body}", reply.status)
                    });
                }
            }
            Err(e) => {
                result.errors += 1;
                result.first_error.get_or_insert_with(|| format!("{e:#}"));
                conn = None;
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic() {
        let (mut a, mut b) = (Rng::new(SEED), Rng::new(SEED));
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(Rng::new(SEED + 1).next_u64(), xs[0]);
        let mut r = Rng::new(0);
        assert!((0..1000).all(|_| r.below(7) < 7));
    }

    #[test]
    fn cpu_per_request() {
        let m = Measured {
            ok: 1000,
            server_cpu: Duration::from_millis(50),
            window: Duration::from_secs(2),
            ..Measured::default()
        };
        assert_eq!(m.cpu_per_request(), Some(Duration::from_micros(50)));
        assert_eq!(m.rate(), 500.0);
        assert_eq!(Measured::default().cpu_per_request(), None);
    }
}

//! The `hook_deliveries` scenario: a local receiver, a `contact.add` subscription, a fixed number of
//! contacts created as fast as the server takes them, and the time until every event arrived.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::IntoResponse;
use http::header::AUTHORIZATION;
use http::Method;

use crate::http::{request, value, Conn};
use crate::load::{BusyPoll, CpuMeter, LoadSettings, Measured};
use crate::procfs;
use crate::scenarios::{contact_body, Seed};
use crate::stats::Latencies;

/// What the receiver saw.
#[derive(Default)]
struct Inbox {
    /// Contact id → when its event arrived.
    arrived: HashMap<u64, Instant>,
    deliveries: u64,
    duplicates: u64,
}

/// The extra facts the table has no column for.
pub struct HookReport {
    pub measured: Measured,
    pub events: usize,
    pub deliveries: u64,
    pub duplicates: u64,
    pub creation_rate: f64,
}

async fn start_receiver(inbox: Arc<Mutex<Inbox>>) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: axum::body::Bytes| {
        let inbox = inbox.clone();
        async move {
            // The handshake: echo the one-time value to confirm the subscription.
            if let Some(secret) = headers.get("x-hook-secret") {
                return (AxumStatus::OK, [("x-hook-secret", secret.clone())], "").into_response();
            }
            let now = Instant::now();
            let payload: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let mut inbox = inbox.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            inbox.deliveries += 1;
            for key in payload["object_keys"].as_array().into_iter().flatten() {
                if let Some(id) = key["id"].as_u64() {
                    if inbox.arrived.insert(id, now).is_some() {
                        inbox.duplicates += 1;
                    }
                }
            }
            AxumStatus::OK.into_response()
        }
    });
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("hook receiver stopped: {e}");
        }
    });
    Ok(addr)
}

/// Subscribes, creates `events` contacts over `settings.connections` connections, and waits (up to
/// `wait`) for their events.
pub async fn run(
    settings: LoadSettings,
    seed: &Seed,
    events: usize,
    wait: Duration,
) -> anyhow::Result<HookReport> {
    let inbox = Arc::new(Mutex::new(Inbox::default()));
    let receiver = start_receiver(inbox.clone()).await?;
    let host = value(&settings.addr.to_string());
    let bearer = value(&format!("Bearer {}", seed.access_token));

    let mut conn = Conn::open(settings.addr).await?;
    let body = serde_json::json!({"eventKey": "contact.add", "hookUrl": format!("http://{receiver}/hook")});
    let hook = conn
        .send(request(
            Method::POST,
            &host,
            "/v1/hooks",
            &[(AUTHORIZATION, bearer.clone())],
            Some(("application/json", bytes::Bytes::from(body.to_string()))),
        ))
        .await?
        .expect_json(201, "subscribing to contact.add")?;
    if hook["status"] != "Verified" {
        bail!("the subscription was not verified: {hook}");
    }

    let meter = CpuMeter::new(settings.server_pid, settings.database_comm);
    procfs::reset_peak_rss(settings.server_pid);
    // The receiver runs on the generator's thread: deliveries must not pay for waking it either.
    let busy_poll = BusyPoll::start(settings.busy_poll);
    let before = meter.sample();
    let start = Instant::now();

    // Create the contacts; remember when each creation was sent.
    let connections = settings.connections.clamp(1, events.max(1));
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (host, bearer, addr) = (host.clone(), bearer.clone(), settings.addr);
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let mut created = Vec::new();
            let mut errors = 0u64;
            let mut first_error = None;
            for i in (c..events).step_by(connections) {
                let body = contact_body(&format!("Hook{i}"), &format!("hook{i}@bench.test"));
                let sent = Instant::now();
                let reply = conn
                    .send(request(
                        Method::POST,
                        &host,
                        "/v1/contacts",
                        &[(AUTHORIZATION, bearer.clone())],
                        Some(("application/json", body)),
                    ))
                    .await;
                match reply.and_then(|r| r.expect_json(201, "creating a contact")) {
                    Ok(v) => match v["id"].as_u64() {
                        Some(id) => created.push((id, sent)),
                        None => errors += 1,
                    },
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("{e:#}"));
                        conn = Conn::open(addr).await?;
                    }
                }
            }
            anyhow::Ok((created, errors, first_error))
        }));
    }
    let mut created: HashMap<u64, Instant> = HashMap::with_capacity(events);
    let mut errors = 0;
    let mut first_error = None;
    for t in tasks {
        let (c, e, f) = t.await.context("a creating task failed")??;
        created.extend(c);
        errors += e;
        if first_error.is_none() {
            first_error = f;
        }
    }
    let creation_time = start.elapsed();

    // Wait for every event.
    let deadline = Instant::now() + wait;
    loop {
        let all_in = {
            let inbox = inbox.lock().unwrap_or_else(|p| p.into_inner());
            created.keys().all(|id| inbox.arrived.contains_key(id))
        };
        if all_in || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let after = meter.sample();
    drop(busy_poll);
    let peak_rss = procfs::status_bytes(settings.server_pid, "VmHWM");

    let inbox = inbox.lock().unwrap_or_else(|p| p.into_inner());
    let mut latencies = Vec::with_capacity(created.len());
    let mut last = start;
    let mut missing = 0u64;
    for (id, sent) in &created {
        match inbox.arrived.get(id) {
            Some(&at) => {
                latencies
                    .push(u64::try_from(at.saturating_duration_since(*sent).as_nanos()).unwrap_or(u64::MAX));
                last = last.max(at);
            }
            None => missing += 1,
        }
    }
    if missing > 0 {
        first_error
            .get_or_insert_with(|| format!("{missing} events not delivered within {}s", wait.as_secs()));
    }
    let ok = latencies.len() as u64;
    let cpu = meter.between(&before, &after);
    Ok(HookReport {
        measured: Measured {
            latencies: Latencies::new(latencies),
            ok,
            errors: errors + missing,
            first_error,
            window: last.saturating_duration_since(start),
            server_cpu: cpu.server,
            server_user_cpu: cpu.server_user,
            database_cpu: cpu.database,
            other_cpu: cpu.other,
            // Not counted: deliveries run on the server's own schedule, not in a window of requests.
            instructions: None,
            peak_rss,
        },
        events: created.len(),
        deliveries: inbox.deliveries,
        duplicates: inbox.duplicates,
        creation_rate: created.len() as f64 / creation_time.as_secs_f64().max(1e-9),
    })
}

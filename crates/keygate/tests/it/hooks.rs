//! REST Hooks end to end: a real receiver in the test, the handshake, signed and batched deliveries,
//! retries, deactivation, SSRF refusals, replay and secret rotation.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode as AxStatus};
use axum::response::IntoResponse;
use keygate_core::webhook::WebhookSecret;
use keygate_testkit::{store_test, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

use crate::contacts_rest::{call, token};

/// What the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// How the receiver answers: the handshake echo, a queue of statuses (then 200), a delay.
#[derive(Default)]
pub struct Behaviour {
    pub echo: Option<String>,
    pub no_echo: bool,
    pub statuses: Vec<u16>,
    pub delay: Option<Duration>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Received>>>,
    pub behaviour: Arc<Mutex<Behaviour>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let behaviour = Arc::new(Mutex::new(Behaviour::default()));
        let (g, b) = (got.clone(), behaviour.clone());
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (g, b) = (g.clone(), b.clone());
            async move {
                let (delay, status, echo) = {
                    let mut b = b.lock().unwrap();
                    let status = if b.statuses.is_empty() {
                        200
                    } else {
                        b.statuses.remove(0)
                    };
                    let echo = if b.no_echo {
                        None
                    } else {
                        b.echo.clone().or_else(|| {
                            headers
                                .get("x-hook-secret")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned)
                        })
                    };
                    (b.delay, status, echo)
                };
                g.lock().unwrap().push(Received {
                    headers: headers.clone(),
                    body: body.to_vec(),
                });
                if let Some(d) = delay {
                    tokio::time::sleep(d).await;
                }
                let mut res = AxStatus::from_u16(status).unwrap().into_response();
                if status == 429 {
                    res.headers_mut().insert("retry-after", "120".parse().unwrap());
                }
                if let (Some(e), true) = (echo, headers.contains_key("x-hook-secret")) {
                    res.headers_mut().insert("x-hook-secret", e.parse().unwrap());
                }
                res
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            url: format!("http://{addr}/hook"),
            got,
            behaviour,
        }
    }

    /// Deliveries (not handshakes) received so far.
    pub fn deliveries(&self) -> Vec<Received> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.headers.contains_key("webhook-id"))
            .cloned()
            .collect()
    }

    /// Waits until `n` deliveries arrived (the dispatcher works every quarter second).
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let d = self.deliveries();
            if d.len() >= n {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} deliveries, got {:?}", self.deliveries().len());
    }
}

pub fn fast_hooks(c: &mut keygate_server::Config) {
    c.hooks.allow_private_targets = true;
    c.hooks.debounce_ms = 0;
    c.hooks.timeout = 1;
    c.hooks.retry_schedule = vec![0, 1, 1];
}

pub async fn subscribe(srv: &TestServer, t: &str, event: &str, url: &str) -> (reqwest::StatusCode, Value) {
    let (status, _, v) = call(
        srv,
        Method::POST,
        "/v1/hooks",
        t,
        Some(json!({"eventKey": event, "hookUrl": url})),
        &[],
    )
    .await;
    (status, v)
}

fn payload(r: &Received) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

fn header<'a>(r: &'a Received, name: &str) -> &'a str {
    r.headers[name].to_str().unwrap()
}

store_test!(
    the_handshake_verifies_a_receiver_that_echoes,
    fast_hooks,
    |srv| async move {
        let account = srv.account().await;
        let t = token(&srv, &account, "hooks").await;
        let (status, _, keys) = call(&srv, Method::GET, "/v1/hooks/event_keys", &t, None, &[]).await;
        assert_eq!(
            (status.as_u16(), keys),
            (
                200,
                json!([
                    "contact.add",
                    "contact.edit",
                    "contact.delete",
                    "contact.opt_in",
                    "contact.opt_out"
                ])
            )
        );

        let good = Receiver::start().await;
        let (status, hook) = subscribe(&srv, &t, "contact.add", &good.url).await;
        assert_eq!(status, 201, "{hook}");
        assert_eq!(
            (&hook["status"], &hook["eventKey"], &hook["hookUrl"]),
            (&json!("Verified"), &json!("contact.add"), &json!(good.url))
        );
        assert!(hook["key"].as_str().unwrap().starts_with("hk_"));
        assert!(
            hook["secret"].as_str().unwrap().starts_with("whsec_"),
            "the secret, once"
        );
        let shake = good.got.lock().unwrap()[0].clone();
        assert!(shake.headers.contains_key("x-hook-secret"));
        assert!(
            !String::from_utf8_lossy(&shake.body).contains("whsec_"),
            "the handshake carries no signing secret"
        );
        let key = hook["key"].as_str().unwrap().to_owned();
        let (_, _, read) = call(&srv, Method::GET, &format!("/v1/hooks/{key}"), &t, None, &[]).await;
        assert!(read.get("secret").is_none(), "never shown again: {read}");

        // A receiver that echoes something else, or nothing, or too late, stays unverified.
        let wrong = Receiver::start().await;
        wrong.behaviour.lock().unwrap().echo = Some("not-it".into());
        let (_, h) = subscribe(&srv, &t, "contact.edit", &wrong.url).await;
        assert_eq!(h["status"], "Unverified", "{h}");
        assert!(
            h["verificationError"].as_str().unwrap().contains("another"),
            "{h}"
        );
        let silent = Receiver::start().await;
        silent.behaviour.lock().unwrap().no_echo = true;
        assert_eq!(
            subscribe(&srv, &t, "contact.edit", &silent.url).await.1["status"],
            "Unverified"
        );
        let slow = Receiver::start().await;
        slow.behaviour.lock().unwrap().delay = Some(Duration::from_secs(3));
        let (_, h) = subscribe(&srv, &t, "contact.delete", &slow.url).await;
        assert_eq!(h["status"], "Unverified");
        assert!(
            h["verificationError"].as_str().unwrap().contains("timed out"),
            "{h}"
        );
        // Fixed, it verifies on request.
        slow.behaviour.lock().unwrap().delay = None;
        let (_, _, again) = call(
            &srv,
            Method::POST,
            &format!("/v1/hooks/{}/verify", h["key"].as_str().unwrap()),
            &t,
            None,
            &[],
        )
        .await;
        assert_eq!(again["status"], "Verified", "{again}");

        let (_, _, list) = call(&srv, Method::GET, "/crm/rest/v1/hooks", &t, None, &[]).await;
        assert_eq!(list.as_array().unwrap().len(), 4);
        assert_eq!(
            call(&srv, Method::DELETE, &format!("/v1/hooks/{key}"), &t, None, &[])
                .await
                .0,
            204
        );
        assert_eq!(
            call(&srv, Method::GET, &format!("/v1/hooks/{key}"), &t, None, &[])
                .await
                .0,
            404
        );
    }
);

store_test!(
    deliveries_are_batched_and_signed,
    |c| {
        fast_hooks(c);
        c.hooks.debounce_ms = 1500;
    },
    |srv| async move {
        let account = srv.account().await;
        let t = token(&srv, &account, "full").await;
        let rx = Receiver::start().await;
        let (_, hook) = subscribe(&srv, &t, "contact.add", &rx.url).await;
        let secret = WebhookSecret::decode(hook["secret"].as_str().unwrap()).unwrap();
        let mut ids = Vec::new();
        for n in 0..3 {
            let (_, _, c) = call(
                &srv,
                Method::POST,
                "/v1/contacts",
                &t,
                Some(json!({"given_name": format!("N{n}")})),
                &[],
            )
            .await;
            ids.push(c["id"].clone());
        }
        // An edit is another event key: not for this subscription.
        call(
            &srv,
            Method::PATCH,
            &format!("/v1/contacts/{}", ids[0]),
            &t,
            Some(json!({"job_title": "x"})),
            &[],
        )
        .await;
        let got = rx.wait_for(1).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(rx.deliveries().len(), 1, "three adds in one delivery");
        let d = &got[0];
        let body = payload(d);
        assert_eq!(
            (&body["event_key"], &body["object_type"]),
            (&json!("contact.add"), &json!("contact"))
        );
        let keys = body["object_keys"].as_array().unwrap();
        assert_eq!(keys.iter().map(|k| k["id"].clone()).collect::<Vec<_>>(), ids);
        assert_eq!(keys[0]["api_url"], format!("{}/v1/contacts/{}", srv.url, ids[0]));
        assert!(keys[0]["timestamp"].as_str().unwrap().ends_with('Z'));
        let (id, ts, sig) = (
            header(d, "webhook-id"),
            header(d, "webhook-timestamp"),
            header(d, "webhook-signature"),
        );
        assert!(id.starts_with("msg_") && sig.starts_with("v1,"));
        assert_eq!(header(d, "content-type"), "application/json");
        // Verified independently of Keygate's code where Python is at hand, and with the secret's bytes.
        assert!(secret.verify(id, ts.parse().unwrap(), &d.body, sig));
        assert!(!secret.verify(id, ts.parse::<i64>().unwrap() + 1, &d.body, sig));
        if let Ok(out) = std::process::Command::new("python3")
            .args(["-c", "import base64,hashlib,hmac,sys; k=base64.b64decode(sys.argv[1][6:]); m=(sys.argv[2]+'.'+sys.argv[3]+'.').encode()+sys.stdin.buffer.read(); print('v1,'+base64.b64encode(hmac.new(k,m,hashlib.sha256).digest()).decode())", hook["secret"].as_str().unwrap(), id, ts])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(&d.body)?;
                child.wait_with_output()
            })
        {
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), sig, "Python's HMAC agrees");
        }
        let (_, _, stats) = call(
            &srv,
            Method::GET,
            &format!("/v1/hooks/{}/stats", hook["key"].as_str().unwrap()),
            &t,
            None,
            &[],
        )
        .await;
        assert_eq!(stats, json!({"pending": 0, "delivered": 3, "failed": 0}));
    }
);

store_test!(failures_are_retried_and_logged, fast_hooks, |srv| async move {
    let account = srv.account().await;
    let t = token(&srv, &account, "full").await;
    let rx = Receiver::start().await;
    let (_, hook) = subscribe(&srv, &t, "contact.add", &rx.url).await;
    let key = hook["key"].as_str().unwrap().to_owned();
    rx.behaviour.lock().unwrap().statuses = vec![500];
    call(
        &srv,
        Method::POST,
        "/v1/contacts",
        &t,
        Some(json!({"given_name": "R"})),
        &[],
    )
    .await;
    let got = rx.wait_for(2).await;
    assert_eq!(
        header(&got[0], "webhook-id"),
        header(&got[1], "webhook-id"),
        "the same message id on every attempt"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, _, log) = call(
        &srv,
        Method::GET,
        &format!("/v1/hooks/{key}/deliveries"),
        &t,
        None,
        &[],
    )
    .await;
    let d = &log["deliveries"][0];
    assert_eq!(d["status"], "delivered", "{log}");
    let codes: Vec<Value> = d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].clone())
        .collect();
    assert_eq!(codes, [json!(500), json!(200)]);
    assert!(d["attempts"][0]["latency_ms"].is_number());

    // A receiver too slow to answer in time fails the attempt, and the retry succeeds.
    rx.behaviour.lock().unwrap().delay = Some(Duration::from_millis(1500));
    call(
        &srv,
        Method::POST,
        "/v1/contacts",
        &t,
        Some(json!({"given_name": "S"})),
        &[],
    )
    .await;
    rx.wait_for(3).await;
    rx.behaviour.lock().unwrap().delay = None;
    rx.wait_for(4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, _, log) = call(
        &srv,
        Method::GET,
        &format!("/v1/hooks/{key}/deliveries"),
        &t,
        None,
        &[],
    )
    .await;
    let newest = &log["deliveries"][0];
    assert_eq!(newest["status"], "delivered", "{log}");
    assert!(
        newest["attempts"][0]["error"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{newest}"
    );

    // Every attempt failing: the delivery fails after the schedule, and is counted as failed.
    rx.behaviour.lock().unwrap().statuses = vec![503, 503, 503];
    call(
        &srv,
        Method::POST,
        "/v1/contacts",
        &t,
        Some(json!({"given_name": "F"})),
        &[],
    )
    .await;
    rx.wait_for(7).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, _, stats) = call(
        &srv,
        Method::GET,
        &format!("/v1/hooks/{key}/stats"),
        &t,
        None,
        &[],
    )
    .await;
    assert_eq!(stats, json!({"pending": 0, "delivered": 2, "failed": 1}));

    // Replay sends the failed delivery again, with its id.
    let (_, _, log) = call(
        &srv,
        Method::GET,
        &format!("/v1/hooks/{key}/deliveries?limit=1"),
        &t,
        None,
        &[],
    )
    .await;
    let failed = log["deliveries"][0]["id"].as_str().unwrap().to_owned();
    let (status, ..) = call(
        &srv,
        Method::POST,
        &format!("/v1/hooks/{key}/deliveries/{failed}/replay"),
        &t,
        None,
        &[],
    )
    .await;
    assert_eq!(status, 202);
    let got = rx.wait_for(8).await;
    assert_eq!(header(&got[7], "webhook-id"), failed);
    assert_eq!(
        call(
            &srv,
            Method::POST,
            &format!("/v1/hooks/{key}/deliveries/msg_nope/replay"),
            &t,
            None,
            &[]
        )
        .await
        .0,
        404
    );
});

store_test!(
    a_receiver_that_is_gone_turns_the_hook_inactive,
    fast_hooks,
    |srv| async move {
        let account = srv.account().await;
        let t = token(&srv, &account, "full").await;
        let rx = Receiver::start().await;
        let (_, hook) = subscribe(&srv, &t, "contact.delete", &rx.url).await;
        let key = hook["key"].as_str().unwrap().to_owned();
        rx.behaviour.lock().unwrap().statuses = vec![410];
        let (_, _, c) = call(
            &srv,
            Method::POST,
            "/v1/contacts",
            &t,
            Some(json!({"given_name": "G"})),
            &[],
        )
        .await;
        call(
            &srv,
            Method::DELETE,
            &format!("/v1/contacts/{}", c["id"]),
            &t,
            None,
            &[],
        )
        .await;
        rx.wait_for(1).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let (_, _, h) = call(&srv, Method::GET, &format!("/v1/hooks/{key}"), &t, None, &[]).await;
        assert_eq!(h["status"], "Inactive");
        // Inactive hooks get nothing; no retry of the 410 either.
        let (_, _, c) = call(
            &srv,
            Method::POST,
            "/v1/contacts",
            &t,
            Some(json!({"given_name": "H"})),
            &[],
        )
        .await;
        call(
            &srv,
            Method::DELETE,
            &format!("/v1/contacts/{}", c["id"]),
            &t,
            None,
            &[],
        )
        .await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(rx.deliveries().len(), 1);
        // Its owner can verify it again.
        let (_, _, again) = call(
            &srv,
            Method::POST,
            &format!("/v1/hooks/{key}/verify"),
            &t,
            None,
            &[],
        )
        .await;
        assert_eq!(again["status"], "Verified");
    }
);

store_test!(
    rotation_signs_with_both_secrets_during_the_overlap,
    fast_hooks,
    |srv| async move {
        let account = srv.account().await;
        let t = token(&srv, &account, "full").await;
        let rx = Receiver::start().await;
        let (_, hook) = subscribe(&srv, &t, "contact.add", &rx.url).await;
        let old = WebhookSecret::decode(hook["secret"].as_str().unwrap()).unwrap();
        let (status, _, rotated) = call(
            &srv,
            Method::POST,
            &format!("/v1/hooks/{}/rotate-secret", hook["key"].as_str().unwrap()),
            &t,
            None,
            &[],
        )
        .await;
        assert_eq!(status, 200, "{rotated}");
        let new = WebhookSecret::decode(rotated["secret"].as_str().unwrap()).unwrap();
        assert_ne!(old, new);
        call(
            &srv,
            Method::POST,
            "/v1/contacts",
            &t,
            Some(json!({"given_name": "Rot"})),
            &[],
        )
        .await;
        let d = &rx.wait_for(1).await[0];
        let (id, ts, sig) = (
            header(d, "webhook-id"),
            header(d, "webhook-timestamp").parse().unwrap(),
            header(d, "webhook-signature"),
        );
        assert_eq!(sig.split(' ').count(), 2, "{sig}");
        assert!(new.verify(id, ts, &d.body, sig) && old.verify(id, ts, &d.body, sig));
    }
);

store_test!(hook_urls_must_be_public_https, |srv| async move {
    let account = srv.account().await;
    let t = token(&srv, &account, "hooks").await;
    for url in [
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.5/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://localhost/x",
        "https://user:pw@example.com/x",
        "not a url",
        "ftp://example.com/x",
    ] {
        let (status, body) = subscribe(&srv, &t, "contact.add", url).await;
        assert_eq!(
            (status.as_u16(), body["field"].as_str()),
            (422, Some("hookUrl")),
            "{url}: {body}"
        );
    }
    let (status, body) = subscribe(&srv, &t, "contact.fly", "https://example.com/x").await;
    assert_eq!(
        (status.as_u16(), body["field"].as_str()),
        (422, Some("eventKey")),
        "{body}"
    );
    let reader = token(&srv, &account, "contacts.read").await;
    let (status, _, body) = call(&srv, Method::GET, "/v1/hooks", &reader, None, &[]).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (403, Some("insufficient_scope"))
    );
});

store_test!(
    a_receiver_failing_too_long_turns_inactive,
    |c| {
        fast_hooks(c);
        c.hooks.inactive_after = 1;
        c.hooks.retry_schedule = vec![0, 1, 1, 1];
    },
    |srv| async move {
        let account = srv.account().await;
        let t = token(&srv, &account, "full").await;
        let rx = Receiver::start().await;
        let (_, hook) = subscribe(&srv, &t, "contact.add", &rx.url).await;
        rx.behaviour.lock().unwrap().statuses = vec![500; 10];
        call(
            &srv,
            Method::POST,
            "/v1/contacts",
            &t,
            Some(json!({"given_name": "Down"})),
            &[],
        )
        .await;
        // Failing since the first attempt, it turns inactive at the first retry that finds it failing
        // for more than a second (the second or the third attempt: times are whole seconds, and how
        // late the dispatcher's tick runs decides which).
        let path = format!("/v1/hooks/{}", hook["key"].as_str().unwrap());
        let mut h = Value::Null;
        for _ in 0..100 {
            h = call(&srv, Method::GET, &path, &t, None, &[]).await.2;
            if h["status"] == "Inactive" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(h["status"], "Inactive", "{h}");
        let tried = rx.deliveries().len();
        assert!(
            (2..=3).contains(&tried),
            "{tried} attempts before it turned inactive"
        );
        // Its retries left are not sent: the schedule had one due within the next second.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert_eq!(rx.deliveries().len(), tried, "an inactive hook gets nothing");
    }
);

store_test!(
    a_slow_receiver_never_delays_the_others,
    |c| {
        fast_hooks(c);
        c.hooks.timeout = 10;
    },
    |srv| async move {
        let account = srv.account().await;
        let t = token(&srv, &account, "full").await;
        let (slow, fast) = (Receiver::start().await, Receiver::start().await);
        subscribe(&srv, &t, "contact.add", &slow.url).await;
        subscribe(&srv, &t, "contact.add", &fast.url).await;
        slow.behaviour.lock().unwrap().delay = Some(Duration::from_secs(5));
        let started = std::time::Instant::now();
        call(
            &srv,
            Method::POST,
            "/v1/contacts",
            &t,
            Some(json!({"given_name": "Both"})),
            &[],
        )
        .await;
        fast.wait_for(1).await;
        // The fast receiver got its delivery while the slow one still holds its request.
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "sends are concurrent: {:?}",
            started.elapsed()
        );
        assert_eq!(slow.wait_for(1).await.len(), 1);
    }
);

store_test!(retry_after_is_honoured, fast_hooks, |srv| async move {
    let account = srv.account().await;
    let t = token(&srv, &account, "full").await;
    let rx = Receiver::start().await;
    let (_, hook) = subscribe(&srv, &t, "contact.add", &rx.url).await;
    rx.behaviour.lock().unwrap().statuses = vec![429];
    call(
        &srv,
        Method::POST,
        "/v1/contacts",
        &t,
        Some(json!({"given_name": "Later"})),
        &[],
    )
    .await;
    rx.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, _, log) = call(
        &srv,
        Method::GET,
        &format!("/v1/hooks/{}/deliveries", hook["key"].as_str().unwrap()),
        &t,
        None,
        &[],
    )
    .await;
    let d = &log["deliveries"][0];
    assert_eq!(d["status"], "pending", "{log}");
    let next = keygate_core::time::parse_rfc3339(d["next_attempt_at"].as_str().unwrap()).unwrap();
    let first = keygate_core::time::parse_rfc3339(d["attempts"][0]["at"].as_str().unwrap()).unwrap();
    assert!(
        next - first >= 100,
        "the receiver's Retry-After: 120 outweighs the 1 s schedule: {d}"
    );
});

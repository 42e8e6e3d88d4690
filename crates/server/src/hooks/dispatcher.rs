//! Turns stored events into deliveries and delivers them: fan out to subscriptions, batch after the
//! debounce, claim what is due, sign, send, and record the outcome. Every step is a store transaction, so
//! a crash at any point resumes from the store (at least once), and several nodes share the work without
//! sending the same attempt twice. Sends run concurrently, so a slow receiver never holds up the others.

use std::sync::Arc;
use std::time::{Duration, Instant};

use keygate_core::crypto::random_bytes;
use keygate_core::ids::opaque_id;
use keygate_core::time::{format_rfc3339, now};
use keygate_lib::Keygate;
use keygate_store::{AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus, HookStatus, PendingBatch};
use serde_json::json;
use tokio::sync::Semaphore;

use super::client::HookClient;

/// How often the dispatcher looks for work.
const TICK: Duration = Duration::from_millis(250);
/// Most rounds of batching in one step.
const BATCH_ROUNDS: usize = 8;

pub struct Dispatcher {
    keygate: Keygate,
    client: HookClient,
    public_url: String,
    sends: Arc<Semaphore>,
}

impl Dispatcher {
    pub fn new(keygate: Keygate, client: HookClient, public_url: String) -> Self {
        let sends = Arc::new(Semaphore::new(keygate.hook_settings().concurrency));
        Self {
            keygate,
            client,
            public_url,
            sends,
        }
    }

    /// Runs until the task is dropped; errors are logged and the next tick tries again.
    pub async fn run(self: Arc<Self>) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.step().await {
                tracing::warn!(error = %e, "hook dispatcher step failed");
            }
        }
    }

    async fn step(self: &Arc<Self>) -> Result<(), keygate_store::StoreError> {
        let store = self.keygate.store();
        while store.fan_out_events(500).await? == 500 {}
        let settings = self.keygate.hook_settings();
        let ready_before = now() - (settings.debounce_ms.div_ceil(1000)) as i64;
        // A full batch cannot grow, so it goes now; while some are full, more may be waiting behind them
        // (a busy subscription would otherwise get one batch per tick). Bounded, so sends are not starved.
        for _ in 0..BATCH_ROUNDS {
            let batches = store
                .pending_batches(ready_before, settings.max_batch, 100)
                .await?;
            let full = |b: &PendingBatch| b.items.len() >= settings.max_batch as usize;
            let again = batches.iter().any(full);
            for batch in batches {
                let delivery = self.delivery(&batch);
                let ids: Vec<i64> = batch.items.iter().map(|(id, _)| *id).collect();
                store.create_delivery(&delivery, &ids).await?;
            }
            if !again {
                break;
            }
        }
        let free = self.sends.available_permits();
        if free == 0 {
            return Ok(());
        }
        // The claim outlasts the longest send, so no other node retries a delivery still in flight.
        let lease = settings.timeout as i64 + 60;
        for delivery in store.claim_deliveries(now(), lease, free as u32).await? {
            let Ok(permit) = self.sends.clone().acquire_owned().await else {
                break;
            };
            let me = self.clone();
            tokio::spawn(async move {
                if let Err(e) = me.send(delivery).await {
                    tracing::warn!(error = %e, "could not record a hook delivery attempt");
                }
                drop(permit);
            });
        }
        Ok(())
    }

    /// The skinny payload: ids and where to read each object.
    fn delivery(&self, batch: &PendingBatch) -> Delivery {
        let hook = &batch.hook;
        let keys: Vec<_> = batch
            .items
            .iter()
            .map(|(_, e)| {
                json!({
                    "id": e.object_id,
                    "api_url": format!("{}/v1/contacts/{}", self.public_url, e.object_id),
                    "timestamp": format_rfc3339(e.occurred_at),
                })
            })
            .collect();
        let payload = json!({"event_key": hook.event_key, "object_type": "contact", "object_keys": keys});
        Delivery {
            id: opaque_id("msg_"),
            hook_key: hook.key.clone(),
            account: hook.account.clone(),
            payload: payload.to_string(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(now()),
            created_at: now(),
            finished_at: None,
            last_status_code: None,
            last_error: None,
        }
    }

    async fn send(&self, d: Delivery) -> Result<(), keygate_store::StoreError> {
        let store = self.keygate.store();
        let settings = self.keygate.hook_settings();
        let number = d.attempts + 1;
        let Some(hook) = store.get_hook(&d.account, &d.hook_key).await? else {
            return Ok(()); // deleted with its deliveries
        };
        let started = Instant::now();
        let at = now();
        let result = if hook.status != HookStatus::Verified {
            Err(format!("the subscription is {}", hook.status.as_str()))
        } else {
            match self.keygate.hook_secrets(&hook) {
                Err(e) => Err(e.to_string()),
                Ok(secrets) => {
                    let signatures: Vec<String> = secrets
                        .iter()
                        .map(|s| s.sign(&d.id, at, d.payload.as_bytes()))
                        .collect();
                    let headers = [
                        ("content-type", "application/json".to_owned()),
                        ("webhook-id", d.id.clone()),
                        ("webhook-timestamp", at.to_string()),
                        ("webhook-signature", signatures.join(" ")),
                    ];
                    self.client
                        .post(&hook.hook_url, &headers, d.payload.clone().into_bytes())
                        .await
                }
            }
        };
        let latency_ms = started.elapsed().as_millis() as i64;
        let (status_code, error, gone, retry_after) = match &result {
            Ok(a) if (200..300).contains(&a.status) => (Some(a.status), None, false, None),
            Ok(a) => (
                Some(a.status),
                Some(format!("answered {}", a.status)),
                a.status == 410,
                a.retry_after,
            ),
            Err(e) => (None, Some(e.clone()), hook.status != HookStatus::Verified, None),
        };
        let delivered = status_code.is_some_and(|s| (200..300).contains(&s)) && error.is_none();
        let outcome = if delivered {
            AttemptOutcome::Delivered
        } else if gone {
            AttemptOutcome::Failed
        } else {
            match settings.retry_schedule.get(number as usize) {
                Some(delay) => AttemptOutcome::Retry {
                    at: now() + with_jitter(*delay).max(retry_after.unwrap_or(0).min(86_400)) as i64,
                },
                None => AttemptOutcome::Failed,
            }
        };
        let attempt = DeliveryAttempt {
            delivery_id: d.id.clone(),
            number,
            at,
            status_code: status_code.map(i64::from),
            latency_ms,
            error,
        };
        store.record_attempt(&attempt, outcome).await?;
        // A receiver that is gone (410), or that has failed for too long, stops getting events.
        let failing_too_long = hook
            .failing_since
            .is_some_and(|since| at - since > settings.inactive_after);
        let answered_gone = status_code == Some(410);
        if hook.status == HookStatus::Verified && !delivered && (answered_gone || failing_too_long) {
            if let Err(e) = self.keygate.set_hook_status(&hook, HookStatus::Inactive).await {
                tracing::warn!(error = %e, hook = %hook.key, "could not deactivate a hook");
            }
        }
        Ok(())
    }
}

/// Up to a tenth more or less, so a receiver that failed many deliveries at once is not hit by all of
/// their retries in the same second.
fn with_jitter(delay: u64) -> u64 {
    if delay < 10 {
        return delay;
    }
    let spread = delay / 10;
    let r = u64::from(u16::from_le_bytes(random_bytes::<2>()));
    delay - spread + r % (2 * spread + 1)
}

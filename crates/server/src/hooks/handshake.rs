//! The REST Hooks handshake: POST to the new URL with an `X-Hook-Secret`; a receiver that answers 2xx
//! echoing it confirms it wants the events. The value is a fresh random token, not the signing secret,
//! so nothing secret reaches a URL that has not confirmed.

use keygate_core::crypto::random_token;

use super::client::HookClient;

/// `Ok` when the receiver confirmed; otherwise why not, in a sentence for the subscriber.
pub async fn verify(client: &HookClient, url: &str) -> Result<(), String> {
    let token = random_token::<24>();
    let headers = [
        ("x-hook-secret", token.clone()),
        ("content-type", "application/json".to_owned()),
    ];
    let answer = client.post(url, &headers, b"{}".to_vec()).await?;
    if !(200..300).contains(&answer.status) {
        return Err(format!("the receiver answered {}", answer.status));
    }
    match answer.hook_secret {
        Some(echo) if echo == token => Ok(()),
        Some(_) => Err("the receiver echoed another X-Hook-Secret".into()),
        None => Err("the receiver did not echo the X-Hook-Secret header".into()),
    }
}

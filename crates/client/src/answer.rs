//! Reading the server's answers: success bodies as typed JSON, anything else as an [`Error`].

use reqwest::Response;
use serde::de::DeserializeOwned;

use crate::Error;

/// The response if its status is a success, else the error it carries.
pub(crate) async fn check(res: Response) -> Result<Response, Error> {
    let status = res.status();
    if status.is_success() {
        return Ok(res);
    }
    let headers = res.headers().clone();
    let body = res.bytes().await.map_err(Error::Transport)?;
    Err(Error::from_answer(status, &headers, &body))
}

/// A success body as `T`.
pub(crate) async fn json<T: DeserializeOwned>(res: Response) -> Result<T, Error> {
    let res = check(res).await?;
    let body = res.bytes().await.map_err(Error::Transport)?;
    serde_json::from_slice(&body).map_err(|e| Error::decode("the response body", e))
}

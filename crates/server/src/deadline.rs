//! The request timeout (`http.request_timeout_secs`): a request still running when it is up gets a 503.
//!
//! Not tower-http's `TimeoutLayer`, which polls its timer before the handler and so registers it with
//! tokio's timer wheel on every request and clears it after: about 900 instructions, 5% of a static
//! answer's (`bench/`'s `healthz`, counted with `--callgrind`). Here the timer is armed only when the
//! handler first has to wait, with the deadline counted from the request's arrival, so the answers that
//! need no waiting (everything served from memory) never touch it.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pin_project_lite::pin_project;
use tokio::time::{sleep_until, Instant, Sleep};
use tower::{Layer, Service};

use crate::error::Problem;

#[derive(Clone, Copy)]
pub struct DeadlineLayer {
    timeout: Duration,
}

impl DeadlineLayer {
    pub fn new(timeout: Duration) -> Self {
        Self { timeout }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Deadline<S> {
        Deadline {
            inner,
            timeout: self.timeout,
        }
    }
}

#[derive(Clone)]
pub struct Deadline<S> {
    inner: S,
    timeout: Duration,
}

impl<S> Service<Request> for Deadline<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = DeadlineFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        DeadlineFuture {
            inner: self.inner.call(req),
            timer: None,
            deadline: Instant::now() + self.timeout,
        }
    }
}

pin_project! {
    pub struct DeadlineFuture<F> {
        #[pin]
        inner: F,
        #[pin]
        timer: Option<Sleep>,
        deadline: Instant,
    }
}

impl<F> Future for DeadlineFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(res) = this.inner.poll(cx) {
            return Poll::Ready(res);
        }
        if this.timer.is_none() {
            this.timer.set(Some(sleep_until(*this.deadline)));
        }
        if let Some(timer) = this.timer.as_pin_mut() {
            ready!(timer.poll(cx));
        }
        tracing::warn!("a request ran past the request timeout");
        Poll::Ready(Ok(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "Request timed out",
            "the request took longer than the server allows (http.request_timeout_secs)",
        )
        .into_response()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    fn answer(status: StatusCode) -> Response {
        status.into_response()
    }

    #[tokio::test]
    async fn an_answer_in_time_passes_through() {
        let svc = DeadlineLayer::new(Duration::from_secs(5)).layer(tower::service_fn(|_: Request| async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            Ok::<_, Infallible>(answer(StatusCode::CREATED))
        }));
        let res = svc
            .oneshot(Request::new(axum::body::Body::empty()))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }

    #[tokio::test]
    async fn a_request_past_its_deadline_is_a_503_problem() {
        let svc =
            DeadlineLayer::new(Duration::from_millis(20)).layer(tower::service_fn(|_: Request| async {
                std::future::pending::<()>().await;
                Ok::<_, Infallible>(answer(StatusCode::OK))
            }));
        let res = svc
            .oneshot(Request::new(axum::body::Body::empty()))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            res.headers()[axum::http::header::CONTENT_TYPE],
            crate::error::PROBLEM_JSON
        );
    }
}

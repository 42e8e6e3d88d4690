//! What every request passes through between the HTTP layers and its route: the metrics of its
//! answer, the CORS decision, and the deprecation fields of legacy-key answers.
//!
//! One hand-written tower layer rather than three `axum::middleware::from_fn` functions, because each
//! of those costs every request two allocations (its boxed future and a boxed `Next`) and clones of the
//! routes below it, and moves its future between boxes: 3,300 instructions, a sixth of a static
//! answer's (`bench/`'s `healthz`, counted with `--callgrind`). Here a request that needs no store
//! lookup allocates nothing; only a cross-origin call whose origin must be read from the allow-list is
//! boxed.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::response::Response;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::caller;
use crate::cors::{self, Decision};
use crate::metrics::RequestTiming;
use crate::state::AppState;

#[derive(Clone)]
pub struct EdgeLayer {
    state: AppState,
}

impl EdgeLayer {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Edge<S> {
        Edge {
            state: self.state.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
pub struct Edge<S> {
    state: AppState,
    inner: S,
}

/// What is added to the answer once it is ready.
struct Finish {
    state: AppState,
    timing: RequestTiming,
}

impl Finish {
    fn done(self, res: Response) -> Response {
        self.timing.record(&self.state.metrics, res.status().as_u16());
        res
    }
}

/// The decoration of a handler's own answer: CORS fields for an allowed origin, deprecation fields for
/// a legacy key. Refusals and preflight answers are not the handler's and get neither.
fn decorate(state: &AppState, res: &mut Response, legacy: bool, origin: Option<HeaderValue>) {
    if legacy {
        res.headers_mut().extend(caller::deprecation_headers(state));
    }
    if let Some(origin) = origin {
        cors::expose(res, origin);
    }
}

type BoxedResponse = Pin<Box<dyn Future<Output = Response> + Send>>;

pin_project! {
    pub struct EdgeFuture<F> {
        #[pin]
        stage: Stage<F>,
        finish: Option<Finish>,
    }
}

pin_project! {
    #[project = StageProj]
    enum Stage<F> {
        Handler { #[pin] fut: F, legacy: bool, origin: Option<HeaderValue> },
        Lookup { fut: BoxedResponse },
        Answered { res: Option<Response> },
    }
}

impl<S> Service<Request> for Edge<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = EdgeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let finish = Finish {
            state: self.state.clone(),
            timing: RequestTiming::start(&req),
        };
        let legacy = caller::uses_legacy_key(req.headers());
        let stage = match cors::check(&self.state, &req) {
            Ok(Decision::Pass(origin)) => Stage::Handler {
                fut: self.inner.call(req),
                legacy,
                origin,
            },
            Ok(Decision::Answer(res)) => Stage::Answered { res: Some(res) },
            Err(lookup) => {
                // The service that was polled ready goes into the box; a clone stays for the next call.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let state = self.state.clone();
                Stage::Lookup {
                    fut: Box::pin(async move {
                        match lookup.decide(&state).await {
                            Decision::Answer(res) => res,
                            Decision::Pass(origin) => {
                                let Ok(mut res) = inner.call(req).await;
                                decorate(&state, &mut res, legacy, origin);
                                res
                            }
                        }
                    }),
                }
            }
        };
        EdgeFuture {
            stage,
            finish: Some(finish),
        }
    }
}

impl<F> Future for EdgeFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let res = match this.stage.project() {
            StageProj::Handler { fut, legacy, origin } => {
                let Ok(mut res) = ready!(fut.poll(cx));
                if let Some(finish) = this.finish.as_ref() {
                    decorate(&finish.state, &mut res, *legacy, origin.take());
                }
                res
            }
            StageProj::Lookup { fut } => ready!(fut.as_mut().poll(cx)),
            StageProj::Answered { res } => res.take().unwrap_or_default(),
        };
        Poll::Ready(Ok(match this.finish.take() {
            Some(finish) => finish.done(res),
            None => res,
        }))
    }
}

//! A router that remembers what it serves: every (method, path) registered through [`Routes`] is
//! recorded as it is added, so the OpenAPI document can be checked against the routes themselves and an
//! undocumented route fails a test.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::MethodRouter;
use axum::Router;

use crate::state::AppState;

#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    served: Vec<(Method, String)>,
}

macro_rules! methods {
    ($($name:ident => $method:ident),+ $(,)?) => {$(
        pub fn $name<H, T>(self, path: &str, handler: H) -> Self
        where
            H: Handler<T, AppState>,
            T: 'static,
        {
            self.add(Method::$method, path, axum::routing::$name(handler))
        }
    )+};
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    methods!(get => GET, post => POST, put => PUT, patch => PATCH, delete => DELETE);

    /// Routes of one path merge, as `Router::route` merges them: `.get(p, a).post(p, b)`.
    fn add(mut self, method: Method, path: &str, route: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, route);
        self.served.push((method, path.to_owned()));
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.served.extend(other.served);
        self
    }

    /// Changes the router of the routes added so far (a `route_layer`, say) without changing what it serves.
    pub fn map_router(mut self, f: impl FnOnce(Router<AppState>) -> Router<AppState>) -> Self {
        self.router = f(self.router);
        self
    }

    /// Every (method, path) served, in the order added; paths in axum's syntax (`/v1/contacts/{id}`).
    pub fn served(&self) -> &[(Method, String)] {
        &self.served
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}

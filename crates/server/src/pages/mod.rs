//! Server-rendered pages of the authorization flow. Plain HTML, one stylesheet, no script, so they
//! work without network access and under a strict Content-Security-Policy.

mod html;
pub use html::*;

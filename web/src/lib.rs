//! HTTP routes of motionrender (the API of ../shared/API.md), for the
//! `motionrender serve` command and for embedding in an existing actix-web
//! application:
//!
//! ```no_run
//! # use motionrender_actors::{Engine, EngineOptions};
//! # fn demo(engine: Engine) {
//! let app = actix_web::App::new()
//!     .service(actix_web::web::scope("/render-engine").configure(motionrender_web::configure(engine)));
//! # }
//! ```

// ApiError is the whole error body; it travels on the cold path only.
#![allow(clippy::result_large_err)]

mod auth;
mod body;
pub mod checks;
mod origin;
mod routes;

use actix_web::web;
use motionrender_actors::Engine;

/// A function that adds every route of the engine to a service config (an
/// `App` or a `Scope` the host chooses), backed by `engine`.
pub fn configure(engine: Engine) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config: &mut web::ServiceConfig| routes::register(config, engine)
}

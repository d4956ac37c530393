//! Delivery of one callback event to a job's `callbackUrl`: signing, the
//! HTTP POST and its retries with backoff until a deadline. Storage and
//! ordering of events (the durable outbox) live elsewhere and call
//! [`CallbackClient::deliver`] for each event in turn.

mod backoff;
mod client;
mod error;
mod event_id;
mod signature;

pub use backoff::Backoff;
pub use client::{CallbackClient, DeliveryReport, USER_AGENT};
pub use error::{AttemptFailure, ClientBuildError, DeliveryError};
pub use event_id::event_id;
pub use signature::{
    verify_signature, CallbackSigner, SignatureHeaders, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};

//! MotionText scenarios: parsed, migrated to v2.0, resolved and validated.
//!
//! [`load`] is the entry point: it takes the JSON text a caller sent and
//! returns a [`Scenario`] the engine can plan with, or a [`ScenarioError`]
//! whose issues name the failing field by JSON pointer.

mod define;
mod error;
mod lint;
mod load;
mod migrate;
mod model;
mod pointer;
mod timeline;
mod validate;

pub use error::{Issue, ScenarioError};
pub use load::{load, load_value};
pub use migrate::{migrate_v13, Migration};
pub use model::{Cue, ElementType, Node, PluginRef, Scenario, Track, TrackType};
pub use pointer::Pointer;
pub use timeline::{union, TimeRange};

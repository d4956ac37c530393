//! Typed configuration of motionrender (filled in by the config work).

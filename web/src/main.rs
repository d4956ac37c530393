//! The motionrender binary.
fn main() {}

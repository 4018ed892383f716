//! The `okaz` launcher.
fn main() {}

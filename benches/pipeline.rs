//! Micro-benchmarks of the forwarding pipeline (filled in with the pure core).
fn main() {}

//! Criterion benchmarks of Ivy DSM; the suites live in `benches/`.

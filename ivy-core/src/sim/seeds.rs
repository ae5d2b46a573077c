//! Which seeds a randomised test runs, from the environment: `IVY_SEED=n` replays
//! seed `n` alone, `IVY_SEEDS=k` runs seeds `0..k`, and otherwise the test's fast
//! default. Every failure names its seed, so a failing sweep is replayed by one.

use std::ops::Range;

/// The seeds to run: `IVY_SEED`'s alone, `0..IVY_SEEDS`, or `0..default`.
///
/// # Panics
///
/// If either variable is set to something other than a number.
pub fn seeds_to_run(default: u64) -> Range<u64> {
    let number = |name: &str| {
        let text = std::env::var(name).ok()?;
        let parsed = text.parse::<u64>();
        Some(parsed.unwrap_or_else(|_| panic!("{name} must be a number, not {text:?}")))
    };
    match (number("IVY_SEED"), number("IVY_SEEDS")) {
        (Some(seed), _) => seed..seed + 1,
        (None, Some(seeds)) => 0..seeds,
        (None, None) => 0..default,
    }
}

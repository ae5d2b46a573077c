//! The rows of the targets table for Ivy over TCP (`ivy-net`'s `tcp` bench and
//! `ivy-cli`'s `cluster` bench): a read fault against a bare TCP chain, `ivy cluster`
//! against the threaded runtime with their messages per fault, and failover with a
//! real SIGKILL.

use crate::{find, time, Result};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// The messages per fault the `cluster` bench wrote next to criterion's results.
fn messages_per_fault(criterion: &Path) -> BTreeMap<String, f64> {
    let path = criterion.join("messages per fault.json");
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Rows of `| target | measured | verdict |`.
pub(crate) fn rows(results: &[Result], criterion: &Path) -> String {
    let mut out = String::new();
    let mut row = |target: &str, measured: String, verdict: &str| {
        let _ = writeln!(out, "| {target} | {measured} | {verdict} |");
    };
    let judged = |met: Option<bool>| match met {
        Some(true) => "met",
        Some(false) => "missed",
        None => "not measured",
    };
    // Judged with every thread on one core: on any core, a hop costs whatever waking
    // a thread on the other virtual CPU costs, which moves the bare chain alone by 2x
    // from run to run.
    for (placement, suffix, judge) in [
        ("threads on any core", "", false),
        ("all on one core", ", one core", true),
    ] {
        let group = "tcp read fault";
        let fault = find(results, group, &format!("uncontended, basic{suffix}"));
        let chain = find(results, group, &format!("bare 3-hop chain{suffix}"));
        let times = fault.zip(chain).map(|(f, c)| {
            let per = |r: &Result| r.per_element_ns().unwrap_or(f64::NAN);
            (per(f), per(c), f.median_ns / c.median_ns)
        });
        row(
            &format!("uncontended read fault over loopback TCP / bare 3-hop TCP chain ({placement}): at most 1.5"),
            times.map_or("-".to_string(), |(f, c, r)| format!("{} / {} = {r:.2}", time(f), time(c))),
            match judge {
                true => judged(times.map(|(_, _, r)| r <= 1.5)),
                false if times.is_some() => "reported (placement-bound)",
                false => "not measured",
            },
        );
    }
    let per_fault = messages_per_fault(criterion);
    for ops in ["reads", "writes"] {
        let group = "cluster reference workload";
        let per_op = |runtime: &str| {
            find(results, group, &format!("{runtime}, {ops}")).and_then(Result::per_element_ns)
        };
        let both = per_op("cluster").zip(per_op("threads"));
        row(
            &format!("the reference's 100,000 {ops} on `ivy cluster` (a process per node, TCP) against threads (`ivy basic`)"),
            both.map_or("-".to_string(), |(c, t)| {
                format!("{} / {} per operation = {:.1} times", time(c), time(t), c / t)
            }),
            if both.is_some() { "reported" } else { "not measured" },
        );
        let messages = |runtime: &str| {
            per_fault
                .get(&format!("reference workload, {runtime}, {ops}"))
                .copied()
        };
        let pair = messages("cluster").zip(messages("threads"));
        row(
            &format!("messages per fault, {ops}: `ivy cluster` identical to threads"),
            pair.map_or("-".to_string(), |(c, t)| format!("{c:.2} and {t:.2}")),
            judged(pair.map(|(c, t)| c == t)),
        );
    }
    for timing in [
        "heartbeat 10 ms, timeout 50 ms",
        "heartbeat 1 ms, timeout 5 ms",
    ] {
        let failover = find(results, "cluster failover", timing).map(|r| r.median_ns);
        row(
            &format!("failover after a real SIGKILL of the primary's OS process ({timing}): crash to the first request served"),
            failover.map_or("-".to_string(), time),
            if failover.is_some() { "reported" } else { "not measured" },
        );
    }
    out
}

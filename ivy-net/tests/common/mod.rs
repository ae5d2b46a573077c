//! A three-node cluster (two processes and a manager) for the transport's tests.

#![allow(dead_code)]

pub mod sim;

use ivy_core::{Envelope, Message, NodeId, PageId, RequestId, SystemConfig, View};
use ivy_net::{ClusterKey, Identity, NetOptions};
use std::collections::BTreeSet;

pub const CLUSTER: &str = "test-cluster";

pub fn system() -> SystemConfig {
    SystemConfig::new(2, 8, 64).unwrap()
}

pub fn key(byte: u8) -> ClusterKey {
    ClusterKey::new(vec![byte; 32]).unwrap()
}

pub fn identity(node: u32) -> Identity {
    Identity {
        cluster: CLUSTER.to_string(),
        node: NodeId(node),
        key: key(7),
        members: (0..3).map(NodeId).collect::<BTreeSet<_>>(),
    }
}

pub fn options() -> NetOptions {
    NetOptions::new(system(), 1)
}

/// A read request from process `from` to the manager (node 2), numbered `sequence`.
pub fn request(from: u32, to: u32, sequence: u64) -> Envelope {
    Envelope {
        from: NodeId(from),
        to: NodeId(to),
        view: View(0),
        message: Message::ReadRequest {
            page: PageId((sequence % 8) as u32),
            request: RequestId {
                process: NodeId(from.min(1)),
                sequence,
            },
        },
    }
}

/// Shows the transport's logs in a failing test's output (`RUST_LOG` filters them).
pub fn logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// Cases per property: a few thousand by default, `IVY_SEEDS` for a longer run.
pub fn fuzz_cases() -> u32 {
    std::env::var("IVY_SEEDS")
        .ok()
        .and_then(|seeds| seeds.parse().ok())
        .unwrap_or(4_000)
}

/// The seeds a sweep runs: `IVY_SEED=n` replays one, `IVY_SEEDS=n` runs the first n,
/// else the first `default`.
pub fn seeds(default: u64) -> std::ops::Range<u64> {
    let number = |name| {
        std::env::var(name).ok().map(|value: String| {
            value
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("{name} is a number"))
        })
    };
    match (number("IVY_SEED"), number("IVY_SEEDS")) {
        (Some(seed), _) => seed..seed + 1,
        (None, seeds) => 0..seeds.unwrap_or(default),
    }
}

//! The cluster file: what every node of a cluster must agree on, in TOML. It names
//! the cluster and its key (or a file holding the key), the run (pages, page size and
//! the seeded workload, and the failover timing when there are two managers), and
//! every node: its id, kind and address. Processes are ids `0..P`, then one manager
//! (a basic cluster) or two (a fault-tolerant one), as in every other driver.
//!
//! ```toml
//! cluster = "demo"
//! key = "a shared secret of at least sixteen bytes"
//!
//! [run]
//! pages = 5
//! requests = 50
//!
//! [[nodes]]
//! id = 0
//! kind = "process"
//! address = "10.0.0.1:7100"
//! ```

use crate::handshake::ClusterKey;
use ivy_core::{NodeId, OperationMix, SystemConfig};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use thiserror::Error;

/// A node's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// A process sharing the pages.
    Process,
    /// A manager (the central one, or one of the replicated pair).
    Manager,
}

/// One node of the cluster file.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// The node's id.
    pub id: u32,
    /// Process or manager.
    pub kind: NodeKind,
    /// Where it listens (`host:port`).
    pub address: String,
}

/// The run every node takes part in.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunSpec {
    /// Number of shared pages.
    pub pages: u32,
    /// Bytes per page.
    pub page_size: usize,
    /// Number of operations, across all processes.
    pub requests: u64,
    /// Which operations: "read", "write" or "mixed".
    pub ops: String,
    /// Seed of the workload.
    pub seed: u64,
    /// Heartbeat period of a replicated pair, in milliseconds.
    pub heartbeat_ms: u64,
    /// Silence after which the backup takes over, in milliseconds.
    pub failover_timeout_ms: u64,
}

impl Default for RunSpec {
    fn default() -> RunSpec {
        RunSpec {
            pages: 5,
            page_size: 4096,
            requests: 50,
            ops: "mixed".to_string(),
            seed: 1,
            heartbeat_ms: 10,
            failover_timeout_ms: 50,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterFile {
    cluster: String,
    key: Option<String>,
    key_file: Option<String>,
    #[serde(default)]
    run: RunSpec,
    nodes: Vec<NodeSpec>,
}

/// A checked cluster file.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    /// The cluster's name.
    pub name: String,
    /// The shared key.
    pub key: ClusterKey,
    /// The run.
    pub run: RunSpec,
    /// The operations to draw.
    pub mix: OperationMix,
    /// Pages, processes and page size.
    pub system: SystemConfig,
    /// How many managers: 1 (basic) or 2 (fault-tolerant).
    pub managers: u32,
    /// Every node's address, by id.
    pub addresses: BTreeMap<NodeId, String>,
}

/// What is wrong with a cluster file.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ClusterError {
    /// Not TOML of the expected shape.
    #[error("{0}")]
    Syntax(String),
    /// Neither or both of `key` and `key_file`, an unreadable key file, a short key.
    #[error("{0}")]
    Key(String),
    /// Ids not `0..n`, kinds out of place, a repeated address, a wrong manager count.
    #[error("{0}")]
    Nodes(String),
    /// Run settings that cannot run.
    #[error("{0}")]
    Run(String),
}

impl ClusterSpec {
    /// Parses and checks `text`; a `key_file` is read relative to `directory`.
    pub fn parse(text: &str, directory: &Path) -> Result<ClusterSpec, ClusterError> {
        let file: ClusterFile = toml::from_str(text)
            .map_err(|error| ClusterError::Syntax(error.message().to_string()))?;
        let key = match (file.key, file.key_file) {
            (Some(key), None) => key.into_bytes(),
            (None, Some(path)) => {
                let path = directory.join(path);
                let text = std::fs::read_to_string(&path).map_err(|error| {
                    ClusterError::Key(format!("cannot read key file {}: {error}", path.display()))
                })?;
                text.trim().as_bytes().to_vec()
            }
            _ => {
                return Err(ClusterError::Key(
                    "give exactly one of key and key_file".into(),
                ))
            }
        };
        let key = ClusterKey::new(key).map_err(|error| ClusterError::Key(error.to_string()))?;
        let (processes, managers, addresses) = check_nodes(&file.nodes)?;
        let run = file.run;
        let system = SystemConfig::new(processes, run.pages, run.page_size)
            .map_err(|error| ClusterError::Run(error.to_string()))?;
        let mix = match run.ops.as_str() {
            "read" => OperationMix::Read,
            "write" => OperationMix::Write,
            "mixed" => OperationMix::Mixed,
            other => {
                let message = format!("ops must be read, write or mixed, not {other:?}");
                return Err(ClusterError::Run(message));
            }
        };
        if managers == 2 && (run.heartbeat_ms == 0 || run.failover_timeout_ms <= run.heartbeat_ms) {
            let message = "failover_timeout_ms must exceed heartbeat_ms, which must be positive";
            return Err(ClusterError::Run(message.to_string()));
        }
        Ok(ClusterSpec {
            name: file.cluster,
            key,
            run,
            mix,
            system,
            managers,
            addresses,
        })
    }

    /// Reads and checks the cluster file at `path`.
    pub fn read(path: &Path) -> Result<ClusterSpec, ClusterError> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            ClusterError::Syntax(format!("cannot read {}: {error}", path.display()))
        })?;
        let directory = path.parent().unwrap_or(Path::new("."));
        ClusterSpec::parse(&text, directory)
    }

    /// Every node id of the cluster.
    pub fn members(&self) -> BTreeSet<NodeId> {
        self.addresses.keys().copied().collect()
    }
}

/// Checks that the ids are `0..n` once each, processes first, then one or two
/// managers, each at its own address; returns the counts and the addresses.
fn check_nodes(nodes: &[NodeSpec]) -> Result<(u32, u32, BTreeMap<NodeId, String>), ClusterError> {
    let fail = |message: String| Err(ClusterError::Nodes(message));
    let mut addresses = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for node in nodes {
        if addresses
            .insert(NodeId(node.id), node.address.clone())
            .is_some()
        {
            return fail(format!("node id {} appears twice", node.id));
        }
        if !seen.insert(node.address.as_str()) {
            return fail(format!("address {} is given to two nodes", node.address));
        }
        if !node
            .address
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
        {
            return fail(format!(
                "node {}: address {:?} is not host:port",
                node.id, node.address
            ));
        }
    }
    let count = nodes.len() as u32;
    if let Some(missing) = (0..count).find(|id| !addresses.contains_key(&NodeId(*id))) {
        return fail(format!(
            "node id {missing} is missing (ids must be 0 to {})",
            count.saturating_sub(1)
        ));
    }
    let kind_of = |id: u32| {
        nodes
            .iter()
            .find(|node| node.id == id)
            .map(|node| node.kind)
    };
    let processes = (0..count)
        .take_while(|&id| kind_of(id) == Some(NodeKind::Process))
        .count() as u32;
    let managers = count - processes;
    if processes == 0 {
        return fail("a cluster needs at least one process (ids from 0)".into());
    }
    if let Some(id) = (processes..count).find(|&id| kind_of(id) != Some(NodeKind::Manager)) {
        return fail(format!(
            "node {id} is a process after a manager: processes come first"
        ));
    }
    if !(1..=2).contains(&managers) {
        return fail(format!(
            "a cluster has one manager (basic) or two (fault-tolerant), not {managers}"
        ));
    }
    Ok((processes, managers, addresses))
}

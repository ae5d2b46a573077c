//! `ivy cluster --netns`: every node in its own Linux network namespace, as on hosts of
//! a real network. Each node's namespace has its own stack and one interface, `eth0`,
//! with its own address (10.213.0.0/16); the other end of each veth pair sits in one
//! more namespace, on a bridge, as a switch port. Cutting a node's link is taking its
//! switch port down (`ip link set ... down`): the node keeps running, unreachable.
//!
//! Namespaces are named `ivyc<launcher pid>-<node id>` (and `-switch`), made with `ip`
//! (iproute2) and deleted when the set is dropped; a launcher killed before it could
//! delete them leaves them behind, and the next `--netns` run deletes those whose
//! launcher is gone.

use crate::error::CliError;
use ivy_core::NodeId;
use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::Command;

/// The prefix of every namespace a launcher makes.
const PREFIX: &str = "ivyc";

/// The port every node listens on (each has an address of its own).
const PORT: u16 = 7000;

/// The namespaces of one run: a namespace per node and the switch.
pub struct Namespaces {
    name: String,
    nodes: u32,
}

impl Namespaces {
    /// Makes a namespace for each of `nodes` nodes, wired to a bridge, each interface up
    /// with its node's address. Fails with one line if `ip` cannot make them (not root,
    /// no iproute2, no namespace support).
    pub fn create(nodes: u32) -> Result<Namespaces, CliError> {
        if nodes > u32::from(u16::MAX) - 2 {
            return Err(CliError::Usage(format!(
                "--netns gives each node an address in 10.213.0.0/16: {nodes} nodes are too many"
            )));
        }
        delete_stale();
        let mut namespaces = Namespaces {
            name: format!("{PREFIX}{}", std::process::id()),
            nodes: 0,
        };
        let switch = namespaces.switch();
        ip(&["netns", "add", &switch]).map_err(|error| {
            CliError::Failed(format!(
                "--netns cannot make a network namespace (it needs root and iproute2): {error}"
            ))
        })?;
        ip(&["-n", &switch, "link", "add", "switch", "type", "bridge"])?;
        ip(&["-n", &switch, "link", "set", "switch", "up"])?;
        for index in 0..nodes {
            let id = NodeId(index);
            let node = namespaces.namespace(id);
            ip(&["netns", "add", &node])?;
            namespaces.nodes = index + 1;
            let port = port_name(id);
            let peer = ["peer", "name", "eth0", "netns", &node];
            let add = ["-n", &switch, "link", "add", &port, "type", "veth"];
            ip(&[&add[..], &peer[..]].concat())?;
            ip(&[
                "-n", &switch, "link", "set", &port, "master", "switch", "up",
            ])?;
            let address = format!("{}/16", address_of(id));
            ip(&["-n", &node, "addr", "add", &address, "dev", "eth0"])?;
            ip(&["-n", &node, "link", "set", "eth0", "up"])?;
            ip(&["-n", &node, "link", "set", "lo", "up"])?;
        }
        Ok(namespaces)
    }

    /// Where node `id` listens.
    pub fn address(&self, id: NodeId) -> SocketAddr {
        SocketAddr::new(address_of(id).into(), PORT)
    }

    /// A handle on node `id`'s namespace, for a child to enter before it runs.
    pub fn handle(&self, id: NodeId) -> Result<File, CliError> {
        let path = format!("/run/netns/{}", self.namespace(id));
        File::open(&path).map_err(|error| CliError::Failed(format!("cannot open {path}: {error}")))
    }

    /// Takes node `id`'s switch port down: nothing reaches it or leaves it.
    pub fn cut(&self, id: NodeId) -> Result<(), CliError> {
        ip(&["-n", &self.switch(), "link", "set", &port_name(id), "down"])
    }

    /// Brings node `id`'s switch port back up.
    pub fn restore(&self, id: NodeId) -> Result<(), CliError> {
        ip(&["-n", &self.switch(), "link", "set", &port_name(id), "up"])
    }

    fn namespace(&self, id: NodeId) -> String {
        format!("{}-{}", self.name, id.0)
    }

    fn switch(&self) -> String {
        format!("{}-switch", self.name)
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for index in 0..self.nodes {
            let _ = ip(&["netns", "del", &self.namespace(NodeId(index))]);
        }
        let _ = ip(&["netns", "del", &self.switch()]);
    }
}

/// Node `id`'s address: 10.213.0.1 for node 0, counting up.
fn address_of(id: NodeId) -> Ipv4Addr {
    let host = id.0 + 1;
    Ipv4Addr::new(10, 213, (host >> 8) as u8, host as u8)
}

/// The name of node `id`'s port on the switch.
fn port_name(id: NodeId) -> String {
    format!("node{}", id.0)
}

/// Runs `ip` with `args`; its complaint, if it fails, as one line.
fn ip(args: &[&str]) -> Result<(), CliError> {
    let output = Command::new("ip")
        .args(args)
        .output()
        .map_err(|error| CliError::Failed(format!("cannot run ip: {error}")))?;
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr);
    Err(CliError::Failed(format!(
        "ip {}: {}",
        args.join(" "),
        said.trim().replace('\n', "; ")
    )))
}

/// Deletes the namespaces of launchers that are gone, and any that carry this
/// launcher's own pid (left by an earlier launcher with the same pid: this one has
/// made none yet).
fn delete_stale() {
    let Ok(output) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    let listed = String::from_utf8_lossy(&output.stdout);
    for name in listed
        .lines()
        .filter_map(|line| line.split_whitespace().next())
    {
        let Some((pid, _)) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('-'))
        else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        let alive = std::path::Path::new(&format!("/proc/{pid}")).exists();
        if !alive || pid == std::process::id() {
            let _ = ip(&["netns", "del", name]);
        }
    }
}

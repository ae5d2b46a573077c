//! Exhaustive model checks (stateright) of the central manager and of the fixed
//! distributed manager, over the real `Process`, `CentralManager` and `FixedNode`
//! state machines: every interleaving of message deliveries and operation starts on
//! three processes and two pages, two operations each (`ivy_core::sim::explore`).
//!
//! Messages in flight are a multiset (kept sorted), so any message may be delivered
//! next: the network reorders freely. The properties: the coherence invariant in
//! every reachable state (against the manager, or each page's share manager), every
//! read returns the latest completed write, and from every state all operations
//! eventually complete (no deadlock, no lost fault).
//!
//! The number of distinct states is pinned: a change to the protocol that changes it
//! must say why.

use ivy_basic::{CentralManager, FixedNode};
use ivy_core::sim::explore::{check_every_interleaving, small_racing_system};
use ivy_core::{NoManager, Operation, PageMapping, Process};
use ivy_core::{ProcessOptions, SystemConfig};

/// The small racing system of `ivy_core::sim::explore`.
fn workload() -> Vec<Vec<Operation>> {
    small_racing_system().1
}

fn config() -> SystemConfig {
    small_racing_system().0
}

#[test]
fn the_basic_protocol_is_coherent_in_every_interleaving() {
    let config = config();
    let processes = Process::all(&config, &ProcessOptions::single_manager(&config));
    let states = check_every_interleaving(
        config,
        workload(),
        processes,
        vec![CentralManager::new(&config)],
    );
    // Pinned: the protocol's reachable state space on this configuration.
    assert_eq!(states, 2418);
}

#[test]
fn the_fixed_distributed_manager_is_coherent_in_every_interleaving() {
    // Each page's manager is its first owner here (with two pages on three nodes
    // both mappings give page p to node p): a fault's forward starts local.
    let nodes = FixedNode::all(&config(), PageMapping::Modulo);
    let states = check_every_interleaving::<NoManager, _>(config(), workload(), nodes, Vec::new());
    assert_eq!(states, 1357); // pinned
}

#[test]
fn the_fixed_manager_is_coherent_under_both_mappings() {
    // Two nodes, three pages: `Modulo` gives node 0 pages 0 and 2, `Blocks` pages 0
    // and 1, so the same faults meet different managers.
    let config = SystemConfig::new(2, 3, 8).expect("a valid configuration");
    let (read, write) = (Operation::read, Operation::write);
    let workload = vec![
        vec![read(2), write(1, 1), read(0)],
        vec![write(0, 2), read(1), write(2, 3)],
    ];
    for (mapping, pinned) in [(PageMapping::Modulo, 242), (PageMapping::Blocks, 207)] {
        let nodes = FixedNode::all(&config, mapping);
        let states =
            check_every_interleaving::<NoManager, _>(config, workload.clone(), nodes, Vec::new());
        assert_eq!(states, pinned, "{mapping:?}");
    }
}

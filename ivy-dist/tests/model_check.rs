//! Exhaustive model checks (stateright) of the improved central and the dynamic
//! distributed managers over the real `OwnerProcess` and `ImprovedManager` state
//! machines (`ivy_core::sim::explore`): every interleaving of message deliveries and
//! operation starts, with any message in flight free to arrive next. In every state:
//! coherence against the owners' records and the probable owners leading to an
//! owner without a loop (the same functions the simulator calls after every step);
//! every read returns the latest completed write; and every operation eventually
//! completes. The numbers of states are pinned: a change that moves one must say why.

use ivy_core::sim::explore::{check_every_interleaving, small_racing_system, ModelManager};
use ivy_core::{NoManager, Operation, SystemConfig};
use ivy_dist::{Algorithm, ImprovedManager, OwnerProcess};

/// The small racing system of `ivy_core::sim::explore`.
fn workload() -> Vec<Vec<Operation>> {
    small_racing_system().1
}

fn explore<M: ModelManager>(processes: Vec<OwnerProcess>, managers: Vec<M>) -> usize {
    check_every_interleaving(config(), workload(), processes, managers)
}

fn config() -> SystemConfig {
    small_racing_system().0
}

#[test]
fn the_improved_central_manager_is_coherent_in_every_interleaving() {
    let algorithm = Algorithm::ImprovedCentral {
        manager: config().manager(),
    };
    let processes = OwnerProcess::all(&config(), algorithm);
    let states = explore(processes, vec![ImprovedManager::new(&config())]);
    assert_eq!(states, 1080); // pinned
}

#[test]
fn the_dynamic_distributed_manager_is_coherent_in_every_interleaving() {
    let processes = OwnerProcess::all(&config(), Algorithm::Dynamic);
    let states = explore::<NoManager>(processes, Vec::new());
    assert_eq!(states, 565); // pinned
}

#[test]
fn three_writers_racing_for_one_page_follow_the_hints_without_a_loop() {
    // Every process writes page 0 then reads it, and process 1 writes it again:
    // write requests chase each other along the probable owners.
    let config = SystemConfig::new(3, 1, 8).expect("a valid configuration");
    let (read, write) = (Operation::read, Operation::write);
    let workload = vec![
        vec![write(0, 1), read(0)],
        vec![write(0, 2), read(0), write(0, 4)],
        vec![read(0), write(0, 3)],
    ];
    let processes = OwnerProcess::all(&config, Algorithm::Dynamic);
    let states = check_every_interleaving::<NoManager, _>(config, workload, processes, Vec::new());
    assert_eq!(states, 4652); // pinned
}

#[test]
fn the_broadcast_manager_is_coherent_in_every_interleaving() {
    let processes = OwnerProcess::all(&config(), Algorithm::Broadcast);
    let states = explore::<NoManager>(processes, Vec::new());
    assert_eq!(states, 10730); // pinned
}

#[test]
fn a_new_owner_inside_the_tree_of_copies_is_coherent_in_every_interleaving() {
    // Process 1 takes page 0; process 0 reads it from 1; process 3 can read 0's
    // copy; then a holder of a copy (0 or 3) writes: it becomes the owner from
    // inside the tree, its own copies merged into those it invalidates, and
    // invalidations may come back to it through its parent.
    let config = SystemConfig::new(4, 1, 8).expect("a valid configuration");
    let (read, write) = (Operation::read, Operation::write);
    let workload = vec![
        vec![read(0), write(0, 1)],
        vec![write(0, 2)],
        vec![read(0)],
        vec![read(0), write(0, 3)],
    ];
    let processes = OwnerProcess::all(&config, Algorithm::DynamicCopyTree);
    let states = check_every_interleaving::<NoManager, _>(config, workload, processes, Vec::new());
    assert_eq!(states, 8611); // pinned
}

#[test]
fn invalidations_travel_down_a_tree_of_copies_in_every_interleaving() {
    // Process 1 takes page 0 from process 0, whose hint then names 1; process 0
    // reads it from 1; process 3, whose hint still names 0, can get its copy from
    // 0's, a copy of a copy; then process 2 writes, invalidating down the tree.
    let config = SystemConfig::new(4, 1, 8).expect("a valid configuration");
    let (read, write) = (Operation::read, Operation::write);
    let workload = vec![
        vec![read(0)],
        vec![write(0, 1)],
        vec![write(0, 2)],
        vec![read(0)],
    ];
    let processes = OwnerProcess::all(&config, Algorithm::DynamicCopyTree);
    let states = check_every_interleaving::<NoManager, _>(config, workload, processes, Vec::new());
    assert_eq!(states, 1306); // pinned
}

#[test]
fn ownership_broadcasts_keep_the_hints_coherent_in_every_interleaving() {
    // The racing writers again, the owner telling everyone after every fault.
    let config = SystemConfig::new(3, 1, 8).expect("a valid configuration");
    let (read, write) = (Operation::read, Operation::write);
    let workload = vec![
        vec![write(0, 1), read(0)],
        vec![write(0, 2), read(0)],
        vec![read(0), write(0, 3)],
    ];
    let processes = OwnerProcess::all(&config, Algorithm::Dynamic);
    let processes = processes
        .into_iter()
        .map(|p| p.broadcasting_ownership_every(1))
        .collect();
    let states = check_every_interleaving::<NoManager, _>(config, workload, processes, Vec::new());
    assert_eq!(states, 211_973); // pinned
}

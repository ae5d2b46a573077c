//! Helpers shared by the handler tests of the replicated manager: three processes and
//! one page (owned by process 0); the original primary is node 3, the original backup
//! node 4; the timing of `FtOptions::default()` (heartbeat every 10 ticks, failover
//! after 50). Every moment a test places relative to a timeout derives from that
//! timing through the helpers below. Each test target uses some of them.
#![allow(dead_code)]

pub mod hand;

use ivy_core::{
    Envelope, Incarnation, LogEntry, LogPosition, Message, Node, NodeEvent, NodeId, OperationKind,
    Outbox, PageId, PageVersion, RequestId, SystemConfig, View, Viewstamp,
};
use ivy_ft::{FtManager, FtOptions, RoleKind};
use std::ops::Range;

pub const PRIMARY: NodeId = NodeId(3);
pub const BACKUP: NodeId = NodeId(4);
/// The incarnation every manager starts as.
pub const FIRST: Incarnation = Incarnation(0);

/// What a handler sent, as (to, view, message), and the events it reported.
pub type Sent = (Vec<(NodeId, View, Message)>, Vec<NodeEvent>);

pub fn config() -> SystemConfig {
    SystemConfig::new(3, 1, 8).expect("a valid configuration")
}

/// The timing every manager of the tests runs with: `FtOptions::default()`.
pub fn timing() -> FtOptions {
    FtOptions::default()
}

/// Ticks between two heartbeats of a primary (and two `NewView`s of a fence).
pub fn heartbeat_interval() -> u64 {
    timing().heartbeat_ticks
}

/// The failover timeout: a peer last heard at tick 0 is not yet silent at this tick.
pub fn failover_timeout() -> u64 {
    timing().failover_timeout_ticks
}

/// The first tick at which a peer last heard at `heard_at` counts as silent.
pub fn silent_since(heard_at: u64) -> u64 {
    heard_at + timing().silence_ticks()
}

/// The first tick at which a peer last heard at tick 0 counts as silent.
pub fn silent_at() -> u64 {
    silent_since(0)
}

/// The tick at which a transaction last driven at `driven_at`, still open, is
/// driven again.
pub fn redrive_due(driven_at: u64) -> u64 {
    driven_at + timing().redrive_ticks
}

/// A tick by which a manager whose first takeover attempt failed at `failed_at` may
/// try again: the back-off after one failure is at most two failover timeouts (and
/// the peer's silence, counted from the failure, has passed by then too).
pub fn past_first_backoff(failed_at: u64) -> u64 {
    failed_at + 2 * failover_timeout()
}

/// The tick at which `take_over_view_1` establishes view 1: the processes promise
/// the tick after the backup found its primary silent.
pub fn view_1_established_at() -> u64 {
    silent_at() + 1
}

pub fn manager(id: NodeId) -> FtManager {
    FtManager::new(&config(), id, timing())
}

pub fn request(process: u32, sequence: u64) -> RequestId {
    RequestId {
        process: NodeId(process),
        sequence,
    }
}

/// Entry `index` appended in `view`.
pub fn stamp(view: u64, index: u64) -> Viewstamp {
    Viewstamp {
        view: View(view),
        index,
    }
}

pub fn read_request(process: u32, sequence: u64) -> Message {
    Message::ReadRequest {
        page: PageId(0),
        request: request(process, sequence),
    }
}

/// The read forward to process 0 for `process`'s fault at page version 1, begun by
/// the entry `at`.
pub fn forward(process: u32, sequence: u64, at: Viewstamp) -> Message {
    read_forward(process, sequence, 1, at)
}

/// The read forward to process 0 for `process`'s fault at page `version`, begun by
/// the entry `at`.
pub fn read_forward(process: u32, sequence: u64, version: u64, at: Viewstamp) -> Message {
    Message::ReadForward {
        page: PageId(0),
        request: request(process, sequence),
        version: PageVersion(version),
        stamp: at,
    }
}

pub fn read_confirmation(process: u32, sequence: u64, version: u64) -> Message {
    Message::ReadConfirmation {
        page: PageId(0),
        request: request(process, sequence),
        version: PageVersion(version),
    }
}

pub fn admit(process: u32, sequence: u64) -> LogEntry {
    LogEntry::Admit {
        page: PageId(0),
        request: request(process, sequence),
        kind: OperationKind::Read,
    }
}

/// A promise of the envelope's view to the first incarnation of its primary.
pub fn promise(accepted: Viewstamp) -> Message {
    promise_to(accepted, FIRST)
}

/// A promise of the envelope's view to incarnation `incarnation` of its primary,
/// reporting `accepted` obeyed in a view led by the first life of its primary.
pub fn promise_to(accepted: Viewstamp, incarnation: Incarnation) -> Message {
    Message::ViewPromise {
        accepted: first_life(accepted),
        incarnation,
    }
}

/// The position `stamp` in a view led by the first life of its primary.
pub fn first_life(stamp: Viewstamp) -> LogPosition {
    LogPosition {
        stamp,
        leader: FIRST,
    }
}

/// The replication of the primary's first entry (process 1's read admitted) to
/// backup incarnation `to`, which acts on it if `act`.
pub fn replicate_first_read(to: Incarnation, act: bool) -> Message {
    Message::Replicate {
        incarnation: to,
        first_index: 1,
        entries: vec![admit(1, 1)],
        act,
    }
}

/// The backup once it applied the primary's first entry (process 1's read admitted),
/// without acting on it, at tick 0.
pub fn backup_holding_first_read() -> FtManager {
    let mut backup = manager(BACKUP);
    deliver(
        &mut backup,
        PRIMARY,
        0,
        replicate_first_read(FIRST, false),
        0,
    );
    backup
}

/// Each of `processes` promises view 1 to `manager` at `at`, reporting nothing
/// obeyed.
pub fn promise_nothing_obeyed(manager: &mut FtManager, processes: Range<u32>, at: u64) {
    for process in processes {
        let nothing_obeyed = promise(Viewstamp::ZERO);
        deliver(manager, NodeId(process), 1, nothing_obeyed, at);
    }
}

/// A primary's heartbeat, naming the backup incarnation it replicates to.
pub fn heartbeat(backup: Option<Incarnation>) -> Message {
    Message::Heartbeat { backup }
}

/// The `NewView` the first incarnation of a manager sends.
pub fn new_view() -> Message {
    Message::NewView { incarnation: FIRST }
}

pub fn snapshot_request(incarnation: Incarnation) -> Message {
    Message::SnapshotRequest { incarnation }
}

pub fn replicate_ack(incarnation: Incarnation, applied_index: u64) -> Message {
    Message::ReplicateAck {
        incarnation,
        applied_index,
    }
}

/// Delivers `message` from `from` in `view`, then lets the manager go idle.
pub fn deliver(
    manager: &mut FtManager,
    from: NodeId,
    view: u64,
    message: Message,
    now_ticks: u64,
) -> Sent {
    let mut out = Outbox::new();
    let envelope = Envelope {
        from,
        to: manager.id(),
        view: View(view),
        message,
    };
    manager.handle_message(envelope, now_ticks, &mut out);
    manager.handle_idle(now_ticks, &mut out);
    drain(out)
}

pub fn tick(manager: &mut FtManager, now_ticks: u64) -> Sent {
    let mut out = Outbox::new();
    manager.handle_due_timers(now_ticks, &mut out);
    drain(out)
}

fn drain(out: Outbox) -> Sent {
    let sent = out
        .messages
        .into_iter()
        .map(|envelope| (envelope.to, envelope.view, envelope.message))
        .collect();
    (sent, out.events)
}

/// `backup`, whose primary was last heard at tick 0, takes over once the primary is
/// silent: it fences view 1 and every process promises, reporting nothing obeyed, at
/// `view_1_established_at()`.
pub fn take_over_view_1(backup: &mut FtManager) {
    tick(backup, silent_at());
    promise_nothing_obeyed(backup, 0..3, view_1_established_at());
    assert_eq!(backup.role(), RoleKind::Primary);
}

/// What the backup reports once it establishes view 1.
pub fn backup_promoted_to_view_1() -> Vec<NodeEvent> {
    vec![NodeEvent::Promoted {
        manager: BACKUP,
        view: View(1),
    }]
}

/// The backup after its primary went silent: it leads view 1 (see
/// `take_over_view_1`), holding nothing.
pub fn backup_leading_view_1() -> FtManager {
    let mut backup = manager(BACKUP);
    take_over_view_1(&mut backup);
    backup
}

/// The backup holding process 1's read, leading view 1 (see `take_over_view_1`),
/// once `successor` (a later life of the original primary) asked it for a
/// snapshot; returns it and the tick of the request. The successor's
/// acknowledgement of entry 1, delivered next, makes it hand view 2 over.
pub fn acting_primary_asked_by(successor: Incarnation) -> (FtManager, u64) {
    let mut acting = backup_holding_first_read();
    take_over_view_1(&mut acting);
    let asked_at = view_1_established_at() + 1;
    let ask = snapshot_request(successor);
    deliver(&mut acting, PRIMARY, 1, ask, asked_at);
    (acting, asked_at)
}

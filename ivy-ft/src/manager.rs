//! The replicated manager: its state, its roles, and the dispatch of every input.

use crate::backoff::Backoff;
use crate::fence::Fence;
use crate::leading::Leader;
use crate::options::FtOptions;
use ivy_basic::PageSerializer;
use ivy_core::{
    Incarnation, LogPosition, Message, NodeEvent, NodeId, Outbox, SystemConfig, View, Viewstamp,
};

/// What a manager is doing, without its details.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoleKind {
    /// Serving the processes in an established view.
    Primary,
    /// Establishing a view of its own: waiting for every process to promise it.
    Fencing,
    /// Following the primary's log.
    Backup,
    /// Without state (restarted after a crash): waiting for a snapshot. Never takes
    /// over.
    Recovering,
}

/// The state a manager holds in full: the serializer, the last log entry it reflects,
/// and the view whose primary's log it follows.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Replica {
    pub(crate) serializer: PageSerializer,
    /// The viewstamp of the last entry applied: what fencing compares.
    pub(crate) last: Viewstamp,
    /// This replica's log is a prefix of the log of the primary of this view (it
    /// installed that primary's snapshot, or leads the view): it may follow that
    /// primary's replication, and only that.
    pub(crate) log_view: View,
    /// The incarnation of `log_view`'s primary whose log this one is a prefix of.
    pub(crate) log_leader: Incarnation,
}

impl Replica {
    /// How far this log provably reaches: the view (and incarnation) whose
    /// primary's log it is a prefix of, and its last index. What fences compare with
    /// the positions processes obeyed (see [`LogPosition::covers`]).
    pub(crate) fn reach(&self) -> LogPosition {
        let stamp = Viewstamp {
            view: self.log_view,
            index: self.last.index,
        };
        LogPosition {
            stamp,
            leader: self.log_leader,
        }
    }
}

/// A manager's role, owning what the role needs: the state every role but
/// `Recovering` holds, and what a leading manager keeps besides. Changed only by the
/// transitions below (`begin_fencing`, `become_primary`, `follow_with_own_state`,
/// `install`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Role {
    /// Blank (restarted after a crash): waiting for a snapshot. Never takes over.
    Recovering,
    /// Following the primary's log; behind it while the view followed is newer than
    /// the log held (until a snapshot arrives).
    Backup(Replica),
    /// Establishing a view of its own: waiting for every process to promise it.
    Fencing(Replica, Fence, Leader),
    /// Serving the processes in an established view.
    Primary(Replica, Leader),
}

/// One of the two replicated central managers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FtManager {
    pub(crate) id: NodeId,
    pub(crate) peer: NodeId,
    /// The manager that leads even views (the original primary).
    pub(crate) home: NodeId,
    /// This life of the manager; a restart is a new incarnation.
    pub(crate) incarnation: Incarnation,
    pub(crate) processes: u32,
    pub(crate) options: FtOptions,
    /// The newest view this manager knows of.
    pub(crate) view: View,
    pub(crate) role: Role,
    /// The newest viewstamp a process reported obeying: a manager whose log ends
    /// before it knows it is behind and never fences until it has caught up.
    pub(crate) known_acted: LogPosition,
    /// The view whose primary replicates to this incarnation (it said so in a
    /// heartbeat, a replication or a snapshot): a backup is settled only then.
    pub(crate) linked_in: Option<View>,
    /// When the peer was last heard from in its current role.
    pub(crate) last_peer_ticks: u64,
    /// When a snapshot was last asked for, while blank or behind.
    pub(crate) snapshot_requested_at_ticks: Option<u64>,
    /// When the next attempt to take over may start, after failed ones.
    pub(crate) backoff: Backoff,
}

impl FtManager {
    /// Manager `id` (the primary `config.manager()` or the backup
    /// `config.backup_manager()`) at the start of a run: both hold the initial state,
    /// the primary leads view 0 with the other as its backup. Both are incarnation 0.
    pub fn new(config: &SystemConfig, id: NodeId, options: FtOptions) -> FtManager {
        let mut manager = FtManager::restarted(config, id, options, Incarnation(0));
        let replica = Replica {
            serializer: PageSerializer::new(config),
            last: Viewstamp::ZERO,
            log_view: View(0),
            log_leader: Incarnation(0),
        };
        manager.role = if id == manager.home {
            Role::Primary(replica, Leader::established(Some(Incarnation(0))))
        } else {
            manager.linked_in = Some(View(0));
            Role::Backup(replica)
        };
        manager
    }

    /// Manager `id` restarted after a crash, as `incarnation` (the driver gives each
    /// restart of a manager an incarnation larger than every earlier one): it knows
    /// nothing, and asks its peer for a snapshot.
    pub fn restarted(
        config: &SystemConfig,
        id: NodeId,
        options: FtOptions,
        incarnation: Incarnation,
    ) -> FtManager {
        let (home, other) = (config.manager(), config.backup_manager());
        assert!(id == home || id == other, "{id} is not a manager id");
        let peer = if id == home { other } else { home };
        FtManager::blank(id, peer, home, config.processes, options, incarnation)
    }

    pub(crate) fn blank(
        id: NodeId,
        peer: NodeId,
        home: NodeId,
        processes: u32,
        options: FtOptions,
        incarnation: Incarnation,
    ) -> FtManager {
        FtManager {
            id,
            peer,
            home,
            incarnation,
            processes,
            options,
            view: View(0),
            role: Role::Recovering,
            known_acted: LogPosition::ZERO,
            linked_in: None,
            last_peer_ticks: 0,
            snapshot_requested_at_ticks: None,
            backoff: Backoff::new(id, incarnation),
        }
    }

    /// What this manager is doing.
    pub fn role(&self) -> RoleKind {
        match &self.role {
            Role::Recovering => RoleKind::Recovering,
            Role::Backup(_) => RoleKind::Backup,
            Role::Primary(..) => RoleKind::Primary,
            Role::Fencing(..) => RoleKind::Fencing,
        }
    }

    /// The newest view this manager knows of.
    pub fn view(&self) -> View {
        self.view
    }

    /// This life of the manager.
    pub fn incarnation(&self) -> Incarnation {
        self.incarnation
    }

    /// The view whose primary's log this manager's state is a prefix of (the view it
    /// leads, or whose snapshot it installed), or `None` when it has no state.
    pub fn log_view(&self) -> Option<View> {
        self.replica().map(|replica| replica.log_view)
    }

    /// How far this manager's log provably reaches: the view (and incarnation)
    /// whose primary's log it is a prefix of, and its last index; `None` when blank.
    /// A manager may take over only if its reach covers every position a process
    /// obeyed.
    pub fn reach(&self) -> Option<LogPosition> {
        self.replica().map(Replica::reach)
    }

    /// The per-page state, unless blank.
    pub fn serializer(&self) -> Option<&PageSerializer> {
        self.replica().map(|replica| &replica.serializer)
    }

    /// Whether this manager is the primary of an established view with nothing left
    /// to do: no page held, and (with a backup) every entry acknowledged.
    pub fn is_settled_primary(&self) -> bool {
        let Role::Primary(replica, leader) = &self.role else {
            return false;
        };
        replica.serializer.held_pages() == 0 && leader.is_fully_acked(replica.last.index)
    }

    /// The state this manager holds, unless blank.
    pub(crate) fn replica(&self) -> Option<&Replica> {
        match &self.role {
            Role::Recovering => None,
            Role::Backup(replica) | Role::Fencing(replica, ..) | Role::Primary(replica, _) => {
                Some(replica)
            }
        }
    }

    pub(crate) fn replica_mut(&mut self) -> Option<&mut Replica> {
        match &mut self.role {
            Role::Recovering => None,
            Role::Backup(replica) | Role::Fencing(replica, ..) | Role::Primary(replica, _) => {
                Some(replica)
            }
        }
    }

    /// Whether this manager leads (fencing or primary).
    pub(crate) fn is_leading(&self) -> bool {
        matches!(self.role, Role::Fencing(..) | Role::Primary(..))
    }

    /// Transition: begin establishing a view with the state held, as `leader`; a
    /// blank manager stays blank (it has nothing to lead with).
    pub(crate) fn begin_fencing(&mut self, fence: Fence, leader: Leader) {
        self.role = match std::mem::replace(&mut self.role, Role::Recovering) {
            Role::Recovering => Role::Recovering,
            Role::Backup(replica) | Role::Fencing(replica, ..) | Role::Primary(replica, _) => {
                Role::Fencing(replica, fence, leader)
            }
        };
    }

    /// Transition: every process promised the view being established; serve in it.
    /// Returns the fence (what waited for the view), or `None` when not fencing.
    pub(crate) fn become_primary(&mut self) -> Option<Fence> {
        match std::mem::replace(&mut self.role, Role::Recovering) {
            Role::Fencing(replica, fence, leader) => {
                self.role = Role::Primary(replica, leader);
                Some(fence)
            }
            other => {
                self.role = other;
                None
            }
        }
    }

    /// Transition: stop leading and follow, keeping the state held.
    pub(crate) fn follow_with_own_state(&mut self) {
        self.role = match std::mem::replace(&mut self.role, Role::Recovering) {
            Role::Fencing(replica, ..) | Role::Primary(replica, _) => Role::Backup(replica),
            other => other,
        };
    }

    /// Transition: follow with `replica`, installed from a snapshot.
    pub(crate) fn install(&mut self, replica: Replica) {
        self.role = Role::Backup(replica);
    }

    /// The primary of `view`: the original primary leads even views.
    pub(crate) fn primary_of(&self, view: View) -> NodeId {
        if view.0 % 2 == 0 {
            self.home
        } else if self.id == self.home {
            self.peer
        } else {
            self.id
        }
    }

    /// The first view after `after` that this manager leads.
    pub(crate) fn next_own_view(&self, after: View) -> View {
        let next = View(after.0 + 1);
        if self.primary_of(next) == self.id {
            next
        } else {
            View(after.0 + 2)
        }
    }

    pub(crate) fn send_to_peer(&self, message: Message, out: &mut Outbox) {
        out.send(self.id, self.peer, self.view, message);
    }

    /// A view newer than ours exists: another manager is establishing or leads it, so
    /// follow it (see [`FtManager::stand_down`]).
    pub(crate) fn adopt_newer_view(&mut self, view: View, now_ticks: u64, out: &mut Outbox) {
        if view > self.view {
            self.view = view;
            self.stand_down(now_ticks, out);
        }
    }

    /// Stops acting and follows, keeping our state: it may still be the most complete
    /// one if the other manager fails.
    pub(crate) fn stand_down(&mut self, now_ticks: u64, out: &mut Outbox) {
        if self.is_leading() {
            self.follow_with_own_state();
            self.last_peer_ticks = now_ticks;
        }
        out.events.push(NodeEvent::ViewChanged {
            manager: self.id,
            view: self.view,
        });
    }
}

//! The replicated manager: its state, its roles, and the dispatch of every input.

use crate::leader::Leader;
use crate::options::FtOptions;
use ivy_basic::PageSerializer;
use ivy_core::{
    ActiveFault, Directory, DirectoryView, Envelope, LogIndex, Message, Node, NodeEvent, NodeId,
    Outbox, PageId, SystemConfig, View,
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
/// and the newest view whose every command it reflects.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Replica {
    pub(crate) serializer: PageSerializer,
    pub(crate) log_index: LogIndex,
    /// The view `e` of the design note: every command any primary sent in a view up to
    /// this one follows from state this replica has (or from a transaction it holds).
    pub(crate) held_view: View,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Role {
    /// Following the primary; without state when blank, and behind it while its view
    /// is newer than the state held (until a snapshot arrives).
    Backup,
    Leading(Leader),
}

/// One of the two replicated central managers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FtManager {
    pub(crate) id: NodeId,
    pub(crate) peer: NodeId,
    /// The manager that leads even views (the original primary).
    pub(crate) home: NodeId,
    pub(crate) processes: u32,
    pub(crate) options: FtOptions,
    /// The newest view this manager knows of.
    pub(crate) view: View,
    pub(crate) role: Role,
    /// `None` when blank (started after a crash, or found stale).
    pub(crate) replica: Option<Replica>,
    /// When the peer was last heard from in its current role.
    pub(crate) last_peer_ticks: u64,
    /// When a snapshot was last asked for, while blank or behind.
    pub(crate) snapshot_requested_at_ticks: Option<u64>,
}

impl FtManager {
    /// Manager `id` (the primary `config.manager()` or the backup
    /// `config.backup_manager()`) at the start of a run: both hold the initial state,
    /// the primary leads view 0 with the other as its backup.
    pub fn new(config: &SystemConfig, id: NodeId, options: FtOptions) -> FtManager {
        let mut manager = FtManager::blank(config, id, options);
        manager.replica = Some(Replica {
            serializer: PageSerializer::new(config),
            log_index: 0,
            held_view: View(0),
        });
        manager.role = if id == manager.home {
            Role::Leading(Leader::established(true))
        } else {
            Role::Backup
        };
        manager
    }

    /// Manager `id` after a crash: it knows nothing, and asks its peer for a snapshot.
    pub fn blank(config: &SystemConfig, id: NodeId, options: FtOptions) -> FtManager {
        let (home, other) = (config.manager(), config.backup_manager());
        assert!(id == home || id == other, "{id} is not a manager id");
        FtManager {
            id,
            peer: if id == home { other } else { home },
            home,
            processes: config.processes,
            options,
            view: View(0),
            role: Role::Backup,
            replica: None,
            last_peer_ticks: 0,
            snapshot_requested_at_ticks: None,
        }
    }

    /// What this manager is doing.
    pub fn role(&self) -> RoleKind {
        match &self.role {
            Role::Backup if self.replica.is_none() => RoleKind::Recovering,
            Role::Backup => RoleKind::Backup,
            Role::Leading(leader) if leader.is_established() => RoleKind::Primary,
            Role::Leading(_) => RoleKind::Fencing,
        }
    }

    /// The newest view this manager knows of.
    pub fn view(&self) -> View {
        self.view
    }

    /// The newest view whose commands this manager's state fully reflects, or `None`
    /// when it has no state. A crash of the other manager loses nothing while this is
    /// at least the other's.
    pub fn held_view(&self) -> Option<View> {
        self.replica.as_ref().map(|replica| replica.held_view)
    }

    /// The last log entry this manager's state reflects (0 when blank).
    pub fn log_index(&self) -> LogIndex {
        self.replica.as_ref().map_or(0, |replica| replica.log_index)
    }

    /// The per-page state, unless blank.
    pub fn serializer(&self) -> Option<&PageSerializer> {
        self.replica.as_ref().map(|replica| &replica.serializer)
    }

    /// Whether this manager is the primary of an established view with nothing left
    /// to do: no page held, and (with a backup) every entry acknowledged.
    pub fn is_settled_primary(&self) -> bool {
        let Role::Leading(leader) = &self.role else {
            return false;
        };
        let replica = self.replica.as_ref().expect("a leader has state");
        leader.is_established()
            && replica.serializer.held_pages() == 0
            && leader.is_fully_acked(replica.log_index)
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

    pub(crate) fn replica_mut(&mut self) -> &mut Replica {
        self.replica.as_mut().expect("this role holds state")
    }

    pub(crate) fn send_to_peer(&self, message: Message, out: &mut Outbox) {
        out.send(self.id, self.peer, self.view, message);
    }

    /// A process showed a view newer than ours: another manager is establishing or
    /// leads it, so stop acting and follow, keeping our state (it may still be the
    /// most complete one if that manager fails).
    pub(crate) fn adopt_newer_view(&mut self, view: View, now_ticks: u64, out: &mut Outbox) {
        self.view = self.view.max(view);
        if let Role::Leading(_) = self.role {
            self.role = Role::Backup;
            self.last_peer_ticks = now_ticks;
        }
        out.events.push(NodeEvent::ViewChanged {
            manager: self.id,
            view,
        });
    }
}

impl Node for FtManager {
    fn id(&self) -> NodeId {
        self.id
    }

    fn handle_message(&mut self, envelope: Envelope, now_ticks: u64, out: &mut Outbox) {
        if envelope.from == self.peer {
            self.handle_peer_message(envelope, now_ticks, out);
        } else if envelope.from.0 < self.processes {
            self.handle_process_message(envelope, now_ticks, out);
        }
    }

    fn handle_tick(&mut self, now_ticks: u64, out: &mut Outbox) {
        match self.role {
            Role::Leading(_) => self.leader_tick(now_ticks, out),
            _ => self.follower_tick(now_ticks, out),
        }
    }

    fn handle_idle(&mut self, now_ticks: u64, out: &mut Outbox) {
        self.send_batched(now_ticks, out);
    }
}

impl DirectoryView for FtManager {
    fn directory(&self) -> &Directory {
        self.serializer()
            .expect("a blank manager has no directory")
            .directory()
    }

    fn active_fault(&self, page: PageId) -> Option<ActiveFault> {
        self.serializer()?.active_fault(page)
    }
}

impl ivy_core::sim::SimManager for FtManager {
    fn authority(&self) -> Option<(View, bool)> {
        let held_view = self.held_view()?;
        Some((held_view, self.role() == RoleKind::Primary))
    }

    fn crashed(&self) -> FtManager {
        FtManager {
            view: View(0),
            role: Role::Backup,
            replica: None,
            last_peer_ticks: 0,
            snapshot_requested_at_ticks: None,
            ..self.clone()
        }
    }

    fn settled_view(&self) -> Option<View> {
        let settled = match self.role() {
            RoleKind::Primary => self.is_settled_primary(),
            RoleKind::Backup => self.held_view() == Some(self.view),
            RoleKind::Fencing | RoleKind::Recovering => false,
        };
        settled.then_some(self.view)
    }
}

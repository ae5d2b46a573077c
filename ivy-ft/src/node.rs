//! The replicated manager as drivers see it: a [`Node`] whose timers are
//! [`FtTimer`]s, and a [`ManagerNode`] they can crash, rank, check (its state, when
//! it holds any) and wait on.

use crate::manager::{FtManager, Role, RoleKind};
use crate::timers::FtTimer;
use ivy_core::{
    Deadline, DirectoryView, Envelope, Incarnation, LogPosition, ManagerNode, Node, NodeId, Outbox,
    View,
};

impl Node for FtManager {
    type Timer = FtTimer;

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

    fn next_deadline(&self) -> Option<Deadline<FtTimer>> {
        self.next_timer()
    }

    fn handle_timeout(&mut self, timer: FtTimer, now_ticks: u64, out: &mut Outbox) {
        self.on_timer(timer, now_ticks, out);
    }

    fn handle_idle(&mut self, now_ticks: u64, out: &mut Outbox) {
        self.send_batched(now_ticks, out);
    }
}

impl ManagerNode for FtManager {
    fn state(&self) -> Option<&dyn DirectoryView> {
        self.serializer()
            .map(|serializer| serializer as &dyn DirectoryView)
    }

    fn authority(&self) -> Option<(View, bool)> {
        let log_view = self.log_view()?;
        Some((log_view, self.role() == RoleKind::Primary))
    }

    fn crashed(&self) -> FtManager {
        let incarnation = Incarnation(self.incarnation.0 + 1);
        let (id, peer, home) = (self.id, self.peer, self.home);
        FtManager::blank(id, peer, home, self.processes, self.options, incarnation)
    }

    fn settled_view(&self) -> Option<View> {
        let settled = match self.role() {
            RoleKind::Primary => self.is_settled_primary(),
            RoleKind::Backup => {
                self.log_view() == Some(self.view) && self.linked_in == Some(self.view)
            }
            RoleKind::Fencing | RoleKind::Recovering => false,
        };
        settled.then_some(self.view)
    }

    fn reach(&self) -> Option<LogPosition> {
        FtManager::reach(self)
    }

    fn phase(&self) -> &'static str {
        match &self.role {
            Role::Recovering => "blank",
            Role::Backup(replica) if replica.log_view < self.view => "behind",
            Role::Backup(_) => "backup",
            Role::Fencing(_, _, leader) => match &leader.link {
                Some(_) => "taking back",
                None => "fencing",
            },
            Role::Primary(_, leader) => match &leader.link {
                None => "primary alone",
                Some(link) if link.acked_index < link.base_index => "primary sending snapshot",
                Some(link) if !link.unacked.is_empty() => "primary awaiting ack",
                Some(_) => "primary in sync",
            },
        }
    }
}

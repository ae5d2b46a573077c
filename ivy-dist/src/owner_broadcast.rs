//! The dynamic manager's periodic broadcast of ownership: after every M faults on a
//! page that end at its owner (reads it serves, and its own writes), the owner tells
//! every other process it owns the page, and each points its probable owner there,
//! so that the next faults go straight to the owner for N - 1 messages per M faults.
//! The count starts anew with each owner.

use crate::process::OwnerProcess;
use ivy_core::{Message, NodeId, Outbox, PageEntry, PageId, PageVersion, View};

impl OwnerProcess {
    /// Counts a fault on `page` that ended at this process, its owner, and tells
    /// every process it owns the page when that makes M.
    pub(crate) fn count_fault_ended_here(&mut self, page: PageId, out: &mut Outbox) {
        let Some(every) = self.owner_broadcast_every else {
            return;
        };
        let state = self.state_mut(page);
        state.faults_since_broadcast += 1;
        if state.faults_since_broadcast < every {
            return;
        }
        state.faults_since_broadcast = 0;
        let version = self
            .pages
            .get(page)
            .map_or(PageVersion(0), PageEntry::version);
        for other in (0..self.processes).map(NodeId).filter(|&id| id != self.id) {
            out.send(self.id, other, View(0), Message::OwnerIs { page, version });
        }
    }

    /// An owner's broadcast: the hint points at it, unless this process owns the page,
    /// is about to, or knows of a later version than the broadcast's.
    pub(crate) fn learn_owner(&mut self, page: PageId, version: PageVersion, from: NodeId) {
        let entry = self.pages.get(page);
        let knows_later = entry.is_some_and(|entry| entry.is_owner() || entry.version() > version);
        if !knows_later && !self.is_writing(page) {
            self.state_mut(page).prob_owner = from;
        }
    }
}

//! The dynamic manager's distributed copy sets: a holder of a read copy passes an
//! invalidation on to the copies it gave from its own, and confirms to whoever sent
//! it only once they all have, so the writer's confirmations cover the whole tree.

use crate::process::{Invalidation, OwnerProcess};
use crate::Algorithm;
use ivy_core::{Message, NodeId, Outbox, PageId, RequestId, View, Viewstamp};

impl OwnerProcess {
    /// Having dropped its copy for `invalidation`, passes it on to the processes
    /// this one gave copies to; returns whether its confirmation waits for theirs.
    pub(crate) fn relay_invalidation(
        &mut self,
        invalidation: Invalidation,
        out: &mut Outbox,
    ) -> bool {
        if self.algorithm != Algorithm::DynamicCopyTree {
            return false;
        }
        let id = self.id;
        let state = self.state_mut(invalidation.page);
        if state.copy_set.is_empty() {
            return false;
        }
        for child in state.copy_set.iter() {
            let message = Message::Invalidate {
                page: invalidation.page,
                request: invalidation.request,
                version: invalidation.version,
                stamp: Viewstamp::ZERO,
            };
            out.send(id, child, View(0), message);
        }
        debug_assert!(state.relaying.is_none(), "{id}: two invalidations relayed");
        state.relaying = Some(invalidation);
        true
    }

    /// A process this one gave a copy to confirms the invalidation passed on to it:
    /// once all have, the confirmation goes up the tree.
    pub(crate) fn confirm_relayed(
        &mut self,
        page: PageId,
        request: RequestId,
        from: NodeId,
        out: &mut Outbox,
    ) {
        let id = self.id;
        let state = self.state_mut(page);
        let Some(relaying) = state.relaying.filter(|r| r.request == request) else {
            return; // not an invalidation this process passed on
        };
        state.copy_set.remove(from);
        if !state.copy_set.is_empty() {
            return;
        }
        state.relaying = None;
        let message = Message::InvalidateConfirmation {
            page,
            request,
            version: relaying.version,
        };
        out.send(id, relaying.from, View(0), message);
    }
}

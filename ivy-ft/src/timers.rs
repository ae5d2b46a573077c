//! The replicated manager's named timers: when it next needs to be woken, and what
//! it does then. Each deadline follows from the manager's state (when it last heard
//! its peer, last sent to it, last asked the processes, last drove a transaction), so
//! there is nothing to keep in step by hand: a timer is set exactly while its role
//! and state call for it, and firing it moves its deadline past now or stops it.

use crate::fence::Fence;
use crate::leading::Leader;
use crate::manager::{FtManager, Role};
use ivy_core::{earliest, Deadline, Message, Outbox, PageId};

/// What a replicated manager may be waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FtTimer {
    /// A fencing manager asks the processes that have not promised, again.
    FenceResend,
    /// An established primary tells its backup it is alive, resending what is not
    /// acknowledged, or (without a backup) invites the peer to rejoin.
    Heartbeat,
    /// The backup has been silent for the failover timeout: go on alone.
    BackupSilence,
    /// A transaction was driven a re-drive interval ago and is still open: a message
    /// of it may be lost, so send what it waits for again.
    Redrive,
    /// A blank or behind manager's snapshot request went unanswered: ask again.
    SnapshotRetry,
    /// The primary has been silent for the failover timeout and any back-off after
    /// failed attempts has ended: take over.
    Takeover,
}

fn at(at_ticks: u64, timer: FtTimer) -> Option<Deadline<FtTimer>> {
    Some(Deadline { at_ticks, timer })
}

impl FtManager {
    /// The earliest of the timers this manager's role and state set.
    pub(crate) fn next_timer(&self) -> Option<Deadline<FtTimer>> {
        let heartbeat_ticks = self.options.heartbeat_ticks;
        let silence_at_ticks = self.peer_silent_at_ticks();
        match &self.role {
            Role::Fencing(_, fence, leader) => self.leading_timer(Some(fence), leader),
            Role::Primary(_, leader) => self.leading_timer(None, leader),
            Role::Recovering | Role::Backup(_) => {
                let requested = self.snapshot_requested_at_ticks;
                let retry = self
                    .is_behind()
                    .then(|| {
                        at(
                            requested.map_or(0, |t| t + heartbeat_ticks),
                            FtTimer::SnapshotRetry,
                        )
                    })
                    .flatten();
                let takeover = self.holds_what_was_acted_on().then(|| {
                    let allowed_at_ticks = self.backoff.not_before_ticks();
                    at(silence_at_ticks.max(allowed_at_ticks), FtTimer::Takeover)
                });
                earliest(retry, takeover.flatten())
            }
        }
    }

    /// The earliest timer of a leading manager: fencing (`fence` is `Some`) it only
    /// resends `NewView` and watches its backup; established, it also heartbeats and
    /// re-drives.
    fn leading_timer(&self, fence: Option<&Fence>, leader: &Leader) -> Option<Deadline<FtTimer>> {
        let heartbeat_ticks = self.options.heartbeat_ticks;
        let silence_at_ticks = self.peer_silent_at_ticks();
        let resend =
            fence.and_then(|f| at(f.sent_at_ticks + heartbeat_ticks, FtTimer::FenceResend));
        let established = fence.is_none();
        let link = leader.link.as_ref();
        let silence = link.and_then(|_| at(silence_at_ticks, FtTimer::BackupSilence));
        let heartbeat_from = link.map_or(leader.invited_at_ticks, |l| l.sent_at_ticks);
        let heartbeat = established
            .then(|| at(heartbeat_from + heartbeat_ticks, FtTimer::Heartbeat))
            .flatten();
        let oldest_drive = established
            .then(|| leader.driven_at_ticks.values().min())
            .flatten();
        let redrive_ticks = self.options.redrive_ticks;
        let redrive = oldest_drive.and_then(|t| at(t + redrive_ticks, FtTimer::Redrive));
        earliest(earliest(resend, silence), earliest(heartbeat, redrive))
    }

    /// Acts on `timer`, due at `now_ticks`.
    pub(crate) fn on_timer(&mut self, timer: FtTimer, now_ticks: u64, out: &mut Outbox) {
        let (id, peer, view) = (self.id, self.peer, self.view);
        let (processes, incarnation) = (self.processes, self.incarnation);
        match timer {
            FtTimer::FenceResend => {
                if let Role::Fencing(_, fence, _) = &mut self.role {
                    fence.sent_at_ticks = now_ticks;
                    fence.ask_for_promises(id, incarnation, processes, out);
                }
            }
            FtTimer::BackupSilence => {
                let established = matches!(self.role, Role::Primary(..));
                let Some(leader) = self.leader_mut() else {
                    return;
                };
                leader.link = None;
                if established {
                    // The backup is gone: go on alone, in a view of our own.
                    let next = self.next_own_view(view);
                    self.start_fence(next, None, now_ticks, out);
                }
            }
            FtTimer::Heartbeat if self.has_backup_link() && self.peer_is_silent(now_ticks) => {
                // Overdue (time jumped past it) to a backup that has gone silent since:
                // its silence is what counts now.
                self.on_timer(FtTimer::BackupSilence, now_ticks, out);
            }
            FtTimer::Heartbeat => {
                let Some(leader) = self.leader_mut() else {
                    return;
                };
                match &mut leader.link {
                    Some(link) => out.send(id, peer, view, link.resend(now_ticks)),
                    None => {
                        // Only an established primary speaks for its view: a heartbeat
                        // from a fence that may yet fail would make the peer stand
                        // down for nothing (the deadline is set only once established).
                        leader.invited_at_ticks = now_ticks;
                        out.send(id, peer, view, Message::Heartbeat { backup: None });
                    }
                }
            }
            FtTimer::Redrive => self.redrive_stalled(now_ticks, out),
            FtTimer::SnapshotRetry => self.request_snapshot_if_due(now_ticks, out),
            FtTimer::Takeover => {
                if self.may_take_over(now_ticks) {
                    let view = self.next_own_view(self.view);
                    self.start_fence(view, None, now_ticks, out);
                }
            }
        }
    }

    fn has_backup_link(&self) -> bool {
        self.leader().is_some_and(|leader| leader.link.is_some())
    }

    /// The first tick at which the peer counts as silent: the failover timeout has
    /// passed since it was last heard.
    fn peer_silent_at_ticks(&self) -> u64 {
        self.last_peer_ticks + self.options.silence_ticks()
    }

    /// Whether the peer has been silent for longer than the failover timeout.
    fn peer_is_silent(&self, now_ticks: u64) -> bool {
        now_ticks >= self.peer_silent_at_ticks()
    }

    /// Drives again every transaction driven a re-drive interval ago. One that cannot
    /// be driven now (held back until the backup has its entry) waits another
    /// interval.
    fn redrive_stalled(&mut self, now_ticks: u64, out: &mut Outbox) {
        let redrive_ticks = self.options.redrive_ticks;
        let Some(leader) = self.leader_mut() else {
            return;
        };
        let is_stalled = |driven_at: u64| driven_at + redrive_ticks <= now_ticks;
        let stalled: Vec<PageId> = leader
            .driven_at_ticks
            .iter()
            .filter(|&(_, &driven_at)| is_stalled(driven_at))
            .map(|(&page, _)| page)
            .collect();
        for &page in &stalled {
            self.drive(page, now_ticks, out);
        }
        if let Some(leader) = self.leader_mut() {
            for page in stalled {
                if let Some(driven_at) = leader.driven_at_ticks.get_mut(&page) {
                    *driven_at = now_ticks;
                }
            }
        }
    }
}

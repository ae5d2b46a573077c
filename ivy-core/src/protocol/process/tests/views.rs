//! Views, fencing and retries: what the fault-tolerant managers rely on.

use super::*;

#[test]
fn messages_from_an_older_manager_view_are_ignored() {
    let mut owner = process(0);
    let mut out = Outbox::new();
    let newer = Envelope {
        view: View(2),
        ..envelope(MANAGER, NodeId(0), read_forward(1, request(2, 1), 1))
    };
    owner.handle_message(newer, 0, &mut out);
    assert_eq!(owner.view(), View(2));
    let before = owner.clone();
    let older = envelope(MANAGER, NodeId(0), write_forward(0, request(1, 1), 1));
    out.clear();
    owner.handle_message(older, 0, &mut out);
    assert!(out.is_empty());
    assert_eq!(owner, before);
}

#[test]
fn an_unanswered_fault_is_resent_to_the_other_manager_with_the_same_id() {
    let config = config();
    let options = ProcessOptions {
        managers: vec![NodeId(3), NodeId(4)],
        routing: Routing::ByView,
        retry_timeout_ticks: Some(10),
        retain_handoff: true,
    };
    let mut reader = Process::new(NodeId(1), &config, options);
    let mut out = Outbox::new();
    assert_eq!(reader.next_deadline(), None, "idle: no timer");
    reader.start(Operation::read(0), 0, &mut out).expect("idle");
    out.clear();
    let retry = Deadline {
        at_ticks: 10,
        timer: ProcessTimer::FaultRetry,
    };
    assert_eq!(reader.next_deadline(), Some(retry));
    reader.handle_due_timers(9, &mut out);
    assert!(out.is_empty(), "not yet timed out");
    reader.handle_due_timers(10, &mut out);
    let resent = Message::ReadRequest {
        page: PageId(0),
        request: request(1, 1),
    };
    assert_eq!(sent(&out), vec![(NodeId(4), resent.clone())]);
    assert_eq!(
        reader.next_deadline().map(|d| d.at_ticks),
        Some(20),
        "set again"
    );
    out.clear();
    reader.handle_due_timers(20, &mut out);
    assert_eq!(sent(&out), vec![(NodeId(3), resent)]);
}

#[test]
fn a_process_without_a_retry_timeout_never_resends() {
    let mut reader = process(1);
    start(&mut reader, Operation::read(0));
    assert_eq!(reader.next_deadline(), None);
    let mut out = Outbox::new();
    reader.handle_due_timers(1_000_000, &mut out);
    assert!(out.is_empty());
}

fn replicated_process(id: u32) -> Process {
    let config = config();
    Process::new(NodeId(id), &config, ProcessOptions::replicated(&config, 60))
}

fn new_view(process: &mut Process, from: u32, view: u64) -> Outbox {
    new_view_of(process, from, view, FIRST_LIFE)
}

/// `NewView` from incarnation `incarnation` of manager `from`.
fn new_view_of(process: &mut Process, from: u32, view: u64, incarnation: Incarnation) -> Outbox {
    let mut out = Outbox::new();
    let new_view = Message::NewView { incarnation };
    let envelope = Envelope {
        view: View(view),
        ..envelope(NodeId(from), process.id(), new_view)
    };
    process.handle_message(envelope, 5, &mut out);
    out
}

const FIRST_LIFE: Incarnation = Incarnation(0);

/// A promise to `incarnation`, reporting `accepted` obeyed in a view led by the first
/// life of its primary.
fn promise(accepted: Viewstamp, incarnation: Incarnation) -> Message {
    let accepted = LogPosition {
        stamp: accepted,
        leader: FIRST_LIFE,
    };
    Message::ViewPromise {
        accepted,
        incarnation,
    }
}

#[test]
fn a_newer_view_is_promised_and_a_pending_fault_goes_to_its_primary() {
    let mut reader = replicated_process(1);
    start(&mut reader, Operation::read(0));
    let out = new_view(&mut reader, 4, 1);
    let envelopes: Vec<_> = out
        .messages
        .iter()
        .map(|e| (e.to, e.view, e.message.clone()))
        .collect();
    let resent = Message::ReadRequest {
        page: PageId(0),
        request: request(1, 1),
    };
    let promise = promise(Viewstamp::ZERO, FIRST_LIFE);
    assert_eq!(
        envelopes,
        vec![(NodeId(4), View(1), resent), (NodeId(4), View(1), promise)]
    );
    assert_eq!(reader.view(), View(1));
    assert_eq!(reader.pending().map(|p| p.sent_at_ticks), Some(5));
}

#[test]
fn a_stale_new_view_is_answered_with_the_newer_promise() {
    let mut process = replicated_process(2);
    new_view(&mut process, 4, 3);
    let before = process.clone();
    let out = new_view(&mut process, 3, 2);
    assert_eq!(out.messages.len(), 1);
    let answer = &out.messages[0];
    assert_eq!((answer.to, answer.view), (NodeId(3), View(3)));
    assert_eq!(answer.message, promise(Viewstamp::ZERO, FIRST_LIFE));
    assert_eq!(process, before);
}

#[test]
fn a_view_promised_to_one_incarnation_is_refused_to_another() {
    // An earlier life of manager 3 took view 2 (and may have acted in it); its
    // restarted self asks for view 2 again and is told who has it.
    let mut process = replicated_process(1);
    new_view_of(&mut process, 3, 2, Incarnation(1));
    let before = process.clone();
    let out = new_view_of(&mut process, 3, 2, Incarnation(2));
    let answer = &out.messages[0];
    assert_eq!((answer.to, answer.view), (NodeId(3), View(2)));
    assert_eq!(answer.message, promise(Viewstamp::ZERO, Incarnation(1)));
    assert_eq!(process, before, "nothing changes");
    // The same incarnation asking again (its NewView was resent) is answered alike.
    let out = new_view_of(&mut process, 3, 2, Incarnation(1));
    assert_eq!(
        out.messages[0].message,
        promise(Viewstamp::ZERO, Incarnation(1))
    );
}

#[test]
fn the_promise_reports_the_newest_viewstamp_whose_command_was_obeyed() {
    let mut owner = replicated_process(0);
    new_view(&mut owner, 4, 1);
    let mut out = Outbox::new();
    let at = Viewstamp {
        view: View(1),
        index: 3,
    };
    let command = Envelope {
        view: View(1),
        ..envelope(
            NodeId(4),
            NodeId(0),
            stamped(read_forward(0, request(1, 1), 1), at),
        )
    };
    owner.handle_message(command, 0, &mut out);
    assert_eq!(owner.accepted().stamp, at);
    let out = new_view(&mut owner, 3, 2);
    assert_eq!(out.messages[0].message, promise(at, FIRST_LIFE));
    // Confirmations now go to the primary of view 2, node 3.
    assert_eq!(owner.view(), View(2));
}

#[test]
fn an_older_viewstamp_obeyed_later_does_not_lower_the_accepted_one() {
    // The primary of view 1 re-drives a transaction begun in view 0, after one it
    // began itself: the process still reports the newer entry.
    let mut holder = replicated_process(1);
    new_view(&mut holder, 4, 1);
    let newer = Viewstamp {
        view: View(1),
        index: 2,
    };
    let older = Viewstamp {
        view: View(0),
        index: 5,
    };
    for (command, at) in [
        (read_forward(1, request(2, 1), 1), newer),
        (invalidate(0, request(2, 2), 2), older),
    ] {
        let mut out = Outbox::new();
        let envelope = Envelope {
            view: View(1),
            ..envelope(NodeId(4), NodeId(1), stamped(command, at))
        };
        holder.handle_message(envelope, 0, &mut out);
    }
    assert_eq!(holder.accepted().stamp, newer);
    let out = new_view(&mut holder, 3, 2);
    assert_eq!(out.messages[0].message, promise(newer, FIRST_LIFE));
}

#[test]
fn a_page_entry_stays_small_for_systems_with_millions_of_pages() {
    // Every process keeps an entry for every page: 64 processes and a million pages
    // make 64 million entries.
    assert!(std::mem::size_of::<PageEntry>() <= 40);
    assert_eq!(
        std::mem::size_of::<Option<PageBuffer>>(),
        std::mem::size_of::<PageBuffer>()
    );
}

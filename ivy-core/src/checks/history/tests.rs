//! Hand-written histories, and the zone checker against a brute-force search.

use super::*;
use proptest::prelude::*;
use std::collections::HashSet;

fn entry(
    op: OperationKind,
    page: u32,
    value: u64,
    invoked_at: u64,
    completed_at: u64,
) -> HistoryEntry {
    HistoryEntry {
        process: NodeId(0),
        op,
        page: PageId(page),
        value,
        invoked_at,
        completed_at,
    }
}

/// A write on page 0.
fn write(value: u64, invoked_at: u64, completed_at: u64) -> HistoryEntry {
    entry(OperationKind::Write, 0, value, invoked_at, completed_at)
}

/// A read on page 0.
fn read(value: u64, invoked_at: u64, completed_at: u64) -> HistoryEntry {
    entry(OperationKind::Read, 0, value, invoked_at, completed_at)
}

/// Checks with both checkers, asserting that they agree.
fn check(entries: &[HistoryEntry]) -> Result<(), LinearizabilityViolation> {
    let result = check_linearizable(entries);
    assert_eq!(
        result.is_ok(),
        reference_is_linearizable(entries),
        "{entries:?}"
    );
    result
}

/// Wing & Gong's search: repeatedly linearize an operation no pending operation
/// precedes, backtracking on an illegal read. It covers all pages at once (so it does
/// not rely on locality) and remembers states (linearized set, page values) that
/// failed. Exponential: for small histories only.
fn reference_is_linearizable(entries: &[HistoryEntry]) -> bool {
    assert!(entries.len() <= 16, "too long for the search");
    let mut failed = HashSet::new();
    search(entries, 0, &mut BTreeMap::new(), &mut failed)
}

type SearchState = (u32, Vec<(PageId, u64)>);

fn search(
    entries: &[HistoryEntry],
    linearized: u32,
    values: &mut BTreeMap<PageId, u64>,
    failed: &mut HashSet<SearchState>,
) -> bool {
    if linearized.count_ones() as usize == entries.len() {
        return true;
    }
    let state = (linearized, values.iter().map(|(p, v)| (*p, *v)).collect());
    if failed.contains(&state) {
        return false;
    }
    let pending = |index: usize| linearized & (1 << index) == 0;
    for (index, next) in entries.iter().enumerate().filter(|(i, _)| pending(*i)) {
        let minimal = (0..entries.len()).all(|j| !pending(j) || !entries[j].precedes(next));
        let current = values.get(&next.page).copied().unwrap_or(0);
        if !minimal || (next.op == OperationKind::Read && next.value != current) {
            continue;
        }
        let after = match next.op {
            OperationKind::Write => next.value,
            OperationKind::Read => current,
        };
        values.insert(next.page, after);
        let found = search(entries, linearized | 1 << index, values, failed);
        values.insert(next.page, current);
        if found {
            return true;
        }
    }
    failed.insert(state);
    false
}

#[test]
fn sequential_history_is_linearizable() {
    check(&[write(1, 0, 1), read(1, 2, 3), write(2, 4, 5), read(2, 6, 7)]).unwrap();
}

#[test]
fn reads_of_initial_value_before_any_write_are_linearizable() {
    check(&[read(0, 0, 1), read(0, 2, 3), write(1, 4, 5), read(1, 6, 7)]).unwrap();
    check(&[]).unwrap();
}

#[test]
fn stale_read_after_completed_write_is_a_violation() {
    let (first, stale) = (write(1, 0, 1), read(0, 2, 3));
    let expected = LinearizabilityViolation::StaleInitialRead {
        read: stale,
        earlier: first,
    };
    assert_eq!(check(&[first, stale]), Err(expected));
    let (second, stale) = (write(2, 2, 3), read(1, 4, 5));
    let result = check(&[first, second, stale]);
    assert!(matches!(
        result,
        Err(LinearizabilityViolation::ConflictingOrder { .. })
    ));
}

#[test]
fn read_of_value_never_written_is_a_violation() {
    let bad = read(7, 2, 3);
    let expected = LinearizabilityViolation::UnwrittenValue { read: bad };
    assert_eq!(check(&[write(1, 0, 1), bad]), Err(expected));
}

#[test]
fn read_completing_before_its_write_is_invoked_is_a_violation() {
    let (early, late) = (read(5, 0, 1), write(5, 2, 3));
    let expected = LinearizabilityViolation::ReadBeforeWrite {
        read: early,
        write: late,
    };
    assert_eq!(check(&[early, late]), Err(expected));
}

#[test]
fn concurrent_read_may_see_old_or_new_value() {
    check(&[write(1, 0, 10), read(0, 2, 3)]).unwrap();
    check(&[write(1, 0, 10), read(1, 2, 3)]).unwrap();
    check(&[
        write(1, 0, 1),
        write(2, 2, 10),
        read(1, 3, 4),
        read(1, 5, 6),
    ])
    .unwrap();
}

#[test]
fn new_then_old_value_during_one_write_is_a_violation() {
    let (new, old) = (read(1, 1, 2), read(0, 3, 4));
    let expected = LinearizabilityViolation::StaleInitialRead {
        read: old,
        earlier: new,
    };
    assert_eq!(check(&[write(1, 0, 10), new, old]), Err(expected));

    let (first, second) = (write(1, 0, 1), write(2, 2, 10));
    let (new, old) = (read(2, 3, 4), read(1, 5, 6));
    let conflict = OrderConflict {
        a_done: first,
        b_started: new,
        b_done: new,
        a_started: old,
    };
    let expected = LinearizabilityViolation::ConflictingOrder(Box::new(conflict));
    assert_eq!(check(&[first, second, new, old]), Err(expected.clone()));
    assert_eq!(
        expected.to_string(),
        "page 0: values 1 and 2 must each come before the other: process 0 write 1 at \
         [0, 1] precedes process 0 read 2 at [3, 4], and process 0 read 2 at [3, 4] \
         precedes process 0 read 1 at [5, 6]"
    );
}

#[test]
fn independent_pages_do_not_interfere() {
    let other_page = entry(OperationKind::Read, 1, 0, 2, 3);
    check(&[write(1, 0, 1), other_page]).unwrap();
    let wrong_page = entry(OperationKind::Read, 1, 1, 2, 3);
    let expected = LinearizabilityViolation::UnwrittenValue { read: wrong_page };
    assert_eq!(check(&[write(1, 0, 1), wrong_page]), Err(expected));
}

#[test]
fn equal_timestamps_count_as_concurrent() {
    check(&[write(1, 0, 5), read(0, 5, 6)]).unwrap();
    assert!(check(&[write(1, 0, 5), read(0, 6, 7)]).is_err());
    check(&[read(5, 0, 2), write(5, 2, 3)]).unwrap();
    // Forward zones [2, 5] and [5, 8] touch but do not overlap.
    check(&[write(1, 0, 2), read(1, 5, 6), write(2, 3, 5), read(2, 8, 9)]).unwrap();
    assert!(check(&[write(1, 0, 2), read(1, 5, 6), write(2, 3, 4), read(2, 8, 9)]).is_err());
    // Backward zone [5, 6] ends where forward zone [2, 6] ends.
    check(&[write(1, 0, 2), read(1, 6, 7), write(2, 5, 6)]).unwrap();
}

#[test]
fn malformed_histories_are_reported() {
    let backwards = read(0, 3, 2);
    let expected = LinearizabilityViolation::InvalidInterval { entry: backwards };
    assert_eq!(check_linearizable(&[backwards]), Err(expected));
    let zero = write(0, 0, 1);
    let expected = LinearizabilityViolation::WriteOfZero { entry: zero };
    assert_eq!(check_linearizable(&[zero]), Err(expected));
    let (first, second) = (write(3, 0, 1), write(3, 2, 3));
    let expected = LinearizabilityViolation::DuplicateWrite { first, second };
    assert_eq!(check_linearizable(&[first, second]), Err(expected));
    let other_page = entry(OperationKind::Write, 1, 3, 2, 3);
    check_linearizable(&[first, other_page]).unwrap();
}

#[test]
fn violation_explains_itself_in_one_line() {
    let message = check(&[write(1, 0, 1), read(0, 2, 3)])
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "page 0: process 0 read 0 at [2, 3] returns the initial 0 after \
         process 0 write 1 at [0, 1] completed"
    );
}

/// Up to 10 operations on 1 or 2 pages with times in 0..12; writes store their index
/// plus one, reads return 0 or a value written to their page (perhaps later).
fn random_history() -> impl Strategy<Value = Vec<HistoryEntry>> {
    let operation = (
        0u32..2,
        any::<bool>(),
        0u64..8,
        0u64..5,
        any::<prop::sample::Index>(),
    );
    (1u32..=2, prop::collection::vec(operation, 1..=10)).prop_map(|(pages, operations)| {
        let page_of = |page: u32| page % pages;
        let mut readable = vec![vec![0]; pages as usize];
        for (index, operation) in operations.iter().enumerate().filter(|(_, o)| o.1) {
            readable[page_of(operation.0) as usize].push(index as u64 + 1);
        }
        let mut entries = Vec::new();
        for (index, &(page, is_write, invoked_at, width, choice)) in operations.iter().enumerate() {
            let readable = &readable[page_of(page) as usize];
            let (op, value) = match is_write {
                true => (OperationKind::Write, index as u64 + 1),
                false => (OperationKind::Read, readable[choice.index(readable.len())]),
            };
            entries.push(entry(
                op,
                page_of(page),
                value,
                invoked_at,
                invoked_at + width,
            ));
        }
        entries
    })
}

/// A sequential run of registers on 2 pages, each operation at a point in time (some
/// equal), widened to a random interval around that point and then shuffled:
/// linearizable by construction.
fn widened_sequential_history() -> impl Strategy<Value = Vec<HistoryEntry>> {
    let operation = (0u32..2, any::<bool>(), 0u64..3, 0u64..12, 0u64..12, 0u32..4);
    let history = prop::collection::vec(operation, 1..=12).prop_map(|operations| {
        let (mut values, mut point, mut next_value) = (BTreeMap::new(), 0u64, 1);
        let to_entry = |&(page, is_write, gap, before, after, process)| {
            point += gap;
            let page = PageId(page);
            let current = values.get(&page).copied().unwrap_or(0);
            let (op, value) = match is_write {
                true => (OperationKind::Write, next_value),
                false => (OperationKind::Read, current),
            };
            next_value += u64::from(is_write);
            values.insert(page, value);
            let (invoked_at, completed_at) = (point.saturating_sub(before), point + after);
            HistoryEntry {
                process: NodeId(process),
                op,
                page,
                value,
                invoked_at,
                completed_at,
            }
        };
        operations.iter().map(to_entry).collect::<Vec<_>>()
    });
    history.prop_shuffle()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn zone_checker_agrees_with_search(entries in random_history()) {
        let zones = check_linearizable(&entries);
        prop_assert_eq!(zones.is_ok(), reference_is_linearizable(&entries), "{:?}", zones);
    }

    #[test]
    fn widened_sequential_runs_are_linearizable(entries in widened_sequential_history()) {
        prop_assert_eq!(check_linearizable(&entries), Ok(()));
        prop_assert!(reference_is_linearizable(&entries));
    }
}

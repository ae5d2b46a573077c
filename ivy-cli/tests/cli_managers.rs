//! `ivy basic --manager ...`: each of Li & Hudak's manager algorithms runs from the
//! command line on the threaded and the actor runtime, passes the final checks
//! (coherence against where it keeps the pages' records, linearizability), and
//! shows in its readout what it keeps.

#[allow(dead_code)] // the helpers other tests use
mod common;

use common::{ivy, ivy_stdout as stdout_of};

/// `ivy basic --manager <manager>` on 4 processes, 6 pages and 300 requests, with
/// `--threads <threads>` and `extra`; its standard output, the run succeeding.
fn run_manager(manager: &str, threads: &str, extra: &[&str]) -> String {
    let size = ["--processes", "4", "--pages", "6", "--requests", "300"];
    let args = [
        &["basic", "--manager", manager, "--threads", threads][..],
        &size,
        extra,
    ]
    .concat();
    stdout_of(&args)
}

/// The final readout's table `title`, from its header line on.
fn final_table<'a>(stdout: &'a str, title: &str) -> &'a str {
    let after_trace = stdout.split("\nDone\n").nth(1);
    let after_trace = after_trace.expect("a trace ends in Done");
    let table = after_trace.split(&format!("{title}:\n")).nth(1);
    table.unwrap_or_else(|| panic!("no table {title}: {stdout}"))
}

/// The pages listed in the final readout's table `title`.
fn final_table_pages(stdout: &str, title: &str) -> Vec<u32> {
    let table = final_table(stdout, title);
    let rows = table.lines().skip(1); // the header
    let rows = rows.take_while(|line| !line.ends_with(':'));
    rows.map(|row| row.split_whitespace().next().expect("a page").parse())
        .collect::<Result<_, _>>()
        .expect("page numbers")
}

#[test]
fn the_fixed_manager_runs_verified_and_shows_each_share() {
    for threads in ["0", "2"] {
        let args = [
            "basic",
            "--manager",
            "fixed",
            "--processes",
            "4",
            "--pages",
            "8",
            "--requests",
            "300",
            "--threads",
            threads,
        ];
        let stdout = stdout_of(&args);
        assert!(!stdout.contains("\ncm:\n"), "no central manager: {stdout}");
        for share in 0..4 {
            let pages = final_table_pages(&stdout, &format!("cm_{share}"));
            assert_eq!(pages, [share, share + 4], "H(p) = p mod 4");
        }
        assert!(stdout.contains("300 requests"), "{stdout}");
    }
}

#[test]
fn the_block_mapping_gives_each_manager_neighbouring_pages() {
    let args = [
        "basic",
        "--manager",
        "fixed",
        "--mapping",
        "blocks",
        "--processes",
        "3",
        "--pages",
        "7",
        "--requests",
        "100",
    ];
    let stdout = stdout_of(&args);
    assert_eq!(final_table_pages(&stdout, "cm_0"), [0, 1, 2]);
    assert_eq!(final_table_pages(&stdout, "cm_1"), [3, 4, 5]);
    assert_eq!(final_table_pages(&stdout, "cm_2"), [6]);
}

#[test]
fn a_fixed_run_writes_json_readouts_per_share() {
    let args = [
        "basic",
        "--manager",
        "fixed",
        "--requests",
        "20",
        "--trace",
        "json",
    ];
    let stdout = stdout_of(&args);
    let readouts: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .filter(|line: &serde_json::Value| line["readout"] == "final")
        .collect();
    let titles: Vec<&str> = readouts
        .iter()
        .filter_map(|t| t["table"].as_str())
        .collect();
    assert_eq!(
        titles,
        [
            "cm_0",
            "cm_1",
            "cm_2",
            "process_0",
            "process_1",
            "process_2"
        ],
        "{stdout}"
    );
}

#[test]
fn an_unknown_manager_or_mapping_is_one_line_and_exit_2() {
    for args in [
        &["basic", "--manager", "nonsense"][..],
        &["basic", "--manager", "fixed", "--mapping", "hash"][..],
        &["basic", "--mapping", "blocks"][..],
        &["basic", "--manager", "fixed", "--copy-sets", "distributed"][..],
        &[
            "basic",
            "--manager",
            "improved",
            "--owner-broadcast-every",
            "4",
        ][..],
        &[
            "basic",
            "--manager",
            "dynamic",
            "--owner-broadcast-every",
            "0",
        ][..],
    ] {
        let output = ivy(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(output.stdout.is_empty());
    }
}

/// The column `header` of table `title` in the final readout, by page.
fn final_column(stdout: &str, title: &str, header: &str) -> Vec<String> {
    let table = final_table(stdout, title);
    let mut lines = table.lines();
    let headers: Vec<&str> = lines.next().expect("a header").split_whitespace().collect();
    let column = headers.iter().position(|h| *h == header);
    let column = column.unwrap_or_else(|| panic!("no column {header} in {headers:?}"));
    let rows = lines.take_while(|line| !line.ends_with(':') && !line.contains("requests"));
    // A copy set prints with spaces (`{0, 3}`): the last column is the last word.
    let last = column + 1 == headers.len();
    let cell = |row: &str| -> String {
        let cell = match last {
            true => row.split_whitespace().last(),
            false => row.split_whitespace().nth(column),
        };
        cell.expect("a cell").to_string()
    };
    rows.map(cell).collect()
}

/// The headers of table `title` in the final readout.
fn final_headers(stdout: &str, title: &str) -> Vec<String> {
    let table = final_table(stdout, title);
    let header = table.lines().next().expect("a header");
    header.split_whitespace().map(str::to_string).collect()
}

#[test]
fn the_improved_manager_keeps_only_owners_and_the_owners_keep_copy_sets() {
    for threads in ["0", "2"] {
        let stdout = run_manager("improved", threads, &[]);
        let owners = final_column(&stdout, "cm", "Owner_ID");
        assert_eq!(owners.len(), 6, "one owner per page: {stdout}");
        assert_eq!(final_headers(&stdout, "cm"), ["Record", "Owner_ID"]);
        let process_headers = final_headers(&stdout, "process_0");
        assert_eq!(process_headers, ["Page", "isOwner", "Access", "copy_set"]);
        // Each page's owner, as the manager records it, says it owns the page.
        for (page, owner) in owners.iter().enumerate() {
            let is_owner = final_column(&stdout, &format!("process_{owner}"), "isOwner");
            assert_eq!(is_owner[page], "true", "page {page}: {stdout}");
        }
    }
}

#[test]
fn the_dynamic_manager_shows_each_processs_probable_owners() {
    let variants = [
        ("0", &["--copy-sets", "owner"][..]),
        ("2", &["--copy-sets", "owner"][..]),
        ("2", &["--copy-sets", "distributed"][..]),
        ("2", &["--owner-broadcast-every", "3"][..]),
    ];
    for (threads, variant) in variants {
        let stdout = run_manager("dynamic", threads, variant);
        assert!(!stdout.contains("\ncm"), "no manager table: {stdout}");
        // The owner of a page is its own probable owner.
        for process in 0..4 {
            let title = format!("process_{process}");
            let owns = final_column(&stdout, &title, "isOwner");
            let hints = final_column(&stdout, &title, "probOwner");
            for (page, owns) in owns.iter().enumerate() {
                if owns == "true" {
                    assert_eq!(hints[page], process.to_string(), "{title} page {page}");
                }
            }
        }
    }
}

#[test]
fn the_broadcast_manager_runs_verified_without_a_manager_or_hints() {
    for threads in ["0", "2"] {
        let stdout = run_manager("broadcast", threads, &[]);
        assert!(!stdout.contains("\ncm"), "no manager table: {stdout}");
        let headers = final_headers(&stdout, "process_0");
        assert_eq!(headers, ["Page", "isOwner", "Access", "copy_set"]);
        // A read fault is a broadcast to the 3 others and one answer.
        let read_requests = stdout
            .lines()
            .filter(|l| l.starts_with("ReadRequest"))
            .count();
        let copies = stdout.lines().filter(|l| l.starts_with("ReadPage")).count();
        assert_eq!(read_requests, 3 * copies, "{stdout}");
    }
}

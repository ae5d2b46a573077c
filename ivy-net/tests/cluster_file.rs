//! The cluster file: a good one gives the system, the managers and every address; each
//! kind of mistake is refused with a line that names it.

use ivy_core::NodeId;
use ivy_net::{ClusterError, ClusterSpec};
use std::path::Path;

const NODES: &str = r#"
[[nodes]]
id = 0
kind = "process"
address = "127.0.0.1:7100"
[[nodes]]
id = 1
kind = "process"
address = "127.0.0.1:7101"
[[nodes]]
id = 2
kind = "manager"
address = "127.0.0.1:7102"
"#;

fn file(head: &str, nodes: &str) -> String {
    format!("{head}\n{nodes}")
}

fn parse(text: &str) -> Result<ClusterSpec, ClusterError> {
    ClusterSpec::parse(text, Path::new("."))
}

const HEAD: &str =
    "cluster = \"demo\"\nkey = \"sixteen bytes at least\"\n[run]\npages = 7\nrequests = 20";

#[test]
fn a_good_file_gives_the_system_and_every_address() {
    let spec = parse(&file(HEAD, NODES)).unwrap();
    assert_eq!(spec.name, "demo");
    assert_eq!((spec.system.processes, spec.system.pages), (2, 7));
    assert_eq!(spec.managers, 1);
    assert_eq!(spec.run.requests, 20);
    assert_eq!(spec.addresses[&NodeId(2)], "127.0.0.1:7102");
}

#[test]
fn a_key_file_is_read_beside_the_cluster_file() {
    let directory = std::env::temp_dir().join(format!("ivy-key-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    std::fs::write(directory.join("cluster.key"), "a key kept in a file\n").unwrap();
    let head = "cluster = \"demo\"\nkey_file = \"cluster.key\"";
    let spec = ClusterSpec::parse(&file(head, NODES), &directory);
    std::fs::remove_dir_all(&directory).unwrap();
    assert!(spec.is_ok(), "{spec:?}");
}

#[test]
fn every_kind_of_mistake_is_named() {
    let missing = NODES.replace("id = 1\n", "id = 5\n");
    let duplicate_id = NODES.replace("id = 1\n", "id = 0\n");
    let same_address = NODES.replace("7101", "7100");
    let bad_address = NODES.replace("127.0.0.1:7101", "localhost");
    let manager_first = NODES.replace(
        "\"process\"\naddress = \"127.0.0.1:7100\"",
        "\"manager\"\naddress = \"127.0.0.1:7100\"",
    );
    let no_manager = NODES.replace("\"manager\"", "\"process\"");
    let short_key = HEAD.replace("sixteen bytes at least", "short");
    let both_keys = format!("{HEAD}\n").replace("[run]", "key_file = \"k\"\n[run]");
    let bad_ops = format!("{HEAD}\nops = \"sometimes\"");
    let unknown = format!("{HEAD}\ncolour = \"blue\"");
    let cases: Vec<(String, &str)> = vec![
        (file(HEAD, &missing), "node id 1 is missing"),
        (file(HEAD, &duplicate_id), "node id 0 appears twice"),
        (
            file(HEAD, &same_address),
            "address 127.0.0.1:7100 is given to two nodes",
        ),
        (file(HEAD, &bad_address), "is not host:port"),
        (file(HEAD, &manager_first), "at least one process"),
        (file(HEAD, &no_manager), "one manager (basic) or two"),
        (file(&short_key, NODES), "at least 16 bytes"),
        (file(&both_keys, NODES), "exactly one of key and key_file"),
        (file(&bad_ops, NODES), "ops must be read, write or mixed"),
        (file(&unknown, NODES), "unknown field"),
        ("not toml at all [".to_string(), ""),
    ];
    for (text, expected) in cases {
        let error = parse(&text).expect_err(expected).to_string();
        assert!(
            error.contains(expected),
            "{error:?} should say {expected:?}"
        );
        assert!(!error.contains('\n'), "one line: {error:?}");
    }
}

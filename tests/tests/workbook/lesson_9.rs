//! Lesson 9: read replicas, failover and a cluster. The lesson starts servers of its own
//! (a primary with two replicas, then a three-node cluster) of the run's kind, so its
//! test runs the real binary once, asserts each step's claim on what it printed and on
//! the JSON it wrote, and compares the output with the capture the book shows.

use std::time::Duration;

use lesson_9::report::Summary;
use lesson_9::{Flavor, Sizes, gtid_count};
use regex::Regex;
use workbook_tests::{LessonCommand, TestResult, assert_matches_capture};

/// The figures that vary from run to run; the chapter says which.
const MASKS: &[(&str, &str)] = &[
    (r"\d+ samples", "N samples"),
    (r"\d+ rows/s", "N rows/s"),
    (r"without the wait: \d+ of", "without the wait: N of"),
    (r"(?m)^node\d -> node\d", "nodeX -> nodeY"),
    (
        r"writes acknowledged: \d+, refused or timed out: \d+",
        "writes acknowledged: N, refused or timed out: N",
    ),
    (r"cut off: [1-9]\d*", "cut off: N"),
    (
        r"acknowledged writes lost: [1-9]\d*",
        "acknowledged writes lost: N",
    ),
    (
        r"unacknowledged writes present: \d+",
        "unacknowledged writes present: N",
    ),
    (r"(?m)^( +\d+ +)\d+ +\d+ +[\d.]+% +\d+$", "${1}N N N% N"),
    (
        r"on each node: [\d, ]+ \(expected \d+\)",
        "on each node: N (expected N)",
    ),
    (
        r"(nodes killed: a write on node1 )(?:commits|fails: .*)(, after)",
        "${1}...${2}",
    ),
];

fn number(text: &str, pattern: &str) -> Vec<u64> {
    Regex::new(pattern)
        .expect("valid pattern")
        .captures_iter(text)
        .map(|c| c[1].parse().expect("a number"))
        .collect()
}

#[tokio::test]
async fn every_step_runs_on_servers_of_its_own_and_keeps_its_promises() -> TestResult {
    let results = tempfile::tempdir()?;
    let run = LessonCommand::new("lesson-9", None)
        .server_of_this_run()
        .args(["--results".as_ref(), results.path().as_os_str()])
        .time_limit(Duration::from_secs(170))
        .run();
    run.assert_success();
    let out = &run.stdout;
    // Step 1: every replica sampled, idle and under load.
    assert_eq!(number(out, r"(\d+) samples").len(), 4, "{out}");
    // Step 2: writes on the primary (server 1), other reads on the replicas, in turn.
    assert!(out.contains("(writer()): server 1: 12\n"), "{out}");
    assert!(
        out.contains("(reader()):            server 2: 6, server 3: 6"),
        "{out}"
    );
    assert!(
        out.contains("read_only: node1 OFF, node2 ON, node3 ON"),
        "{out}"
    );
    // Step 3: the wait leaves no stale read.
    let reads = Sizes::from_args(["lesson-9"])?.reads;
    assert!(
        out.contains(&format!("with the wait:    0 of {reads} reads stale")),
        "{out}"
    );
    // Step 4: semi-sync loses no acknowledged write; asynchronous replication does.
    let lost = number(out, r"acknowledged writes lost: (\d+)");
    assert_eq!(lost.len(), 2, "{out}");
    assert_eq!(lost[0], 0, "semi-sync loses nothing acknowledged\n{out}");
    assert!(
        lost[1] > 0,
        "writes acknowledged during the cut are lost\n{out}"
    );
    // Step 5: no update lost on any node; one writer never conflicts; losing one node
    // keeps writes going, losing two gives an error within the time limit, not a hang.
    assert!(out.contains("no update lost"), "{out}");
    assert!(
        Regex::new(r"(?m)^ +1 +\d+ +0 +0\.0% +0$")?.is_match(out),
        "{out}"
    );
    // Galera goes on with two nodes of three; see the chapter for Group Replication.
    if out.contains("Galera") {
        let commits = "1 of 3 nodes killed: a write on node1 commits";
        assert!(out.contains(commits), "{out}");
    }
    assert!(
        out.contains("2 of 3 nodes killed: a write on node1 fails: "),
        "{out}"
    );
    // The JSON and the chart were written where asked.
    let stem = if out.contains("Galera") {
        "mariadb"
    } else {
        "mysql"
    };
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
        results.path().join(format!("{stem}.json")),
    )?)?;
    assert_eq!(json["failovers"][0]["lost"], 0);
    assert!(
        std::fs::read_to_string(results.path().join(format!("{stem}.svg")))?
            .contains("<svg")
    );
    // Every node is gone: no container or server process of the run is left.
    assert!(!run.stderr.contains("cannot"), "{}", run.stderr);
    assert_matches_capture("lesson-9", out, MASKS);
    Ok(())
}

#[test]
fn the_default_sizes_are_small_and_the_flags_refuse_nonsense() {
    let sizes = Sizes::from_args(["lesson-9"]).expect("no flags is the default");
    assert_eq!((sizes.writers, sizes.reads), (4, 200));
    for bad in [["--writers", "0"], ["--load-ms", "10"], ["--reads", "many"]] {
        assert!(
            Sizes::from_args(["lesson-9", bad[0], bad[1]]).is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn gtid_sets_count_their_transactions_on_both_servers() -> TestResult {
    assert_eq!(gtid_count(Flavor::MariaDb, "0-1-57")?, 57);
    assert_eq!(gtid_count(Flavor::MariaDb, "0-1-57,1-2-3")?, 60);
    assert_eq!(gtid_count(Flavor::MariaDb, "")?, 0);
    let uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    assert_eq!(gtid_count(Flavor::MySql, &format!("{uuid}:1-5"))?, 5);
    assert_eq!(
        gtid_count(
            Flavor::MySql,
            &format!("{uuid}:1-5:7:9-10,\n{uuid}:tag:1-2")
        )?,
        10
    );
    assert!(gtid_count(Flavor::MariaDb, "0-1-x").is_err());
    Ok(())
}

#[test]
fn lag_summaries_use_the_nearest_rank() {
    let ms = |n: u64| Duration::from_millis(n);
    let s = Summary::of(&(1..=100).map(ms).collect::<Vec<_>>());
    assert_eq!(
        (s.n, s.p50_ms, s.p99_ms, s.max_ms),
        (100, 50.0, 99.0, 100.0)
    );
    assert_eq!(Summary::of(&[]).n, 0);
}

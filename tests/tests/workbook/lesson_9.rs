//! Lesson 9: read replicas, failover and a cluster. The lesson starts servers of its own
//! (a primary with two replicas, then a three-node cluster) of the run's kind, so its
//! test runs the real binary once, asserts each step's claim on what it printed and on
//! the JSON it wrote, and compares the output with the capture the book shows.

use std::time::Duration;

use crate::foundation::{entries, eventually, servers_using};
use lesson_9::report::Summary;
use lesson_9::{Flavor, Sizes, gtid_count};
use regex::Regex;
use workbook_tests::{LessonCommand, TestResult, assert_matches_capture};

/// The figures that vary from run to run; the chapter says which.
const MASKS: &[(&str, &str)] = &[
    (r"\d+ samples", "N samples"),
    (r"\d+ rows/s", "N rows/s"),
    (r"without the wait: \d+ of \d+", "without the wait: N of N"),
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
    (r"(?m)^( +\d+) +\d+ +\d+ +[\d.]+% +\d+$", "${1} N N N% N"),
    (
        r"on each node: [\d, ]+ \(expected \d+\)",
        "on each node: N (expected N)",
    ),
    // The quick counts of `cargo test` (see `quick_sizes`).
    (r"\d+ writes, each read back", "N writes, each read back"),
    (r"with the wait:    0 of \d+", "with the wait:    0 of N"),
    (
        r"stale, \d+ read from the primary",
        "stale, N read from the primary",
    ),
];

/// The counts of the test's run: the binary's defaults when the captures are written
/// anew (`just bless`), smaller ones otherwise, so that the test stays within its time.
fn quick_sizes() -> Vec<&'static str> {
    if workbook_tests::blessing() {
        Vec::new()
    } else {
        vec!["--reads", "50", "--transactions", "20", "--load-ms", "2000"]
    }
}

/// Held by each test that starts topologies, so that two never share the two cores.
static TOPOLOGIES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn number(text: &str, pattern: &str) -> Vec<u64> {
    Regex::new(pattern)
        .expect("valid pattern")
        .captures_iter(text)
        .map(|c| c[1].parse().expect("a number"))
        .collect()
}

#[tokio::test]
async fn every_step_runs_on_servers_of_its_own_and_keeps_its_promises() -> TestResult {
    let _alone = TOPOLOGIES.lock().await;
    let results = tempfile::tempdir()?;
    let sizes = quick_sizes();
    let run = LessonCommand::new("lesson-9", None)
        .server_of_this_run()
        .args(["--results".as_ref(), results.path().as_os_str()])
        .args(&sizes)
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
    let reads = Sizes::from_args(["lesson-9"].into_iter().chain(sizes))?.reads;
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
    // keeps writes going, losing two gives the server's error, not a hang.
    assert!(out.contains("no update lost"), "{out}");
    assert!(
        Regex::new(r"(?m)^ +1 +\d+ +0 +0\.0% +0$")?.is_match(out),
        "{out}"
    );
    assert!(
        out.contains("node3 killed (1 of 3 nodes lost): a write on node1 commits"),
        "{out}"
    );
    let refused = Regex::new(
        r"node2 (cut off|paused) \(2 of 3 nodes lost\): a write on node1 fails: error \d+",
    )?;
    assert!(refused.is_match(out), "{out}");
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

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_while_the_servers_run_leaves_no_node_network_or_directory_behind()
-> TestResult {
    use std::io::{BufRead, BufReader};
    let _alone = TOPOLOGIES.lock().await;
    // A private TMPDIR shows exactly what local nodes leave behind.
    let tmp = tempfile::tempdir()?;
    let mut child = LessonCommand::new("lesson-9", None)
        .server_of_this_run()
        .env("TMPDIR", tmp.path())
        .args(["--no-results", "--no-cluster"])
        .spawn();
    let pid = child.id();
    let mut out = child.stdout.take().expect("stdout is piped");
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let err = child.stderr.take().expect("stderr is piped");
    // The topology is up once the lesson says what it started.
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = std::thread::spawn(move || {
        let mut err = BufReader::new(err);
        let (mut seen, mut line) = (String::new(), String::new());
        while err.read_line(&mut line).unwrap_or(0) > 0 {
            if line.contains(", started in ") {
                let _ = tx.send(line.clone());
            }
            seen.push_str(&std::mem::take(&mut line));
        }
        seen
    });
    let up =
        tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(120)))
            .await;
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
    let status = tokio::task::spawn_blocking(move || child.wait()).await??;
    let stderr = stderr.join().unwrap_or_default();
    let started =
        up?.map_err(|_| anyhow::anyhow!("no topology within 120 s:\n{stderr}"))?;
    assert!(interrupted?.success());
    // The lesson handles Ctrl-C itself: it drops its servers and says so.
    assert!(!status.success(), "{status}\n{stderr}");
    assert!(
        stderr.contains("interrupted; the servers are removed"),
        "{stderr}"
    );
    // The watchdogs remove the containers and the network, or stop the local servers and
    // delete their folders, once the lesson is gone.
    let ours = format!("workbook-{pid}-");
    let left = || {
        let mut left = Vec::new();
        if started.contains("Docker network") {
            let containers = docker(&[
                "ps",
                "-a",
                "--filter",
                "label=workbook.topology",
                "--format",
                "{{.Names}}",
            ]);
            let networks = docker(&[
                "network",
                "ls",
                "--filter",
                "label=workbook.topology",
                "--format",
                "{{.Name}}",
            ]);
            left.extend(
                containers
                    .lines()
                    .chain(networks.lines())
                    .filter(|n| n.starts_with(&ours))
                    .map(str::to_owned),
            );
        }
        left.extend(
            servers_using(tmp.path())
                .iter()
                .map(|p| format!("process {p}")),
        );
        left.extend(entries(tmp.path()));
        left
    };
    let cleaned = eventually(Duration::from_secs(60), || left().is_empty()).await;
    assert!(
        cleaned,
        "after Ctrl-C ({started}): left behind {:?}",
        left()
    );
    Ok(())
}

/// `docker ARGS`' stdout, or nothing when it fails.
fn docker(args: &[&str]) -> String {
    std::process::Command::new("docker")
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

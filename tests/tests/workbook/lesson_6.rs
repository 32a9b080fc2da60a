//! Lesson 6: measuring which layer costs what. Timings are never asserted: they are masked in
//! the captured output, and the tests check data, counts and the shape of the results.

use std::path::Path;

use lesson_6::{Counts, InsertVariant, Stack};
use serde_json::Value;
use workbook::fresh_database;
use workbook_tests::{LessonCommand, assert_matches_capture, lesson_dir, mask, say};

/// What varies between two honest runs: the machine and its load, the server's settings, the C client's
/// name, every timing and ratio and the verdicts that follow from them, and the column padding
/// around them.
const MASKS: &[(&str, &str)] = &[
    (r"(?m)^cpu: .*$", "cpu: <machine>"),
    (r"(?m)^load: .*$", "load: <load>"),
    (
        r"innodb_flush_log_at_trx_commit = \d+",
        "innodb_flush_log_at_trx_commit = <n>",
    ),
    (r"\b(mariadb-slap|mysqlslap)\b", "<C client>"),
    (r"\b\d+\.\d+x", "<ratio>"),
    (r"\b(met|missed)\b", "<verdict>"),
    (r" {2,}", " "),
];

fn slap_installed() -> bool {
    lesson_6::Floor::find("mysql://root@127.0.0.1:3306/x").is_ok_and(|f| f.is_some())
}

fn rows_of<'a>(json: &'a Value, workload: &str) -> Vec<&'a Value> {
    json["rows"]
        .as_array()
        .map(|rows| rows.iter().filter(|r| r["workload"] == workload).collect())
        .unwrap_or_default()
}

/// Every stack has every workload and variant, with the quick counts and at least 3 runs.
fn assert_every_row(json: &Value, counts: &Counts, floor: bool) {
    let stacks: Vec<&str> = Stack::ALL.iter().map(|s| s.name()).collect();
    for stack in &stacks {
        let w1: Vec<String> = rows_of(json, "W1")
            .into_iter()
            .filter(|r| r["stack"] == *stack)
            .map(|r| r["variant"].as_str().unwrap_or_default().to_owned())
            .collect();
        let mut want = vec!["sequential".to_owned()];
        want.extend(counts.pools.iter().map(|p| format!("pool of {p}")));
        assert_eq!(w1, want, "W1 variants of {stack}");
        for workload in ["W2", "W3", "W5"] {
            let n = rows_of(json, workload)
                .iter()
                .filter(|r| r["stack"] == *stack)
                .count();
            assert_eq!(n, 1, "{workload} rows of {stack}");
        }
    }
    let w4: Vec<(String, String)> = rows_of(json, "W4")
        .into_iter()
        .map(|r| {
            (
                r["stack"].as_str().unwrap_or_default().to_owned(),
                r["variant"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = Stack::ALL
        .iter()
        .flat_map(|s| {
            s.insert_variants().iter().map(|v| {
                let variant = match v {
                    InsertVariant::RowByRow => v.name().to_owned(),
                    _ => format!("{}, chunks of {}", v.name(), counts.chunk),
                };
                (s.name().to_owned(), variant)
            })
        })
        .collect();
    assert_eq!(w4, want, "W4 rows");
    for workload in ["W2", "W3"] {
        let floors = rows_of(json, workload)
            .iter()
            .filter(|r| !stacks.contains(&r["stack"].as_str().unwrap_or_default()))
            .count();
        assert_eq!(floors, usize::from(floor), "{workload} floor rows");
    }
    for row in json["rows"].as_array().expect("rows is an array") {
        assert!(row["repeats"].as_u64() >= Some(3), "{row}");
        let (wall, median) = (row["wall_ms"].as_f64(), row["median_ms"].as_f64());
        assert!(wall.is_some_and(|w| w > 0.0) && median >= wall, "{row}");
        let ops = row["ops"].as_u64().unwrap_or_default() as usize;
        let want = match row["workload"].as_str() {
            Some("W1") => counts.sleeps,
            Some("W2") | Some("W3") if stacks.contains(&row["stack"].as_str().unwrap_or("")) => {
                counts.ops
            }
            // The C client divides the queries evenly over its clients.
            Some("W3") => counts.ops / counts.tasks * counts.tasks,
            Some("W2") => counts.ops,
            _ => counts.rows,
        };
        assert_eq!(ops, want, "{row}");
    }
}

#[tokio::test]
async fn lesson_6_quick_run_prints_what_the_book_shows_twice_and_writes_every_row()
-> anyhow::Result<()> {
    let db = fresh_database("lesson_6_binary").await?;
    let out = tempfile::tempdir()?;
    let json_path = out.path().join("results.json");
    let run = |n: u32| {
        LessonCommand::new("lesson-6", Some(&db.url))
            .args(["--quick", "--json"])
            .args([&json_path])
            .args([
                "--charts".as_ref(),
                out.path().join(format!("charts-{n}")).as_os_str(),
            ])
            .run()
    };
    let first = run(1);
    first.assert_success();
    let floor = slap_installed();
    if floor {
        assert_matches_capture("lesson-6", &first.stdout, MASKS);
    } else {
        say("lesson 6: no mariadb-slap or mysqlslap here: the captured output is not compared");
    }

    let json: Value = serde_json::from_str(&std::fs::read_to_string(&json_path)?)?;
    assert_eq!(json["machine"]["counts"]["ops"], 200);
    assert!(json["machine"]["cpu"].is_string() && json["machine"]["cores"].is_u64());
    assert!(json["machine"]["innodb_flush_log_at_trx_commit"].is_string());
    assert_every_row(&json, &Counts::quick(), floor);
    for w in 1..=5 {
        let svg = std::fs::read_to_string(out.path().join(format!("charts-1/lesson-6-w{w}.svg")))?;
        assert!(
            svg.starts_with("<svg") && svg.contains(&format!("W{w}:")),
            "chart W{w}"
        );
    }

    // The second run finds the seeded rows, and prints the same.
    let second = run(2);
    second.assert_success();
    assert_eq!(mask(&second.stdout, MASKS), mask(&first.stdout, MASKS));
    assert!(second.stderr.contains("already there"), "{}", second.stderr);

    // Only lesson 6's seed is left: every row W4 inserted was deleted again.
    let pool = workbook::connect(&db.url).await?;
    let seeded: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM bench_customers WHERE name LIKE 'm6-%'")
            .fetch_one(&pool)
            .await?;
    let all: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bench_customers")
        .fetch_one(&pool)
        .await?;
    assert_eq!((seeded, all), (500, 500));
    pool.close().await;
    Ok(())
}

#[tokio::test]
async fn every_stack_returns_the_same_rows_and_counts_for_every_workload() -> anyhow::Result<()> {
    let db = fresh_database("lesson_6_same_rows").await?;
    let pool = workbook::connect(&db.url).await?;
    workbook::migrate(&pool).await?;
    // Someone else's row first: lesson 6 must work around it and leave it alone.
    sqlx::query("INSERT INTO bench_customers (name, job) VALUES ('not-lesson-6', 'Tester')")
        .execute(&pool)
        .await?;
    let seeded = lesson_6::seed(&pool, 300).await?;
    assert_eq!((seeded.first, seeded.last, seeded.created), (2, 301, true));
    assert!(!lesson_6::seed(&pool, 300).await?.created, "seeding twice");
    let ids = lesson_6::choose_ids(&seeded, 120)?;
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 120);
    assert_eq!(
        ids,
        lesson_6::choose_ids(&seeded, 120)?,
        "the ids come from a fixed seed"
    );

    let data = lesson_6::rows_to_insert(250);
    let shared: std::sync::Arc<[i32]> = ids.clone().into();
    let mut first_w2 = None;
    let mut first_w5 = None;
    for stack in Stack::ALL {
        let stack_pool = lesson_6::open_pool(stack, &db.url, 4).await?;

        // W1: every sleep ran.
        let n = lesson_6::sleeps_concurrent(stack, &stack_pool, 6, 0.001).await?;
        assert_eq!(n, 6, "{stack}");
        assert_eq!(
            lesson_6::sleeps_sequential(stack, &stack_pool, 3, 0.001).await?,
            3
        );

        // W2: the rows of the chosen ids, in their order, with the seeded names.
        let (_, w2) = lesson_6::point_selects(stack, &stack_pool, &ids).await?;
        assert_eq!(w2.iter().map(|c| c.id).collect::<Vec<_>>(), ids, "{stack}");
        for c in &w2 {
            assert_eq!(c.name, format!("m6-{:07}", c.id - 1), "{stack}");
        }
        // W3: the same rows, over 4 tasks.
        let (_, w3) = lesson_6::concurrent_point_selects(stack, &stack_pool, &shared, 4).await?;
        let mut sorted = w2.clone();
        sorted.sort_by_key(|c| c.id);
        assert_eq!(w3, sorted, "{stack}");
        match &first_w2 {
            None => first_w2 = Some(w2),
            Some(first) => assert_eq!(&w2, first, "W2 of {stack}"),
        }

        // W5: every seeded row, in id order, the same on every stack.
        let (_, w5) = lesson_6::read_all(stack, &stack_pool, &seeded).await?;
        assert_eq!(w5.len(), 300);
        assert!(w5.iter().any(|c| c.job.is_none()), "some jobs are NULL");
        match &first_w5 {
            None => first_w5 = Some(w5),
            Some(first) => assert_eq!(&w5, first, "W5 of {stack}"),
        }

        // W4: every variant stores exactly the rows it was given, NULL jobs included.
        for &variant in stack.insert_variants() {
            let mut conn = stack_pool.get().await?;
            let inserted = conn.insert_all(stack, variant, &data, 64).await?;
            drop(conn);
            assert_eq!(inserted, 250, "{stack} {variant:?}");
            let stored: Vec<(String, Option<String>)> = sqlx::query_as(
                "SELECT name, job FROM bench_customers WHERE name LIKE 'm6w4-%' ORDER BY name",
            )
            .fetch_all(&pool)
            .await?;
            let want: Vec<(String, Option<String>)> = data
                .iter()
                .map(|r| (r.name.clone(), r.job.clone()))
                .collect();
            assert_eq!(stored, want, "{stack} {variant:?}");
            assert_eq!(lesson_6::delete_inserted(&pool).await?, 250);
        }
        stack_pool.close().await;
    }
    let other: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM bench_customers WHERE name = 'not-lesson-6'")
            .fetch_one(&pool)
            .await?;
    assert_eq!(other, 1, "the other row is untouched");
    pool.close().await;
    Ok(())
}

#[test]
fn bad_counts_get_a_one_line_error_before_any_connection() {
    let run = LessonCommand::new("lesson-6", None)
        .args(["--ops", "10", "--rows", "5"])
        .run();
    assert_eq!(run.code(), Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("--ops (10) must be at most --rows (5)"));
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

#[test]
fn the_c_clients_report_is_read_into_a_time_and_a_count() -> anyhow::Result<()> {
    let report = "Benchmark\n\
        \tAverage number of seconds to run all queries: 1.096 seconds\n\
        \tMinimum number of seconds to run all queries: 1.096 seconds\n\
        \tMaximum number of seconds to run all queries: 1.096 seconds\n\
        \tNumber of clients running queries: 16\n\
        \tAverage number of queries per client: 312\n";
    let (took, ops) = lesson_6::floor::parse_slap_output(report)?;
    assert_eq!((took.as_millis(), ops), (1096, 4992));
    assert!(lesson_6::floor::parse_slap_output("Error: no such table").is_err());
    Ok(())
}

#[test]
fn the_recorded_release_run_has_every_row_of_a_full_run() -> anyhow::Result<()> {
    let dir = lesson_dir("lesson-6").join("results");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("release.json"))?)?;
    assert_eq!(json["machine"]["build"], "release");
    assert_every_row(&json, &Counts::full(), true);
    // The table the chapter shows is the same run's.
    let table = std::fs::read_to_string(dir.join("release.txt"))?;
    for row in json["rows"].as_array().expect("rows is an array") {
        let ms = row["wall_ms"].as_f64().unwrap_or_default();
        let shown = lesson_6::report::duration(std::time::Duration::from_secs_f64(ms / 1e3));
        assert!(
            table.contains(&shown),
            "{shown} of {row} is not in release.txt"
        );
    }
    for w in 1..=5 {
        let chart = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../book/src/images/lesson-6-w{w}.svg"));
        assert!(std::fs::read_to_string(chart)?.contains("release build"));
    }
    Ok(())
}

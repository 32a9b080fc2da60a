use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use lesson_5::{OnTimeout, RetryPolicy};

/// Lesson 5: transactions and failures, each run for real.
#[derive(Parser)]
struct Args {
    /// Smaller counts (a quick look, and the tests' second run); the book shows the full
    /// run.
    #[arg(long)]
    quick: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    let db = workbook::lesson_database().await?;
    let args = Args::parse();
    let (tasks, increments, transfers, rounds, strings) = if args.quick {
        (10, 20, 30, 200, 1_000)
    } else {
        (50, 100, 200, 1_000, 10_000)
    };
    let pool = workbook::connect(&db.url).await?;
    workbook::migrate(&pool).await?;
    lesson_5::create_tables(&pool)
        .await
        .context("cannot create the lesson's tables")?;

    workbook::step("1", "Duplicates become a typed error");
    let report = lesson_5::duplicates(&pool, &db.url)
        .await
        .context("the duplicates step failed")?;
    print!("{report}");

    workbook::step("2", "Lost updates under REPEATABLE READ");
    println!(
        "for each way: {tasks} tasks x {increments} increments of a counter, on 10 connections"
    );
    let reports = lesson_5::lost_updates_compared(&db.url, tasks, increments)
        .await
        .context("the lost-updates step failed")?;
    for report in reports {
        println!("{report}");
    }

    workbook::step("3", "Deadlocks and lock-wait timeouts");
    let deadlock = lesson_5::provoke_deadlock(&db.url)
        .await
        .context("cannot provoke a deadlock")?;
    println!("one deadlock on purpose: {}", deadlock.message);
    println!(
        "  -> {:?}: InnoDB rolled back the whole transaction",
        deadlock.failure
    );
    let timeout = lesson_5::provoke_lock_wait_timeout(&db.url)
        .await
        .context("cannot provoke a lock-wait timeout")?;
    println!("one lock-wait timeout on purpose: {}", timeout.message);
    println!(
        "  -> {:?}: the transaction's earlier UPDATE survived: {}",
        timeout.failure,
        if timeout.earlier_write_survived == Some(true) {
            "yes"
        } else {
            "no"
        }
    );
    let on = lesson_5::rollback_on_timeout(&pool).await?;
    println!(
        "innodb_rollback_on_timeout: {}",
        if on { "ON" } else { "OFF" }
    );
    println!(
        "two tasks x {transfers} transfers, locking accounts in opposite order, with retries:"
    );
    let report = lesson_5::opposite_transfers(&db.url, transfers, RetryPolicy::default())
        .await
        .context("the deadlock step failed")?;
    println!("{report}");

    workbook::step("4", "Cancellation");
    for guarded in [false, true] {
        let seen = lesson_5::cancelled_begin(&db.url, guarded)
            .await
            .context("the cancelled-begin check failed")?;
        println!("a begin() cancelled after BEGIN was sent, {seen}");
    }
    println!(
        "{rounds} rounds of begin / insert / commit under a random 0-5 ms timeout, pool of 1:"
    );
    let report = lesson_5::cancellation(
        &db.url,
        rounds,
        Duration::from_millis(5),
        OnTimeout::DropTheFuture,
    )
    .await
    .context("the cancellation step failed")?;
    println!("{report}");
    println!(
        "the same, with the transaction in its own task and only the waiting timed out:"
    );
    let report = lesson_5::cancellation(
        &db.url,
        rounds,
        Duration::from_millis(5),
        OnTimeout::DetachTheWork,
    )
    .await
    .context("the cancellation step failed")?;
    println!("{report}");

    workbook::step("5", "Server restart");
    if db.server.is_owned() {
        println!("killing the server the workbook started, mid-load, then restarting it");
        let report = lesson_5::server_restart(
            db.server,
            &db.url,
            4,
            Duration::from_millis(500),
            Duration::from_millis(500),
            Duration::from_millis(500),
        )
        .await
        .context("the restart step failed")?;
        println!("{report}");
    } else {
        println!(
            "skipped: this server came from DATABASE_URL, and killing it would cut off its other users"
        );
    }

    workbook::step("6", "Stale connections");
    if db.server.is_owned() {
        println!(
            "SET GLOBAL wait_timeout = 2, idle for 3 s, then 100 queries on each pool:"
        );
        let report = lesson_5::stale_connections(&db.url, Duration::from_secs(3), 100)
            .await
            .context("the stale-connections step failed")?;
        println!("{report}");
    } else {
        println!(
            "skipped: this server came from DATABASE_URL, and SET GLOBAL wait_timeout would change it for everyone"
        );
    }

    workbook::step("7", "Hostile input");
    let report = lesson_5::hostile_input(&pool, &db.url, strings)
        .await
        .context("the hostile-input step failed")?;
    println!("{report}");

    workbook::step("8", "Runaway queries");
    let report = lesson_5::runaway_query(&pool)
        .await
        .context("the runaway-query step failed")?;
    println!("{report}");

    lesson_5::drop_tables(&pool)
        .await
        .context("cannot drop the lesson's tables")?;
    pool.close().await;
    Ok(())
}

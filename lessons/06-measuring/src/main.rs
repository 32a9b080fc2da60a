//! Lesson 6, step by step: each step runs, then its report is printed. Progress goes to
//! stderr; `--full` runs the chapter's sizes, `--help` lists every count. One thread
//! runs every task: measured, it wakes a waiting query sooner (see the chapter).

use anyhow::Result;
use clap::Parser;
use lesson_6::report::{show, write_charts, write_json};
use lesson_6::{Args, s1_method, s2_data, s3_sleeps, s4_floor, s5_point_selects};
use lesson_6::{s6_concurrent, s7_inserts, s8_reads, s9_compare};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    args.counts()?; // Bad counts fail here, before any connection.
    let python = args.python.then(workbook::python).transpose()?;
    let db = workbook::lesson_database().await?;
    let pool = workbook::connect(&db.url).await?;
    workbook::migrate(&pool).await?;
    let mut ctx = args.context(&db.url, pool)?;
    let mut rows = Vec::new();

    workbook::step("1", "The machine, the server and the counts");
    let mut machine = s1_method::run(&ctx).await?;
    println!("{machine}");
    workbook::step("2", "The data: lesson 6's rows in bench_customers");
    let data = s2_data::run(&ctx).await?;
    println!("{data}");
    (ctx.seeded, ctx.ids) = (data.seeded, data.ids.into());
    if let Some(python) = &python {
        let side = lesson_6::python::run(&ctx, python).await?;
        (ctx.sqlalchemy, machine.sqlalchemy) = (side.rows, Some(side.versions));
    }
    workbook::step("3", "W1: SELECT SLEEP, one after another, then at once");
    show(s3_sleeps::run(&ctx).await?, &mut rows);
    workbook::step(
        "4",
        "The floor: the C client on W2's and W3's selects and W5's read",
    );
    show(s4_floor::run(&ctx).await?, &mut rows);
    workbook::step("5", "W2: point selects on one connection");
    show(s5_point_selects::run(&ctx).await?, &mut rows);
    workbook::step("6", "W3: the same point selects over many tasks");
    show(s6_concurrent::run(&ctx).await?, &mut rows);
    workbook::step("7", "W4: many rows inserted in one transaction");
    show(s7_inserts::run(&ctx).await?, &mut rows);
    workbook::step("8", "W5: every row read into structs");
    show(s8_reads::run(&ctx).await?, &mut rows);
    workbook::step("9", "Each stack against the floor");
    println!("{}", s9_compare::run(&rows).await?);
    write_json(&args.json, &machine, &rows)?;
    eprintln!("lesson-6: wrote {}", args.json.display());
    for chart in write_charts(&args.charts, &machine, &rows)? {
        eprintln!("lesson-6: wrote {}", chart.display());
    }
    ctx.pool.close().await;
    Ok(())
}

//! Step 9: each stack's figure set against the floor: W2 and W3 per query over the C
//! client's, W4 row by row over the best batched variant, W5's read over the C client's
//! and its wall time, and with
//! `--python` each Rust stack against the fastest SQLAlchemy stack.

use anyhow::Result;

use crate::report::{Compared, Comparison, Comparisons, ResultRow};

// ANCHOR: ratios
/// Each stack's time per operation on `workload`, on its best variant, over the best of
/// the rows `reference` picks, which are no stack here (nor is the C client's floor).
/// `None` without such rows.
pub fn over(
    rows: &[ResultRow],
    workload: &str,
    reference: impl Fn(&ResultRow) -> bool,
) -> Option<Vec<(String, f64)>> {
    let mine = rows.iter().filter(|r| r.workload == workload);
    let (refs, others): (Vec<&ResultRow>, Vec<&ResultRow>) =
        mine.partition(|r| reference(r));
    let fastest = best(refs.into_iter())?;
    let ratios = stacks(&others).into_iter().filter_map(|stack| {
        let of_stack = others.iter().filter(|r| r.stack == stack).copied();
        Some((stack.to_owned(), best(of_stack)? / fastest))
    });
    Some(ratios.collect())
}

/// W2, W3 or W5: each stack over the C client. `None` when the floor was not measured.
pub fn over_the_floor(rows: &[ResultRow], workload: &str) -> Option<Vec<(String, f64)>> {
    over(rows, workload, ResultRow::is_floor)
}
// ANCHOR_END: ratios

/// W4: how many times longer row by row took than the stack's best batched variant.
pub fn batching_gain(rows: &[ResultRow], stack: &str) -> Option<f64> {
    let mine = || {
        rows.iter()
            .filter(|r| r.workload == "W4" && r.stack == stack)
    };
    let row_by_row = mine().find(|r| r.variant == "row by row")?;
    let batched = mine()
        .filter(|r| r.variant != "row by row")
        .map(|r| r.wall_ms)
        .fold(f64::INFINITY, f64::min);
    Some(row_by_row.wall_ms / batched)
}

// ANCHOR: over_sqlalchemy
/// W2 to W5: each Rust stack over the fastest SQLAlchemy stack. Below 1, the Rust stack
/// is faster. `None` without SQLAlchemy rows.
pub fn over_sqlalchemy(rows: &[ResultRow], workload: &str) -> Option<Vec<(String, f64)>> {
    over(rows, workload, |r| r.stack.starts_with("sqlalchemy"))
}
// ANCHOR_END: over_sqlalchemy

/// The lowest time per operation among `rows`.
fn best<'a>(rows: impl Iterator<Item = &'a ResultRow>) -> Option<f64> {
    rows.map(ResultRow::per_op_ms).min_by(f64::total_cmp)
}

/// The stacks among `rows` other than the floor, in their first row's order.
fn stacks<'a>(rows: &[&'a ResultRow]) -> Vec<&'a str> {
    let mut names: Vec<&str> = Vec::new();
    for r in rows.iter().filter(|r| !r.is_floor()) {
        if !names.contains(&r.stack.as_str()) {
            names.push(&r.stack);
        }
    }
    names
}

/// Each stack's ratio over the C client on `workload`, into `found`; without a floor,
/// `what` is listed as not measured.
fn against_the_floor(
    found: &mut Comparisons,
    rows: &[ResultRow],
    workload: &str,
    what: Compared,
) {
    if !rows.iter().any(|r| r.workload == workload) {
        return;
    }
    match over_the_floor(rows, workload) {
        None => found.without_floor.push(what),
        Some(ratios) => {
            found
                .rows
                .extend(ratios.into_iter().map(|(stack, value)| Comparison {
                    what,
                    stack,
                    value,
                }))
        }
    }
}

/// Step 9's report: the comparisons of every row the workloads measured.
pub async fn run(rows: &[ResultRow]) -> Result<Comparisons> {
    let mut found = Comparisons::default();
    against_the_floor(&mut found, rows, "W2", Compared::W2PerQuery);
    against_the_floor(&mut found, rows, "W3", Compared::W3PerQuery);
    let mut stacks: Vec<&str> = rows
        .iter()
        .filter(|r| r.workload == "W4")
        .map(|r| r.stack.as_str())
        .collect();
    stacks.dedup();
    for stack in stacks {
        if let Some(value) = batching_gain(rows, stack) {
            let (what, stack) = (Compared::W4RowByRowOverBatched, stack.to_owned());
            found.rows.push(Comparison { what, stack, value });
        }
    }
    for workload in ["W2", "W3", "W4", "W5"] {
        let what = Compared::OverSqlAlchemy { workload };
        for (stack, value) in over_sqlalchemy(rows, workload).unwrap_or_default() {
            found.rows.push(Comparison { what, stack, value });
        }
    }
    against_the_floor(&mut found, rows, "W5", Compared::W5OverFloor);
    for r in rows.iter().filter(|r| r.workload == "W5") {
        let (what, stack) = (Compared::W5Wall { rows: r.ops }, r.stack.clone());
        found.rows.push(Comparison {
            what,
            stack,
            value: r.wall_ms,
        });
    }
    Ok(found)
}

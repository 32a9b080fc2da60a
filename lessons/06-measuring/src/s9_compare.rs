//! Step 9: each stack's figure set against the floor: W2 and W3 per query over the C
//! client's, W4 row by row over the best batched variant, and W5's wall time.

use anyhow::Result;

use crate::report::{Compared, Comparison, Comparisons, ResultRow};

// ANCHOR: ratios
/// W2 or W3: each stack's time per query over the C client's, the fastest runs of
/// each. `None` when the floor was not measured.
pub fn over_the_floor(rows: &[ResultRow], workload: &str) -> Option<Vec<(String, f64)>> {
    let mine = || rows.iter().filter(move |r| r.workload == workload);
    let floor = mine().find(|r| r.is_floor())?;
    let ratios = mine()
        .filter(|r| !r.is_floor())
        .map(|r| (r.stack.clone(), r.per_op_ms() / floor.per_op_ms()));
    Some(ratios.collect())
}

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
// ANCHOR_END: ratios

/// Step 9's report: the comparisons of every row the workloads measured.
pub async fn run(rows: &[ResultRow]) -> Result<Comparisons> {
    let mut found = Comparisons::default();
    for (workload, what) in [("W2", Compared::W2PerQuery), ("W3", Compared::W3PerQuery)] {
        if !rows.iter().any(|r| r.workload == workload) {
            continue;
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

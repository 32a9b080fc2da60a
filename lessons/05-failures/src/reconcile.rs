//! Bookkeeping the book never shows: what each round or request was told, set against
//! the rows that are really in the table afterwards.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::report::{CancellationReport, RestartReport, RoundTrip};
use crate::s1_duplicates::{Failure, classify};
use crate::s4_cancellation::{STAGE_BEGIN, STAGE_INSERT};

/// What a round of step 4 was told, to be checked against the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    /// `commit()` returned `Ok` in time: the row must be there.
    Acknowledged,
    /// An error before the commit: the row must not be there.
    Failed,
    /// Cancelled before the commit: the row must not be there.
    CancelledBefore,
    /// Cancelled in the commit, or an error there: either way is possible.
    Unknown,
    /// The caller gave up waiting; the work went on and reported later.
    Late,
}

/// A round that ended within its budget, with `done`; `in_commit` when it got as far as
/// the `COMMIT`, whose error leaves the outcome unknown.
pub fn told_on_time(
    report: &mut CancellationReport,
    done: Result<(), sqlx::Error>,
    in_commit: bool,
) -> Told {
    match done {
        Ok(()) => {
            report.acknowledged += 1;
            Told::Acknowledged
        }
        Err(e) => {
            *report.errors.entry(classify(&e)).or_default() += 1;
            if in_commit {
                Told::Unknown
            } else {
                Told::Failed
            }
        }
    }
}

/// A round whose future was dropped by its timeout at `stage`.
pub fn told_cancelled(report: &mut CancellationReport, stage: u8) -> Told {
    match stage {
        STAGE_BEGIN => {
            report.cancelled_in_begin += 1;
            Told::CancelledBefore
        }
        STAGE_INSERT => {
            report.cancelled_in_insert += 1;
            Told::CancelledBefore
        }
        _ => {
            report.cancelled_in_commit += 1;
            Told::Unknown
        }
    }
}

/// Sets what each round was told against the rows `present`: lost acknowledged
/// commits, phantom rows, and how the unknown outcomes fell.
pub fn rounds_with_rows(
    report: &mut CancellationReport,
    told: &[Told],
    present: &BTreeSet<i32>,
    late_ok: &BTreeSet<i32>,
) -> Result<()> {
    for (k, outcome) in told.iter().enumerate() {
        let k = i32::try_from(k)?;
        let there = present.contains(&k);
        match outcome {
            Told::Acknowledged if !there => report.lost += 1,
            Told::Failed | Told::CancelledBefore if there => report.phantom += 1,
            Told::Unknown if there => report.unknown_committed += 1,
            Told::Late if there != late_ok.contains(&k) => report.phantom += 1,
            _ => {}
        }
    }
    Ok(())
}

/// One request of step 5's load.
#[derive(Debug)]
pub struct Request {
    /// When it started.
    pub started: Instant,
    /// When it returned.
    pub finished: Instant,
    /// The row it inserted.
    pub key: i64,
    /// How it ended.
    pub outcome: Result<(), Failure>,
}

/// Sorts step 5's requests into before the kill, during the outage (until the first
/// success after the kill) and after the recovery, and counts the acknowledged inserts
/// that are `present` after the restart.
pub fn requests_around_a_kill(
    requests: &[Request],
    killed_at: Instant,
    restart_took: Duration,
    present: &BTreeSet<i64>,
) -> Result<RestartReport> {
    let recovered_at = requests
        .iter()
        // Started after the kill: a request in flight at the kill may still have
        // succeeded.
        .filter(|r| r.started > killed_at && r.outcome.is_ok())
        .map(|r| r.finished)
        .min()
        .context("no request succeeded after the restart")?;
    let mut report = RestartReport {
        outage: recovered_at - killed_at,
        restart_took,
        ..RestartReport::default()
    };
    let mut acknowledged = BTreeSet::new();
    for r in requests {
        if r.outcome.is_ok() {
            acknowledged.insert(r.key);
        }
        if r.started >= recovered_at {
            match r.outcome {
                Ok(()) => report.ok_after += 1,
                Err(_) => report.failed_after += 1,
            }
        } else if r.finished < killed_at {
            if r.outcome.is_ok() {
                report.ok_before += 1;
            }
        } else if let Err(kind) = r.outcome {
            *report.failed_during_outage.entry(kind).or_default() += 1;
        }
    }
    report.acknowledged = acknowledged.len() as u64;
    report.acknowledged_present = acknowledged.intersection(present).count() as u64;
    Ok(report)
}

/// Step 7: the rows read back through one way of writing, against the strings written.
pub fn round_trip(
    via: &'static str,
    strings: &[String],
    rows: &[(i32, String)],
    failed: BTreeMap<Failure, u64>,
) -> RoundTrip {
    let mut exact = 0;
    let mut smuggled = 0;
    for (k, body) in rows {
        match usize::try_from(*k).ok().and_then(|k| strings.get(k)) {
            Some(expected) if expected == body => exact += 1,
            Some(_) => {}
            None => smuggled += 1,
        }
    }
    RoundTrip {
        via,
        written: strings.len(),
        exact,
        failed,
        smuggled,
    }
}

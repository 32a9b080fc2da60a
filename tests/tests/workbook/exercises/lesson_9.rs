//! Lesson 9's exercises: these fail until the exercises are solved.

use std::time::Duration;

use lesson_9::exercises::{pick_reader, reached};
use workbook_tests::TestResult;

#[test]
fn exercise_9_1_compares_mariadb_positions_domain_by_domain() -> TestResult {
    assert!(reached("0-1-57", "0-1-57")?);
    assert!(
        reached("0-2-60", "0-1-57")?,
        "a later sequence from another server"
    );
    assert!(!reached("0-1-56", "0-1-57")?);
    assert!(reached("0-1-10,1-3-5", "1-3-5")?);
    assert!(!reached("0-1-10", "0-1-10,1-3-5")?, "domain 1 is missing");
    assert!(reached("0-1-10", "")?, "nothing to wait for");
    assert!(reached("0-1", "0-1-1").is_err());
    assert!(reached("0-1-1", "x-1-1").is_err());
    Ok(())
}

#[test]
fn exercise_9_2_reads_from_the_freshest_replica_within_the_limit() {
    let ms = |n| Some(Duration::from_millis(n));
    let limit = Duration::from_millis(100);
    assert_eq!(pick_reader(&[ms(40), ms(5), ms(20)], limit), Some(1));
    assert_eq!(pick_reader(&[None, ms(90)], limit), Some(1));
    assert_eq!(
        pick_reader(&[ms(100)], limit),
        Some(0),
        "the limit itself is fine"
    );
    assert_eq!(pick_reader(&[ms(101), None], limit), None);
    assert_eq!(pick_reader(&[], limit), None);
}

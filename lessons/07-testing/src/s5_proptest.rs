//! Step 5: property tests with proptest: arbitrary strings, dates and amounts make a
//! round trip through sqlx, sea-query, diesel-async and SeaORM.

use std::future::Future;

use anyhow::{Result, anyhow, ensure};
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use sqlx::AssertSqlSafe;
use sqlx::MySqlPool;
use sqlx::types::chrono::NaiveDate;

use crate::Ctx;
use crate::schema::round_trips;

/// Cases per property: `PROPTEST_CASES`, else 32, which keeps `cargo test` quick.
pub fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(32)
}

// ANCHOR: strategies
/// Up to 50 characters from all of Unicode but control characters: 4-byte emoji and
/// CJK extensions included, with up to two trailing spaces.
pub fn any_text() -> impl Strategy<Value = String> {
    "\\PC{0,48} {0,2}"
}

/// Any date MySQL's `DATE` takes: 1000-01-01 to 9999-12-31.
pub fn any_date() -> impl Strategy<Value = NaiveDate> {
    (1000i32..=9999, 1u32..=366).prop_filter_map("no such day", |(year, day)| {
        NaiveDate::from_yo_opt(year, day)
    })
}

/// An amount in thousandths, written with three decimals: one more than the column.
pub fn any_amount() -> impl Strategy<Value = i64> {
    -9_999_999_999i64..=9_999_999_999
}
// ANCHOR_END: strategies

// ANCHOR: check
/// Runs `property` on `cases` values from `strategy`, shrinking any failure to the
/// smallest value that still fails. proptest's runner is synchronous: it runs on a
/// blocking thread, and each case goes back to the test's runtime.
pub async fn check<S, F, Fut>(cases: u32, strategy: S, property: F) -> Result<()>
where
    S: Strategy + Send + 'static,
    S::Value: std::fmt::Debug,
    F: Fn(S::Value) -> Fut + Send + 'static,
    Fut: Future<Output = Result<()>>,
{
    let runtime = tokio::runtime::Handle::current();
    let mut config = Config::with_cases(cases);
    config.failure_persistence = None;
    tokio::task::spawn_blocking(move || {
        TestRunner::new(config)
            .run(&strategy, |value| {
                let outcome = runtime.block_on(property(value));
                outcome.map_err(|e| TestCaseError::fail(format!("{e:#}")))
            })
            .map_err(|e| anyhow!("{e}"))
    })
    .await?
}
// ANCHOR_END: check

/// The table the properties write to.
pub async fn create_table(pool: &MySqlPool) -> Result<()> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS round_trips (id INT AUTO_INCREMENT PRIMARY KEY, \
         body VARCHAR(50) NOT NULL, day DATE NOT NULL, amount DECIMAL(14,2) NOT NULL DEFAULT 0) \
         CHARACTER SET utf8mb4",
    )
    .execute(pool)
    .await?;
    Ok(())
}

// ANCHOR: sqlx_round_trip
/// Writes a row with sqlx and reads it back: the text and the date come back as they
/// went in, and the amount rounded half away from zero to the column's two decimals.
pub async fn sqlx_round_trip(
    pool: MySqlPool,
    row: (String, NaiveDate, i64),
) -> Result<()> {
    let (body, day, thousandths) = row;
    let amount = decimal(thousandths, 3);
    let id = sqlx::query("INSERT INTO round_trips (body, day, amount) VALUES (?, ?, ?)")
        .bind(&body)
        .bind(day)
        .bind(&amount)
        .execute(&pool)
        .await?
        .last_insert_id();
    let sql = "SELECT body, day, CAST(amount AS CHAR) FROM round_trips WHERE id = ?";
    let (back, back_day, back_amount): (String, NaiveDate, String) =
        sqlx::query_as(sql).bind(id).fetch_one(&pool).await?;
    ensure!(back == body, "{body:?} came back as {back:?}");
    ensure!(back_day == day, "{day} came back as {back_day}");
    // Half away from zero, as MySQL and MariaDB round a DECIMAL.
    let cents = (thousandths + 5 * thousandths.signum()) / 10;
    ensure!(
        back_amount == decimal(cents, 2),
        "{amount} came back as {back_amount}"
    );
    Ok(())
}
// ANCHOR_END: sqlx_round_trip

// ANCHOR: padding
/// Looks the text up with two more trailing spaces: found on a PAD SPACE collation,
/// not found on a NO PAD one. `pads` says which this server's default is.
pub async fn padded_lookup(pool: MySqlPool, body: String, pads: bool) -> Result<()> {
    // NOTE: MySQL 8's default collation, utf8mb4_0900_ai_ci, is NO PAD: 'a' <> 'a '.
    // MariaDB's utf8mb4_general_ci is PAD SPACE: 'a' = 'a  ', and a UNIQUE key
    // refuses 'a ' beside 'a'.
    let id = sqlx::query(
        "INSERT INTO round_trips (body, day, amount) VALUES (?, CURRENT_DATE, 0)",
    )
    .bind(&body)
    .execute(&pool)
    .await?
    .last_insert_id();
    let found: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM round_trips WHERE id = ? AND body = ?")
            .bind(id)
            .bind(format!("{body}  "))
            .fetch_one(&pool)
            .await?;
    ensure!(
        (found == 1) == pads,
        "{body:?} + 2 spaces: found {found}, pads {pads}"
    );
    Ok(())
}
// ANCHOR_END: padding

// ANCHOR: diesel_round_trip
/// The same text and date through diesel-async.
pub async fn diesel_round_trip(url: String, row: (String, NaiveDate)) -> Result<()> {
    let mut conn = AsyncMysqlConnection::establish(&url).await?;
    diesel::insert_into(round_trips::table)
        .values((round_trips::body.eq(&row.0), round_trips::day.eq(row.1)))
        .execute(&mut conn)
        .await?;
    let id: u64 = diesel::select(last_insert_id())
        .get_result(&mut conn)
        .await?;
    let back: (String, NaiveDate) = round_trips::table
        .select((round_trips::body, round_trips::day))
        .find(i32::try_from(id)?)
        .first(&mut conn)
        .await?;
    ensure!(back == row, "{row:?} came back as {back:?}");
    Ok(())
}
// ANCHOR_END: diesel_round_trip

// ANCHOR: seaorm_round_trip
/// The same text and date through a SeaORM entity: `insert` writes the row and reads it
/// back by its new id, then `find_by_id` reads it once more.
pub async fn seaorm_round_trip(pool: MySqlPool, row: (String, NaiveDate)) -> Result<()> {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, SqlxMySqlConnector};
    let db = SqlxMySqlConnector::from_sqlx_mysql_pool(pool);
    let inserted = round_trip::ActiveModel {
        body: Set(row.0.clone()),
        day: Set(row.1),
        ..Default::default()
    }
    .insert(&db)
    .await?;
    let back = round_trip::Entity::find_by_id(inserted.id).one(&db).await?;
    let back = back.map(|found| (found.body, found.day));
    ensure!(back.as_ref() == Some(&row), "{row:?} came back as {back:?}");
    Ok(())
}
// ANCHOR_END: seaorm_round_trip

// ANCHOR: seaorm_entity
/// Step 5's table as a SeaORM entity; `amount` keeps its default.
#[allow(unused_qualifications)] // what the derives expand to
pub mod round_trip {
    use sea_orm::entity::prelude::*;

    /// A row of `round_trips`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "round_trips")]
    pub struct Model {
        /// The row's id.
        #[sea_orm(primary_key)]
        pub id: i32,
        /// `VARCHAR(50)`.
        pub body: String,
        /// `DATE`.
        pub day: Date,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
// ANCHOR_END: seaorm_entity

diesel::define_sql_function!(
    fn last_insert_id() -> diesel::sql_types::Unsigned<diesel::sql_types::BigInt>
);

/// `units` as a decimal with `scale` places: `decimal(-1500, 3)` is `-1.500`.
pub fn decimal(units: i64, scale: u32) -> String {
    let one = 10i64.pow(scale);
    let sign = if units < 0 { "-" } else { "" };
    let (whole, part) = ((units / one).abs(), (units % one).abs());
    format!("{sign}{whole}.{part:0width$}", width = scale as usize)
}

// ANCHOR: sea_query_round_trip
/// The text through sea-query: built with values, bound by sqlx.
pub async fn sea_query_round_trip(pool: MySqlPool, body: String) -> Result<()> {
    use sea_query::{Expr, ExprTrait, MysqlQueryBuilder, Query};
    use sea_query_sqlx::SqlxBinder;
    let (sql, values) = Query::insert()
        .into_table(Trips::Table)
        .columns([Trips::Body, Trips::Day, Trips::Amount])
        .values([body.as_str().into(), Expr::cust("CURRENT_DATE"), 0.into()])?
        .build_sqlx(MysqlQueryBuilder);
    let done = sqlx::query_with(AssertSqlSafe(sql), values)
        .execute(&pool)
        .await?;
    let (sql, values) = Query::select()
        .column(Trips::Body)
        .from(Trips::Table)
        .and_where(Expr::col(Trips::Id).eq(done.last_insert_id()))
        .build_sqlx(MysqlQueryBuilder);
    let back: String = sqlx::query_scalar_with(AssertSqlSafe(sql), values)
        .fetch_one(&pool)
        .await?;
    ensure!(back == body, "{back:?} for {body:?}");
    Ok(())
}
// ANCHOR_END: sea_query_round_trip

#[derive(sea_query::Iden)]
enum Trips {
    #[iden = "round_trips"]
    Table,
    Id,
    Body,
    Day,
    Amount,
}

// ANCHOR: zero_date
/// A zero date, which a lax `sql_mode` lets in, read as a `NaiveDate`: an error to
/// handle, never a panic, and never a date.
pub async fn zero_date_is_an_error(pool: &MySqlPool) -> Result<String> {
    let mut conn = pool.acquire().await?;
    sqlx::query("SET SESSION sql_mode = ''")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO round_trips (body, day, amount) VALUES ('zero', '0000-00-00', 0)",
    )
    .execute(&mut *conn)
    .await?;
    let read: Result<NaiveDate, sqlx::Error> =
        sqlx::query_scalar("SELECT day FROM round_trips WHERE body = 'zero'")
            .fetch_one(&mut *conn)
            .await;
    conn.close().await?; // a connection with a lax sql_mode goes, not back to the pool
    match read {
        Ok(day) => Err(anyhow!("the zero date was read as {day}")),
        Err(e) => Ok(e.to_string()),
    }
}
// ANCHOR_END: zero_date

/// Every property, `cases` values each, in one fresh database.
pub async fn run(ctx: &Ctx) -> Result<String> {
    let n = cases();
    let name = ctx.make_database("s5").await?;
    let pool = ctx.pool_on(&name).await?;
    create_table(&pool).await?;
    let pads: bool = sqlx::query_scalar("SELECT 'a' = 'a  '")
        .fetch_one(&pool)
        .await?;
    let started = std::time::Instant::now();
    let p = pool.clone();
    check(n, (any_text(), any_date(), any_amount()), move |row| {
        sqlx_round_trip(p.clone(), row)
    })
    .await?;
    let p = pool.clone();
    check(n, any_text(), move |s| padded_lookup(p.clone(), s, pads)).await?;
    let mut url = sqlx::ConnectOptions::to_url_lossy(&*pool.connect_options());
    url.set_query(None);
    let url = url.to_string();
    check(n, (any_text(), any_date()), move |row| {
        diesel_round_trip(url.clone(), row)
    })
    .await?;
    let p = pool.clone();
    check(n, any_text(), move |s| sea_query_round_trip(p.clone(), s)).await?;
    let p = pool.clone();
    check(n, (any_text(), any_date()), move |row| {
        seaorm_round_trip(p.clone(), row)
    })
    .await?;
    let zero = zero_date_is_an_error(&pool).await?;
    let took = started.elapsed();
    ctx.record("proptest, 5 properties in one database", 5, took);
    pool.close().await;
    ctx.drop_database(&name).await?;
    let collation = if pads { "PAD SPACE" } else { "NO PAD" };
    Ok(format!(
        "{n} cases each, all passed:\n\
         \x20 text, date and DECIMAL(14,2) amount through sqlx (amounts rounded to 2 places)\n\
         \x20 text + 2 trailing spaces found by `=`: {} (the default collation is {collation})\n\
         \x20 text and date through diesel-async\n\
         \x20 text through sea-query\n\
         \x20 text and date through SeaORM\n\
         a zero date read as NaiveDate: {}",
        if pads { "yes" } else { "no" },
        zero.lines().next().unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s1_sqlx_test::MIGRATOR;

    // ANCHOR: tests
    #[sqlx::test(migrator = "MIGRATOR")]
    async fn text_dates_and_amounts_make_the_round_trip(pool: MySqlPool) -> Result<()> {
        create_table(&pool).await?;
        let rows = (any_text(), any_date(), any_amount());
        check(cases(), rows, move |row| sqlx_round_trip(pool.clone(), row)).await
    }

    #[sqlx::test(migrator = "MIGRATOR")]
    async fn trailing_spaces_match_only_under_pad_space(pool: MySqlPool) -> Result<()> {
        create_table(&pool).await?;
        let pads: bool = sqlx::query_scalar("SELECT 'a' = 'a  '")
            .fetch_one(&pool)
            .await?;
        check(cases(), any_text(), move |s| {
            padded_lookup(pool.clone(), s, pads)
        })
        .await
    }
    // ANCHOR_END: tests

    // ANCHOR: more_tests
    #[sqlx::test(migrator = "MIGRATOR")]
    async fn text_and_dates_make_the_round_trip_through_diesel_and_sea_query(
        pool: MySqlPool,
        // (the database's URL, for diesel, is built from the pool's options)
    ) -> Result<()> {
        create_table(&pool).await?;
        let mut url = sqlx::ConnectOptions::to_url_lossy(&*pool.connect_options());
        url.set_query(None);
        let url = url.to_string();
        let rows = (any_text(), any_date());
        check(cases(), rows, move |row| {
            diesel_round_trip(url.clone(), row)
        })
        .await?;
        check(cases(), any_text(), move |s| {
            sea_query_round_trip(pool.clone(), s)
        })
        .await
    }

    #[sqlx::test(migrator = "MIGRATOR")]
    async fn a_zero_date_is_an_error_not_a_date(pool: MySqlPool) -> Result<()> {
        create_table(&pool).await?;
        zero_date_is_an_error(&pool).await.map(drop)
    }
    // ANCHOR_END: more_tests

    // ANCHOR: seaorm_test
    #[sqlx::test(migrator = "MIGRATOR")]
    async fn text_and_dates_make_the_round_trip_through_seaorm(
        pool: MySqlPool,
    ) -> Result<()> {
        create_table(&pool).await?;
        let rows = (any_text(), any_date());
        check(cases(), rows, move |row| {
            seaorm_round_trip(pool.clone(), row)
        })
        .await
    }
    // ANCHOR_END: seaorm_test
}

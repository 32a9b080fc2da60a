//! Step 7: hostile strings through sqlx binds, sea-query and diesel, and pasted into
//! the SQL text as the control case; then the length limit at its edge.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use sqlx::mysql::MySqlPool;
use sqlx::{AssertSqlSafe, Connection, Row};

use crate::reconcile::round_trip;
use crate::report::{Edge, HostileReport, Loose};
use crate::s1_duplicates::{Failure, classify};

// ANCHOR: hostile_strings
/// `n` strings of 0 to 50 characters made of [`PIECES`], the same for the same `seed`.
/// The first two are the edges: the empty string and 50 four-byte emoji.
pub fn hostile_strings(n: usize, seed: u64) -> Vec<String> {
    use rand::rngs::StdRng;
    use rand::seq::IndexedRandom;
    use rand::{Rng, SeedableRng};

    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = vec![String::new(), "😀".repeat(BODY_CHARS)];
    while out.len() < n {
        let target = rng.random_range(1..=BODY_CHARS);
        let mut s = String::new();
        while s.chars().count() < target {
            let piece = PIECES.choose(&mut rng).copied().unwrap_or("a");
            s.push_str(piece);
        }
        out.push(s.chars().take(target).collect());
    }
    out.truncate(n);
    out
}
// ANCHOR_END: hostile_strings

/// Rows written at a time.
const CHUNK: usize = 500;

// ANCHOR: write_sqlx
/// Writes `strings` as rows (`via`, k, body) with sqlx's `QueryBuilder`: one multi-row
/// `INSERT` per chunk, every value a bind parameter.
pub async fn write_with_sqlx(
    pool: &MySqlPool,
    via: &str,
    strings: &[String],
) -> Result<(), sqlx::Error> {
    for (c, chunk) in strings.chunks(CHUNK).enumerate() {
        let mut insert = sqlx::QueryBuilder::<sqlx::MySql>::new(
            "INSERT INTO lesson5_strings (via, k, body) ",
        );
        insert.push_values(chunk.iter().enumerate(), |mut row, (i, body)| {
            let k = i32::try_from(c * CHUNK + i).unwrap_or(i32::MAX);
            row.push_bind(via).push_bind(k).push_bind(body.as_str());
        });
        insert.build().execute(pool).await?;
    }
    Ok(())
}
// ANCHOR_END: write_sqlx

// ANCHOR: write_sea_query
/// Writes `strings` with sea-query: the builder collects the values, and `build_sqlx`
/// hands them to sqlx as bind parameters.
pub async fn write_with_sea_query(pool: &MySqlPool, strings: &[String]) -> Result<()> {
    use sea_query::{MysqlQueryBuilder, Query};
    use sea_query_sqlx::SqlxBinder;

    for (c, chunk) in strings.chunks(CHUNK).enumerate() {
        let mut insert = Query::insert();
        insert.into_table(Strings::Table).columns([
            Strings::Via,
            Strings::K,
            Strings::Body,
        ]);
        for (i, body) in chunk.iter().enumerate() {
            let k = i32::try_from(c * CHUNK + i)?;
            insert.values(["sea-query".into(), k.into(), body.as_str().into()])?;
        }
        let (sql, values) = insert.build_sqlx(MysqlQueryBuilder);
        sqlx::query_with(AssertSqlSafe(sql), values)
            .execute(pool)
            .await?;
    }
    Ok(())
}
// ANCHOR_END: write_sea_query

// ANCHOR: write_diesel
/// Writes `strings` with diesel-async: a batch `insert_into(...).values(&rows)`.
pub async fn write_with_diesel(
    conn: &mut diesel_async::AsyncMysqlConnection,
    strings: &[String],
) -> Result<(), diesel::result::Error> {
    use crate::schema::lesson5_strings::dsl;
    use diesel::{ExpressionMethods, insert_into};
    use diesel_async::RunQueryDsl;

    for (c, chunk) in strings.chunks(CHUNK).enumerate() {
        let rows: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(i, body)| {
                let k = i32::try_from(c * CHUNK + i).unwrap_or(i32::MAX);
                (
                    dsl::via.eq("diesel"),
                    dsl::k.eq(k),
                    dsl::body.eq(body.as_str()),
                )
            })
            .collect();
        insert_into(dsl::lesson5_strings)
            .values(&rows)
            .execute(conn)
            .await?;
    }
    Ok(())
}
// ANCHOR_END: write_diesel

// ANCHOR: write_inlined
/// The control case, never to be copied: each string pasted into the SQL text between
/// quotes.
pub async fn write_inlined(
    pool: &MySqlPool,
    strings: &[String],
) -> Result<BTreeMap<Failure, u64>> {
    let mut failed: BTreeMap<Failure, u64> = BTreeMap::new();
    // One transaction around them all, only to spare a disk flush per row; a failed
    // statement undoes only itself.
    let mut tx = pool.begin().await?;
    for (k, body) in strings.iter().enumerate() {
        let sql = format!(
            "INSERT INTO lesson5_strings (via, k, body) VALUES ('inlined', {k}, '{body}')"
        );
        // `persistent(false)`: ten thousand one-off statements must not fill the
        // statement cache.
        let done = sqlx::query(AssertSqlSafe(sql))
            .persistent(false)
            .execute(&mut *tx)
            .await;
        if let Err(e) = done {
            *failed.entry(classify(&e)).or_default() += 1;
        }
    }
    tx.commit().await?;
    Ok(failed)
}
// ANCHOR_END: write_inlined

// ANCHOR: sql_mode
/// The session's `sql_mode`, and whether it is strict: only then is a too-long value an
/// error rather than a warning and a silently cut string.
pub async fn strict_mode(pool: &MySqlPool) -> Result<(String, bool)> {
    let mode: String = sqlx::query_scalar("SELECT @@SESSION.sql_mode")
        .fetch_one(pool)
        .await
        .context("cannot read sql_mode")?;
    let strict = mode
        .split(',')
        .any(|m| m == "STRICT_TRANS_TABLES" || m == "STRICT_ALL_TABLES");
    Ok((mode, strict))
}
// ANCHOR_END: sql_mode

/// Pieces that break hand-built SQL: quotes, backslashes, NUL, `LIKE` wildcards, comment
/// markers, control characters, 4-byte emoji, and an attempt to smuggle in a second row.
const PIECES: &[&str] = &[
    "'",
    "''",
    "\"",
    "\\",
    "\\'",
    "\0",
    "%",
    "_",
    "😀",
    "🦀",
    "𝄞",
    "é",
    "中",
    ";",
    "--",
    "/*",
    "*/",
    "#",
    "`",
    "\n",
    "\r",
    "\t",
    "\u{1a}",
    " ",
    "a",
    "Z",
    "7",
    "?",
    "$1",
    "NULL",
    " OR 1=1",
    "'), ('inlined', -1, '",
];

/// The longest `body` the table takes: `VARCHAR(50)` counts characters, not bytes.
pub const BODY_CHARS: usize = 50;

/// sea-query's names for the strings table.
#[derive(sea_query::Iden)]
enum Strings {
    #[iden = "lesson5_strings"]
    Table,
    Via,
    K,
    Body,
}

async fn read_back_sqlx(pool: &MySqlPool, via: &str) -> Result<Vec<(i32, String)>> {
    let rows = sqlx::query_as(
        "SELECT k, body FROM lesson5_strings WHERE via = ? ORDER BY k, id",
    )
    .bind(via)
    .fetch_all(pool)
    .await
    .context("cannot read the strings back")?;
    Ok(rows)
}

async fn read_back_sea_query(pool: &MySqlPool) -> Result<Vec<(i32, String)>> {
    use sea_query::{Expr, ExprTrait, MysqlQueryBuilder, Order, Query};
    use sea_query_sqlx::SqlxBinder;
    let (sql, values) = Query::select()
        .columns([Strings::K, Strings::Body])
        .from(Strings::Table)
        .and_where(Expr::col(Strings::Via).eq("sea-query"))
        .order_by(Strings::K, Order::Asc)
        .build_sqlx(MysqlQueryBuilder);
    let rows = sqlx::query_as_with(AssertSqlSafe(sql), values)
        .fetch_all(pool)
        .await
        .context("cannot read the strings back")?;
    Ok(rows)
}

async fn read_back_diesel(
    conn: &mut diesel_async::AsyncMysqlConnection,
) -> Result<Vec<(i32, String)>> {
    use crate::schema::lesson5_strings::dsl;
    use diesel::{ExpressionMethods, QueryDsl};
    use diesel_async::RunQueryDsl;
    let rows = dsl::lesson5_strings
        .filter(dsl::via.eq("diesel"))
        .order(dsl::k.asc())
        .select((dsl::k, dsl::body))
        .load::<(i32, String)>(conn)
        .await
        .context("cannot read the strings back")?;
    Ok(rows)
}

/// Step 7: `n` generated strings through sqlx binds, sea-query, diesel and, as the
/// control case, pasted into the SQL text; then 50 and 51 characters through each
/// library.
pub async fn hostile_input(
    pool: &MySqlPool,
    url: &str,
    n: usize,
) -> Result<HostileReport> {
    let (sql_mode, strict) = strict_mode(pool).await?;
    if !strict {
        bail!(
            "this server's sql_mode ({sql_mode}) is not strict, so too-long strings \
             would be cut silently: add STRICT_TRANS_TABLES to it (MySQL 8 and MariaDB \
             10.2+ have it by default)"
        );
    }
    sqlx::query("DELETE FROM lesson5_strings")
        .execute(pool)
        .await
        .context("cannot clear the strings")?;
    let strings = hostile_strings(n, 5);
    let mut diesel_conn = crate::schema::connect(url).await?;
    let mut round_trips = Vec::new();

    let failed = tally_one(write_with_sqlx(pool, "sqlx", &strings).await.err().as_ref());
    let rows = read_back_sqlx(pool, "sqlx").await?;
    round_trips.push(round_trip("sqlx binds", &strings, &rows, failed));

    let failed = match write_with_sea_query(pool, &strings).await {
        Ok(()) => BTreeMap::new(),
        Err(e) => tally_one(e.downcast_ref::<sqlx::Error>()),
    };
    let rows = read_back_sea_query(pool).await?;
    round_trips.push(round_trip("sea-query", &strings, &rows, failed));

    let mut failed = BTreeMap::new();
    if write_with_diesel(&mut diesel_conn, &strings).await.is_err() {
        failed.insert(Failure::Other, 1);
    }
    let rows = read_back_diesel(&mut diesel_conn).await?;
    round_trips.push(round_trip("diesel", &strings, &rows, failed));

    let failed = write_inlined(pool, &strings).await?;
    let rows = read_back_sqlx(pool, "inlined").await?;
    round_trips.push(round_trip(
        "inlined (control case)",
        &strings,
        &rows,
        failed,
    ));

    let edges = length_edges(pool, &mut diesel_conn).await?;
    let not_strict = not_strict(url).await?;
    sqlx::query("DELETE FROM lesson5_strings")
        .execute(pool)
        .await
        .context("cannot clear the strings")?;
    Ok(HostileReport {
        sql_mode,
        strict,
        round_trips,
        edges,
        not_strict,
    })
}

fn tally_one(err: Option<&sqlx::Error>) -> BTreeMap<Failure, u64> {
    err.map(|e| BTreeMap::from([(classify(e), 1)]))
        .unwrap_or_default()
}

/// 50 and then 51 four-byte emoji through each library: stored, or refused.
async fn length_edges(
    pool: &MySqlPool,
    diesel_conn: &mut diesel_async::AsyncMysqlConnection,
) -> Result<Vec<Edge>> {
    let mut edges = Vec::new();
    for chars in [BODY_CHARS, BODY_CHARS + 1] {
        let body = vec!["😀".repeat(chars)];
        let sqlx_said = write_with_sqlx(pool, "edge", &body)
            .await
            .map_err(|e| (Some(classify(&e)), e.to_string()));
        let sea_said = write_with_sea_query(pool, &body).await.map_err(|e| {
            let failure = e.downcast_ref::<sqlx::Error>().map(classify);
            (failure, e.to_string())
        });
        let diesel_said = write_with_diesel(diesel_conn, &body)
            .await
            .map_err(|e| (None, e.to_string()));
        for (via, outcome) in [
            ("sqlx", sqlx_said),
            ("sea-query", sea_said),
            ("diesel", diesel_said),
        ] {
            edges.push(Edge {
                chars,
                via,
                refused: outcome.err(),
            });
        }
    }
    Ok(edges)
}

/// What 51 characters do on one session whose `sql_mode` is emptied (and closed after).
async fn not_strict(url: &str) -> Result<Loose> {
    let mut conn = crate::connect_one(url).await?;
    sqlx::query("SET SESSION sql_mode = ''")
        .execute(&mut conn)
        .await?;
    let done =
        sqlx::query("INSERT INTO lesson5_strings (via, k, body) VALUES ('loose', 0, ?)")
            .bind("x".repeat(BODY_CHARS + 1))
            .execute(&mut conn)
            .await;
    let loose = match done {
        Ok(_) => {
            // NOTE: MySQL refuses to prepare `SELECT @@warning_count` (error 1295), and
            // sqlx prepares every `query`; `raw_sql` sends it as plain text, which both
            // servers take.
            let row = sqlx::raw_sql("SELECT @@warning_count")
                .fetch_one(&mut conn)
                .await?;
            let warnings: u64 = row.try_get(0)?;
            let stored_chars: i64 = sqlx::query_scalar(
                "SELECT CHAR_LENGTH(body) FROM lesson5_strings WHERE via = 'loose'",
            )
            .fetch_one(&mut conn)
            .await?;
            Loose::Stored {
                warnings,
                stored_chars,
            }
        }
        Err(e) => Loose::Refused(e.to_string()),
    };
    sqlx::query("DELETE FROM lesson5_strings WHERE via = 'loose'")
        .execute(&mut conn)
        .await?;
    conn.close().await.ok();
    Ok(loose)
}

/// Step 7's report: the round trips, the length edges, and the non-strict control.
pub async fn run(ctx: &crate::Ctx) -> Result<HostileReport> {
    hostile_input(&ctx.pool, &ctx.url, ctx.sizes.strings as usize)
        .await
        .context("the hostile-input step failed")
}

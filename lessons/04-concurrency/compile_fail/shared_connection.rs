// ANCHOR: shared_connection
use sqlx::MySqlConnection;

// Two queries on one connection at the same time: the second needs `&mut *conn` while the
// first still holds it.
async fn two_queries_at_once(conn: &mut MySqlConnection) -> Result<(), sqlx::Error> {
    let first = sqlx::query("SELECT SLEEP(1)").execute(&mut *conn);
    let second = sqlx::query("SELECT SLEEP(1)").execute(&mut *conn);
    futures::future::try_join(first, second).await?;
    Ok(())
}
// ANCHOR_END: shared_connection

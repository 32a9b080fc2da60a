"""Lesson 1, the SQLAlchemy side: plain SQL with text() on an asyncio engine.

The twin of the Rust lesson's steps (src/s1_connect.rs ... src/s9_close.rs), step for
step, with SQLAlchemy 2.x and the asyncmy driver. Step 8, SQL checked when the program
compiles, has no Python twin. Run it with `just python 1`, or from the workbook's root
with DATABASE_URL set and shared/python (the twins' shared plumbing) on PYTHONPATH:

    PYTHONPATH=shared/python DATABASE_URL=mysql://root@127.0.0.1:3306/sales \\
        python lessons/01-plain-sql/python/plain_sql.py

Set SQLALCHEMY_ECHO=1 to log every statement on stderr.
"""

import asyncio
import logging
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

import twin
from sqlalchemy import event, exc, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

# Step 1: an engine, with each pool option spelled out, and the statement log.

# NOTE: MySQL 8+'s caching_sha2_password takes a user's password on the first login
# (before the server caches it) only over TLS or encrypted with the server's RSA key.
# asyncmy uses TLS only when given `ssl`, and needs the `cryptography` package for the RSA
# way; without it that first login fails. MariaDB's mysql_native_password needs neither.


# ANCHOR: connect
def connect(url: URL) -> AsyncEngine:
    """The lesson's engine on `url` (mysql+asyncmy://...), each pool option spelled
    out. It opens no connection yet: the first `connect()` or `begin()` does."""
    return create_async_engine(
        url,
        # At most 5 connections open at once: 5 kept in the pool, none beyond them.
        pool_size=5,
        max_overflow=0,
        # Wait at most 5 s for a free connection, then raise exc.TimeoutError.
        pool_timeout=5,
        # Replace a connection after 30 minutes, before the server's wait_timeout.
        pool_recycle=30 * 60,
        # Ping a connection before handing it out (off by default).
        pool_pre_ping=True,
    )
    # ANCHOR_END: connect


# ANCHOR: logging
def init_logging() -> None:
    """Sends SQLAlchemy's statement log to stderr: `echo=True`, without the handler on
    stdout that `echo` installs. SQLALCHEMY_ECHO=1 logs each statement and its
    parameters (INFO), SQLALCHEMY_ECHO=debug the rows too; unset, only warnings."""
    levels = {"": logging.WARNING, "1": logging.INFO, "debug": logging.DEBUG}
    echo = os.environ.get("SQLALCHEMY_ECHO", "")
    if echo not in levels:
        raise ValueError("SQLALCHEMY_ECHO must be 1 or debug; try SQLALCHEMY_ECHO=1")
    logging.basicConfig(
        stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The engine logs on "sqlalchemy.engine" (the pool on "sqlalchemy.pool").
    logging.getLogger("sqlalchemy.engine").setLevel(levels[echo])
    # asyncmy logs the server's notes as warnings, such as "Table 'customers' already
    # exists" after CREATE TABLE IF NOT EXISTS: shown only with the statements.
    logging.getLogger("asyncmy").setLevel(logging.WARNING if echo else logging.ERROR)
    # ANCHOR_END: logging


# ANCHOR: events
def connect_with_events(url: URL) -> AsyncEngine:
    """An engine listening to three pool events: "connect" on each new connection,
    "checkout" when the pool hands one out, "checkin" when one comes back. A checkout
    listener that raises DisconnectionError makes the pool discard that connection."""
    # Give up a connection that has served for an hour, rather than keep it.
    engine = create_async_engine(url, pool_size=2, max_overflow=0, pool_recycle=3600)

    @event.listens_for(engine.sync_engine, "connect")
    def set_time_zone(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        # Every session of this engine reads and writes times in UTC.
        cursor = dbapi_conn.cursor()
        cursor.execute("SET time_zone = '+00:00'")
        cursor.close()

    @event.listens_for(engine.sync_engine, "checkin")
    def note_idle(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def ping_if_idle(dbapi_conn: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
        # Hand out a connection idle for under a minute without a ping.
        idle_since = record.info.pop("idle_since", None)
        if idle_since is not None and time.monotonic() - idle_since >= 60:
            try:
                dbapi_conn.ping()
            except Exception as error:
                raise exc.DisconnectionError() from error

    return engine
    # ANCHOR_END: events


async def session_time_zone(engine: AsyncEngine) -> str:
    """The session time zone of a connection of `engine`."""
    async with engine.connect() as conn:
        return await conn.scalar(text("SELECT @@session.time_zone"))


# Step 2: the first query.


# ANCHOR: version
async def server_version(engine: AsyncEngine) -> str:
    """`SELECT VERSION()`."""
    async with engine.connect() as conn:
        return await conn.scalar(text("SELECT VERSION()"))
    # ANCHOR_END: version


# Step 3: the article's table, its seed row, and a class for its rows.


# ANCHOR: schema
async def create_schema(engine: AsyncEngine) -> None:
    """The article's DDL and its seed row, idempotent: a second run changes nothing."""
    async with engine.begin() as conn:  # COMMIT at the end of the block
        await conn.execute(
            text(
                """CREATE TABLE IF NOT EXISTS customers (
                     id SMALLINT NOT NULL AUTO_INCREMENT,
                     name VARCHAR(50) NOT NULL,
                     job VARCHAR(50) DEFAULT '',
                     PRIMARY KEY (id),
                     UNIQUE KEY UQ_name (name)
                   )"""
            )
        )
        # Unlike INSERT IGNORE, this spends no AUTO_INCREMENT value when Lynn is there.
        await conn.execute(
            text(
                """INSERT INTO customers (name, job)
                   SELECT 'Lynn', 'Backend Developer' FROM DUAL
                   WHERE NOT EXISTS (SELECT 1 FROM customers WHERE name = 'Lynn')"""
            )
        )
    # ANCHOR_END: schema


# ANCHOR: customer
@dataclass(frozen=True)
class Customer:
    """A row of the article's `customers` table."""

    id: int  # SMALLINT NOT NULL AUTO_INCREMENT
    name: str  # VARCHAR(50) NOT NULL
    job: str | None  # VARCHAR(50) DEFAULT '': nullable, so it may be None
    # ANCHOR_END: customer


# ANCHOR: all_customers
async def all_customers(engine: AsyncEngine) -> list[Customer]:
    """Every customer, by id: each row as a mapping, column name to value."""
    query = text("SELECT id, name, job FROM customers ORDER BY id")
    async with engine.connect() as conn:
        result = await conn.execute(query)
        return [Customer(**row) for row in result.mappings()]
    # ANCHOR_END: all_customers


# Step 4: reading with bound parameters: many rows, one row, maybe a row, one value.


# ANCHOR: fetch_all
async def customers_with_job(engine: AsyncEngine, job: str) -> list[Customer]:
    """Every customer with this job: `all()` gives a list, empty when nothing matches."""
    query = text("SELECT id, name, job FROM customers WHERE job = :job ORDER BY id")
    async with engine.connect() as conn:
        result = await conn.execute(query, {"job": job})
        return [Customer(**row) for row in result.mappings().all()]
    # ANCHOR_END: fetch_all


# ANCHOR: fetch_one
async def customer_by_name(engine: AsyncEngine, name: str) -> Customer:
    """The customer named `name`, read column by column from a Row. `one()` raises
    NoResultFound when no row matches, and MultipleResultsFound when two do."""
    query = text("SELECT id, name, job FROM customers WHERE name = :name")
    async with engine.connect() as conn:
        row = (await conn.execute(query, {"name": name})).one()
    return Customer(id=row.id, name=row.name, job=row.job)
    # ANCHOR_END: fetch_one


# ANCHOR: fetch_optional
async def find_customer(engine: AsyncEngine, id: int) -> Customer | None:
    """The customer with this id, or None. `one_or_none()` raises on a second row;
    `first()` would take the first and discard the rest."""
    query = text("SELECT id, name, job FROM customers WHERE id = :id")
    async with engine.connect() as conn:
        row = (await conn.execute(query, {"id": id})).mappings().one_or_none()
    return None if row is None else Customer(**row)
    # ANCHOR_END: fetch_optional


# ANCHOR: query_scalar
async def count_customers(engine: AsyncEngine) -> int:
    """How many customers there are: `scalar_one()`, the one column of the one row."""
    async with engine.connect() as conn:
        result = await conn.execute(text("SELECT COUNT(*) FROM customers"))
        return result.scalar_one()
    # ANCHOR_END: query_scalar


# Step 5: writing: INSERT, UPDATE and DELETE, bound values, and the one place where SQL
# text is built at run time.


# ANCHOR: insert
async def insert_customer(conn: AsyncConnection, name: str, job: str | None) -> int:
    """Inserts a customer and returns its new id, the cursor's `lastrowid`.

    It runs on the caller's connection, so inside the caller's transaction: whether
    and when it is committed is the caller's choice."""
    result = await conn.execute(
        text("INSERT INTO customers (name, job) VALUES (:name, :job)"),
        # None is sent as NULL: the column's DEFAULT '' applies only when omitted.
        {"name": name, "job": job},
    )
    return result.lastrowid
    # ANCHOR_END: insert


# ANCHOR: update_delete
async def set_job(engine: AsyncEngine, id: int, job: str) -> int:
    """Sets the job of customer `id`, and says how many rows matched.

    NOTE: SQLAlchemy's MySQL dialects connect with CLIENT_FOUND_ROWS, as sqlx does, so
    MySQL and MariaDB count the rows the WHERE matched, even where nothing changed."""
    query = text("UPDATE customers SET job = :job WHERE id = :id")
    async with engine.begin() as conn:
        result = await conn.execute(query, {"job": job, "id": id})
    return result.rowcount


async def delete_customer(engine: AsyncEngine, id: int) -> int:
    """Deletes customer `id`, and says how many rows went."""
    query = text("DELETE FROM customers WHERE id = :id")
    async with engine.begin() as conn:
        result = await conn.execute(query, {"id": id})
    return result.rowcount
    # ANCHOR_END: update_delete


# ANCHOR: hostile
# A name written to end the statement and drop the table, if it were pasted into the SQL.
HOSTILE_NAME = "Robert'); DROP TABLE customers; --"
# ANCHOR_END: hostile


# ANCHOR: sort_key
class SortKey(Enum):
    """The columns a caller may sort the customers by. Only these fixed strings can
    ever reach the SQL."""

    NAME = "name"
    JOB = "job"
    # ANCHOR_END: sort_key


# ANCHOR: sorted
async def customers_sorted(
    engine: AsyncEngine, key: SortKey, descending: bool
) -> list[Customer]:
    """Every customer, sorted by `key` (in descending order if `descending`), then by id.

    A column name cannot be a bound parameter (ORDER BY :key sorts by a constant), so
    this SQL is built at run time; `text()` takes any string, and checks nothing."""
    direction = "DESC" if descending else "ASC"
    # Safe: both parts come from the fixed strings above, never from input.
    sql = f"SELECT id, name, job FROM customers ORDER BY {key.value} {direction}, id"
    async with engine.connect() as conn:
        result = await conn.execute(text(sql))
        return [Customer(**row) for row in result.mappings()]
    # ANCHOR_END: sorted


async def name_of(engine: AsyncEngine, id: int) -> str | None:
    """The name of a customer, by the id that insert_customer returned."""
    query = text("SELECT name FROM customers WHERE id = :id")
    async with engine.connect() as conn:
        return (await conn.execute(query, {"id": id})).scalar_one_or_none()


# Step 6: transactions: both rows or neither, a savepoint, and isolation levels.


# ANCHOR: both_or_neither
@dataclass(frozen=True)
class Committed:
    """Both rows were committed; their new ids."""

    ids: list[int]


@dataclass(frozen=True)
class RolledBack:
    """A name was taken: the transaction was rolled back and neither row stayed."""

    duplicate: str  # the name that was already there
    sqlstate: str | None  # the SQLSTATE, 23000 for any integrity error
    number: int  # MySQL's own error number, 1062 (ER_DUP_ENTRY) for a duplicate key


BothOrNeither = Committed | RolledBack

# ER_DUP_ENTRY, and ER_DUP_ENTRY_WITH_KEY_NAME, which some statements raise instead.
DUPLICATE_KEY = frozenset({1062, 1586})
# ANCHOR_END: both_or_neither


# ANCHOR: insert_both
async def insert_both(
    engine: AsyncEngine, first: tuple[str, str], second: tuple[str, str]
) -> BothOrNeither:
    """Inserts two customers in one transaction: both, or neither."""
    ids: list[int] = []
    try:
        # COMMIT when the block ends; ROLLBACK when an exception leaves it.
        async with engine.begin() as conn:
            for name, job in (first, second):
                ids.append(await insert_customer(conn, name, job))
    except exc.IntegrityError as error:
        # IntegrityError is any integrity error: a duplicate, a foreign key, a NULL.
        number, _message = error.orig.args
        if number not in DUPLICATE_KEY:
            raise
        # `name` is the one whose insert failed; the transaction is rolled back.
        return RolledBack(duplicate=name, sqlstate=error.orig.sqlstate, number=number)
    return Committed(ids)
    # ANCHOR_END: insert_both


# ANCHOR: dropped_transaction
class Abandon(Exception):
    """Raised to leave a transaction the way any error would."""


async def drop_a_transaction(engine: AsyncEngine, name: str) -> tuple[int, int]:
    """Inserts `name` in a transaction that an exception leaves. Returns how many rows
    named `name` the connection saw inside the transaction, then after it."""
    inside = 0
    async with engine.connect() as conn:
        try:
            async with conn.begin():
                await insert_customer(conn, name, "Never Committed")
                inside = await count_named(conn, name)
                raise Abandon()  # the block sends ROLLBACK, and awaits it, as it exits
        except Abandon:
            pass
        # The same connection, so the same session, which would see its own
        # uncommitted row.
        after = await count_named(conn, name)
    return inside, after
    # ANCHOR_END: dropped_transaction


# ANCHOR: savepoint
async def nested_rollback(engine: AsyncEngine, kept: str, undone: str) -> list[int]:
    """Inserts `kept` in a transaction, then `undone` in a transaction nested inside it,
    which rolls back. `begin_nested()` sends SAVEPOINT, and its rollback ROLLBACK TO
    SAVEPOINT. Returns each row's count afterwards."""
    async with engine.begin() as conn:
        await insert_customer(conn, kept, None)
        nested = await conn.begin_nested()
        await insert_customer(conn, undone, None)
        await nested.rollback()
    async with engine.connect() as conn:
        return [await count_named(conn, kept), await count_named(conn, undone)]
    # ANCHOR_END: savepoint


# ANCHOR: isolation
class Isolation(StrEnum):
    """The isolation levels the lesson compares, as SQLAlchemy spells them."""

    # InnoDB's default: every read in a transaction sees the same snapshot.
    REPEATABLE_READ = "REPEATABLE READ"
    # Each read sees what was committed before it.
    READ_COMMITTED = "READ COMMITTED"
    # ANCHOR_END: isolation


# ANCHOR: two_reads
async def two_reads(engine: AsyncEngine, level: Isolation, name: str) -> list[int]:
    """Counts the customers twice in one transaction at `level`, while another
    connection inserts `name` and commits in between. Returns both counts."""
    count = text("SELECT COUNT(*) FROM customers")
    async with engine.connect() as conn:
        # This connection only: the pool sets the level back when it comes back.
        await conn.execution_options(isolation_level=level.value)
        async with conn.begin():
            first = (await conn.execute(count)).scalar_one()
            # Another connection from the pool, committed when its block ends.
            async with engine.begin() as other:
                new_id = await insert_customer(other, name, None)
            second = (await conn.execute(count)).scalar_one()
    await delete_customer(engine, new_id)
    return [first, second]
    # ANCHOR_END: two_reads


async def count_named(conn: AsyncConnection, name: str) -> int:
    """How many customers are named `name`: 0 or 1, since names are unique."""
    query = text("SELECT COUNT(*) FROM customers WHERE name = :name")
    return (await conn.execute(query, {"name": name})).scalar_one()


# Step 7: streaming 10,000 rows, one at a time.

STREAM_ROWS = 10_000  # How many rows step 7 streams.
STREAM_JOBS = (  # The jobs the streamed rows cycle through.
    "Backend Developer",
    "Data Engineer",
    "Frontend Developer",
    "Site Reliability Engineer",
)


# ANCHOR: seed
async def seed_stream_rows(engine: AsyncEngine) -> int:
    """Puts STREAM_ROWS rows named stream-00001 ... into the shared bench_customers
    table, unless an earlier run did. Returns how many such rows the table holds."""
    if await count_stream_rows(engine) == STREAM_ROWS:
        return STREAM_ROWS  # Seeded by an earlier run.
    rows = [
        {"name": f"stream-{n:05}", "job": STREAM_JOBS[n % len(STREAM_JOBS)]}
        for n in range(1, STREAM_ROWS + 1)
    ]
    # Rows left by an interrupted earlier run stay as they are.
    insert = text(
        "INSERT INTO bench_customers (name, job) VALUES (:name, :job)"
        " ON DUPLICATE KEY UPDATE id = id"
    )
    async with engine.begin() as conn:
        # A list of parameter sets is an executemany: asyncmy rewrites it into
        # multi-row INSERTs, 1,000 rows to a statement here.
        for start in range(0, STREAM_ROWS, 1_000):
            await conn.execute(insert, rows[start : start + 1_000])
    return await count_stream_rows(engine)
    # ANCHOR_END: seed


async def count_stream_rows(engine: AsyncEngine) -> int:
    query = text("SELECT COUNT(*) FROM bench_customers WHERE name LIKE 'stream-%'")
    async with engine.connect() as conn:
        return (await conn.execute(query)).scalar_one()


# ANCHOR: bench_customer
@dataclass(frozen=True)
class BenchCustomer:
    """A row of bench_customers: the same columns as customers, with an INT id."""

    id: int  # INT NOT NULL AUTO_INCREMENT
    name: str  # VARCHAR(50) NOT NULL
    job: str | None  # VARCHAR(50) DEFAULT ''
    # ANCHOR_END: bench_customer


# ANCHOR: stream
async def stream_rows(engine: AsyncEngine) -> "StreamSummary":
    """Reads the streamed rows one at a time, from a server-side cursor: SQLAlchemy
    fetches them from the driver `yield_per` rows at a time, and holds no more."""
    query = text(
        "SELECT id, name, job FROM bench_customers WHERE name LIKE 'stream-%' ORDER BY id"
    )
    summary = StreamSummary()
    async with engine.connect() as conn:
        result = await conn.stream(query, execution_options={"yield_per": 1_000})
        async for row in result.mappings():
            customer = BenchCustomer(**row)
            summary.rows += 1
            summary.by_job[customer.job or ""] += 1
            summary.last_name = customer.name
    return summary
    # ANCHOR_END: stream


@dataclass
class StreamSummary:
    """What stream_rows saw."""

    rows: int = 0  # How many rows came through.
    by_job: Counter[str] = field(default_factory=Counter)  # Rows per job.
    last_name: str = ""  # The last name, in id order.


async def remove_stream_rows(engine: AsyncEngine) -> None:
    """Deletes the rows seed_stream_rows added."""
    query = text("DELETE FROM bench_customers WHERE name LIKE 'stream-%'")
    async with engine.begin() as conn:
        await conn.execute(query)


# Plumbing: each step's report, printed as the lines the book shows, then main().


def step(number: int, title: str) -> None:
    global current_step
    current_step = f"step {number}, {title}"
    print(f"\n== Step {number}: {title} ==", flush=True)


async def step_1(engine: AsyncEngine, url: URL) -> None:
    step(1, "Connect")
    # The engine is lazy: this is the first connection it opens.
    async with engine.connect() as conn:
        database = await conn.scalar(text("SELECT DATABASE()"))
    pool: Any = engine.pool
    print(f"connected to database `{database}`")
    # Only size() and timeout() are public; the other settings are read as stored.
    print(
        f"pool: pool_size {pool.size()}, max_overflow {pool._max_overflow}, "
        f"pool_timeout {pool.timeout():g} s, pool_recycle {pool._recycle // 60} min, "
        f"pool_pre_ping {pool._pre_ping}"
    )
    with_events = connect_with_events(url)
    try:
        zone = await session_time_zone(with_events)
    finally:
        await with_events.dispose()
    print(f"an engine with a connect listener: session time_zone {zone}")


async def step_2(engine: AsyncEngine) -> None:
    step(2, "SELECT VERSION()")
    print(await server_version(engine))


async def step_3(engine: AsyncEngine) -> None:
    step(3, "The article's schema")
    await create_schema(engine)
    for customer in await all_customers(engine):
        print(customer)


async def step_4(engine: AsyncEngine) -> None:
    step(4, "Queries with bound parameters")
    developers = await customers_with_job(engine, "Backend Developer")
    print(f"all(), job = 'Backend Developer': {developers}")
    lynn = await customer_by_name(engine, "Lynn")
    print(f"one(), name = 'Lynn': {lynn}")
    print(f"one_or_none(), Lynn's id: {await find_customer(engine, lynn.id)}")
    print(f"one_or_none(), id = -1: {await find_customer(engine, -1)}")
    print(f"scalar_one(), COUNT(*): {await count_customers(engine)}")


async def step_5(engine: AsyncEngine) -> None:
    step(5, "Writing")
    async with engine.begin() as conn:
        ada = await insert_customer(conn, "Ada Lovelace", "Analyst")
    print(f"inserted; lastrowid is the id of {await name_of(engine, ada)!r}")
    updated = await set_job(engine, ada, "Programmer")
    print(f"UPDATE ... SET job = 'Programmer': rowcount = {updated}")
    again = await set_job(engine, ada, "Programmer")
    print(f"the same UPDATE again, nothing to change: rowcount = {again}")
    async with engine.begin() as conn:
        robert = await insert_customer(conn, HOSTILE_NAME, None)
    stored = await name_of(engine, robert)
    print(f"bound, the hostile name is stored verbatim: {stored!r}")
    customers = await count_customers(engine)
    print(
        f"it round-trips exactly: {stored == HOSTILE_NAME}; "
        f"the table is still there: {customers} customers"
    )
    names = [c.name for c in await customers_sorted(engine, SortKey.NAME, True)]
    print(f"f-string from a closed set, ORDER BY name DESC: {names}")
    # Clean up: this run's rows only, by the ids it got back.
    deleted = await delete_customer(engine, ada) + await delete_customer(engine, robert)
    print(f"DELETE both by id: rowcount = {deleted}")


async def step_6(engine: AsyncEngine) -> None:
    step(6, "Transactions")
    grace = ("Grace Hopper", "Compiler Engineer")
    margaret = ("Margaret Hamilton", "Flight Software Lead")
    committed = await insert_both(engine, grace, margaret)
    async with engine.connect() as conn:
        rows = [await count_named(conn, name) for name, _ in (grace, margaret)]
    print(f"committed: Grace Hopper {rows[0]} row, Margaret Hamilton {rows[1]} row")
    if isinstance(committed, Committed):
        for id in committed.ids:
            await delete_customer(engine, id)
    failed = await insert_both(
        engine, ("Katherine Johnson", "Mathematician"), ("Lynn", "Backend Developer")
    )
    print(f"the second insert hit a duplicate: {failed}")
    async with engine.connect() as conn:
        left = await count_named(conn, "Katherine Johnson")
    print(f"rows named Katherine Johnson after the rollback: {left}")
    inside, after = await drop_a_transaction(engine, "Hedy Lamarr")
    print(
        f"left by an exception: Hedy Lamarr seen {inside} time(s) inside, "
        f"{after} after the rollback"
    )
    kept, undone = await nested_rollback(engine, "Barbara Liskov", "Frances Allen")
    print(
        f"nested transaction rolled back: Barbara Liskov {kept} row, "
        f"Frances Allen {undone}"
    )
    async with engine.begin() as conn:
        await conn.execute(
            text("DELETE FROM customers WHERE name = :name"), {"name": "Barbara Liskov"}
        )
    rr1, rr2 = await two_reads(engine, Isolation.REPEATABLE_READ, "Alan Turing")
    rc1, rc2 = await two_reads(engine, Isolation.READ_COMMITTED, "Alan Turing")
    print("customers counted twice, another connection inserting between:")
    print(f"  REPEATABLE READ: {rr1} then {rr2}")
    print(f"  READ COMMITTED:  {rc1} then {rc2}")


async def step_7(engine: AsyncEngine) -> None:
    step(7, "Streaming")
    # Rows that an earlier run left are used, and left; rows this run adds, it removes.
    seeded_here = await count_stream_rows(engine) != STREAM_ROWS
    if seeded_here:
        print(f"seeding {STREAM_ROWS} rows in bench_customers", file=sys.stderr)
    try:
        seeded = await seed_stream_rows(engine)
        print(f"bench_customers holds {seeded} rows named stream-*")
        summary = await stream_rows(engine)
    finally:
        if seeded_here:
            await remove_stream_rows(engine)
    print(f"streamed {summary.rows} rows, one at a time (yield_per 1000)")
    for job, rows in sorted(summary.by_job.items()):
        print(f"  {job}: {rows}")
    print(f"last row: {summary.last_name}")


async def step_9(engine: AsyncEngine) -> None:
    step(9, "Close the pool")
    await engine.dispose()
    pool: Any = engine.pool  # a new, empty pool: the engine could open connections again
    left = pool.checkedin() + pool.checkedout()
    print(f"await engine.dispose(): {left} connections left open")


PROGRAM = os.path.basename(__file__)
current_step = ""  # the step that runs, for the error line


async def run(url: URL) -> None:
    engine = connect(url)
    try:
        await step_1(engine, url)
        await step_2(engine)
        await step_3(engine)
        await step_4(engine)
        await step_5(engine)
        await step_6(engine)
        await step_7(engine)
        # Step 8, SQL checked when the program compiles, has no twin in Python.
        await step_9(engine)
    finally:
        await engine.dispose()


def main() -> int:
    def run_all() -> None:
        url = twin.database_url("just python 1")
        init_logging()
        asyncio.run(run(url))

    return twin.main(PROGRAM, run_all, where=lambda: current_step)


if __name__ == "__main__":
    sys.exit(main())

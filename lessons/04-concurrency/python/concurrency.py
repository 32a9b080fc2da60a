"""Lesson 4, the SQLAlchemy side: many tasks at once.

The article's concurrency, with SQLAlchemy 2.x asyncio and asyncmy: IO-bound queries one
after another, then at once with asyncio.gather, an AsyncSession (or a connection) a task,
the pool's size against the ideal, an exhausted pool, bounded fan-out, and a query that
outlives its timeout. Step 7 (the other Rust stacks) has no Python twin.

Run it with `just python 4`, or with DATABASE_URL=mysql://user[:password]@host:port/db and
shared/python on PYTHONPATH.
"""

import argparse
import asyncio
import math
import secrets
import sys
import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import twin
from sqlalchemy import Row, SmallInteger, String, delete, exc, select, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Customer(Base):
    """The article's table, as the mixed workload of step 1 writes and reads it."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    job: Mapped[str | None] = mapped_column(String(50), server_default="")


@dataclass(frozen=True)
class Workload:
    """N queries that each sleep t on the server."""

    queries: int
    sleep_ms: int

    @property
    def sleep(self) -> float:
        """t, in seconds, as SLEEP() takes it."""
        return self.sleep_ms / 1000

    def rounds(self, pool_size: int) -> int:
        """A pool of P runs N queries in ceil(N/P) rounds of t."""
        return math.ceil(self.queries / pool_size)

    def ideal_ms(self, pool_size: int) -> int:
        """The best wall time that P connections allow: ceil(N/P) x t."""
        return self.rounds(pool_size) * self.sleep_ms

    def expected(self) -> list[int]:
        """What every run must return: the task numbers 0..N, in order."""
        return list(range(self.queries))


# --- Step 1: sequential against concurrent ---------------------------------------------

# ANCHOR: sleepy_query
Sessions = async_sessionmaker[AsyncSession]  # makes an AsyncSession on the engine's pool
SLEEPY = text("SELECT CAST(:task AS SIGNED), CAST(SLEEP(:sleep) AS SIGNED)")


async def sleepy_query(sessions: Sessions, task: int, sleep: float) -> int:
    """One IO-bound query: the server sleeps for `sleep` seconds, then returns the
    task's number."""
    # Each call opens its own AsyncSession: it takes a connection from the pool for the
    # query and gives it back when the session closes.
    async with sessions() as session:
        row = (await session.execute(SLEEPY, {"task": task, "sleep": sleep})).one()
        return int(row[0])
    # ANCHOR_END: sleepy_query


# ANCHOR: sequential
async def run_sequential(sessions: Sessions, work: Workload) -> list[int]:
    """The N queries one after another: each waits for the one before it."""
    return [await sleepy_query(sessions, t, work.sleep) for t in range(work.queries)]
    # ANCHOR_END: sequential


# ANCHOR: join_all
async def run_gather(sessions: Sessions, work: Workload) -> list[int]:
    """The N queries as N coroutines that asyncio.gather runs together: the results
    come back in the order of the coroutines."""
    queries = (sleepy_query(sessions, t, work.sleep) for t in range(work.queries))
    return await asyncio.gather(*queries)
    # ANCHOR_END: join_all


# ANCHOR: join_set
async def run_task_group(sessions: Sessions, work: Workload) -> list[int]:
    """The N queries as N tasks in a TaskGroup: if one fails, the group cancels the
    others and raises when they are done."""
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(sleepy_query(sessions, t, work.sleep))
            for t in range(work.queries)
        ]
    return [task.result() for task in tasks]
    # ANCHOR_END: join_set


# ANCHOR: buffer_unordered
async def run_as_completed(sessions: Sessions, work: Workload, limit: int) -> list[int]:
    """The N queries with at most `limit` in flight at once, taken as they finish, so
    the results are sorted."""
    permits = asyncio.Semaphore(limit)

    async def bounded(task: int) -> int:
        async with permits:
            return await sleepy_query(sessions, task, work.sleep)

    queries = [bounded(t) for t in range(work.queries)]
    return sorted([await done for done in asyncio.as_completed(queries)])
    # ANCHOR_END: buffer_unordered


# ANCHOR: sized_pool
async def sized_pool(url: URL, size: int, acquire_timeout: float = 30.0) -> AsyncEngine:
    """An engine whose pool holds exactly `size` connections, opened before it is
    returned, so that the timings below measure queries, not connection set-up."""
    engine = create_async_engine(
        url,
        pool_size=size,  # connections the pool keeps open
        max_overflow=0,  # no extra connections beyond pool_size when all are busy
        pool_timeout=acquire_timeout,  # seconds to wait for a free one, then raise
    )
    held = [await engine.connect() for _ in range(size)]
    for conn in held:
        await conn.execute(text("SELECT 1"))
    for conn in held:
        await conn.close()  # back to the pool, after a ROLLBACK
    return engine
    # ANCHOR_END: sized_pool


# NOTE: on MariaDB (10.5 and later) SQLAlchemy flushes the INSERT as INSERT ... RETURNING;
# on MySQL, which has no RETURNING, the new id comes from the server's OK packet.
# ANCHOR: mixed_task
async def mixed_task(sessions: Sessions, run: str, task: int) -> Customer:
    """A realistic task: insert a customer, then read it back by primary key, in the
    task's own AsyncSession (one transaction, committed when the block ends)."""
    async with sessions.begin() as session:
        customer = Customer(name=task_customer_name(run, task), job=f"job {task}")
        session.add(customer)
        await session.flush()  # the INSERT: the server hands back the new id
        found = select(Customer).where(Customer.id == customer.id)
        return (await session.scalars(found)).one()
    # ANCHOR_END: mixed_task


def task_customer_name(run: str, task: int) -> str:
    """`lesson-4 task 004 (run 5f3a9c1e)`: every run has a tag of its own, so no run
    inserts a name that an earlier run deleted a moment ago (see the chapter)."""
    return f"lesson-4 task {task:03} (run {run})"


def task_label(name: str) -> str:
    """A mixed workload's name without its run tag: `lesson-4 task 004`."""
    return name.split(" (run ")[0]


async def mixed_sequential(sessions: Sessions, run: str, tasks: int) -> list[Customer]:
    """The mixed workload, `tasks` tasks one after another."""
    return [await mixed_task(sessions, run, task) for task in range(tasks)]


async def mixed_gather(sessions: Sessions, run: str, tasks: int) -> list[Customer]:
    """The mixed workload, `tasks` tasks at once; the rows come back in task order."""
    return await asyncio.gather(*(mixed_task(sessions, run, t) for t in range(tasks)))


async def delete_customers(sessions: Sessions, customers: list[Customer]) -> int:
    """Deletes the customers the mixed workload inserted, by id: only those rows."""
    async with sessions.begin() as session:
        gone = delete(Customer).where(Customer.id.in_([c.id for c in customers]))
        result = await session.execute(gone.execution_options(synchronize_session=False))
        return result.rowcount


async def delete_leftover_task_customers(sessions: Sessions) -> None:
    """Deletes what an interrupted earlier run may have left: the rows named
    `lesson-4 task NNN (run TAG)`, and only those."""
    async with sessions.begin() as session:
        gone = delete(Customer).where(Customer.name.like("lesson-4 task % (run %)"))
        await session.execute(gone.execution_options(synchronize_session=False))


# --- Step 2: one connection per task ----------------------------------------------------


# ANCHOR: one_connection_per_task
async def connection_ids_of_tasks(sessions: Sessions, work: Workload) -> set[int]:
    """N tasks, each with its own AsyncSession for as long as it works: returns the
    distinct CONNECTION_ID()s the tasks saw."""

    async def task() -> int:
        # The task's session: every statement below runs on its one connection.
        async with sessions() as session:
            conn_id = await session.scalar(text("SELECT CONNECTION_ID()"))
            await session.execute(text("SELECT SLEEP(:t)"), {"t": work.sleep})
            return int(conn_id)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(task()) for _ in range(work.queries)]
    return {t.result() for t in tasks}
    # ANCHOR_END: one_connection_per_task


# ANCHOR: shared_connection
async def share_one_session(
    sessions: Sessions, work: Workload, connected: bool
) -> list[Any]:
    """DON'T: N gathered queries on ONE AsyncSession. Returns each query's connection
    id, or the exception it raised. `connected`: the session has its connection."""
    async with sessions() as session:
        if connected:
            await session.execute(text("SELECT 1"))
        query = text("SELECT CONNECTION_ID(), SLEEP(:t)")
        outcomes = await asyncio.gather(
            *(session.execute(query, {"t": work.sleep}) for _ in range(work.queries)),
            return_exceptions=True,  # let every query finish before the session closes
        )
    return [o if isinstance(o, BaseException) else o.one()[0] for o in outcomes]
    # ANCHOR_END: shared_connection


# --- Step 3: the pool's size bounds concurrency ----------------------------------------

# ANCHOR: pool_sizes
POOL_SIZES = (1, 2, 5, 10, 20)


async def time_pool_sizes(url: URL, work: Workload) -> list[tuple[int, float]]:
    """The same N queries with asyncio.gather, on a fresh pool of each size in turn:
    the wall time of each run, in seconds."""
    walls: list[tuple[int, float]] = []
    for size in POOL_SIZES:
        engine = await sized_pool(url, size)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        started = time.perf_counter()
        rows = await run_gather(sessions, work)
        walls.append((size, time.perf_counter() - started))
        await engine.dispose()
        if rows != work.expected():
            raise RuntimeError(f"a pool of {size} returned other rows than 0..N")
    return walls
    # ANCHOR_END: pool_sizes


# --- Step 4: pool exhaustion ------------------------------------------------------------


@dataclass
class Exhaustion:
    """What a third connect saw with two connections of a pool of two held."""

    waited: float
    error: exc.TimeoutError | None
    recovered: bool


# ANCHOR: exhaustion
async def exhaust_pool(url: URL, acquire_timeout: float) -> Exhaustion:
    """A pool of 2, two transactions held open, and a third connect that cannot be
    served."""
    engine = await sized_pool(url, 2, acquire_timeout)
    # Two tasks each hold a transaction, and so a connection, without finishing.
    first, second = await engine.connect(), await engine.connect()
    await first.begin()
    await second.begin()

    started, error = time.perf_counter(), None
    try:
        async with engine.connect():
            pass
    except exc.TimeoutError as e:  # sqlalchemy.exc.TimeoutError, not the builtin one
        error = e
    waited = time.perf_counter() - started

    # Ending the transactions gives their connections back; the pool serves again.
    for conn in (first, second):
        await conn.rollback()
        await conn.close()
    async with engine.connect() as conn:
        recovered = await conn.scalar(text("SELECT 1")) == 1
    await engine.dispose()
    return Exhaustion(waited, error, recovered)
    # ANCHOR_END: exhaustion


# ANCHOR: max_overflow
async def overflow(url: URL, acquire_timeout: float) -> tuple[bool, bool, int]:
    """pool_size=2 with max_overflow=1: a third connection is opened on demand, a
    fourth times out. Returns (third opened, fourth timed out, kept idle after)."""
    engine = create_async_engine(
        url, pool_size=2, max_overflow=1, pool_timeout=acquire_timeout
    )
    held = [await engine.connect() for _ in range(3)]  # the third is an overflow
    try:
        async with engine.connect():
            fourth_timed_out = False
    except exc.TimeoutError:
        fourth_timed_out = True
    for conn in held:
        await conn.close()  # the overflow connection is closed, not kept
    kept = engine.pool.checkedin()
    await engine.dispose()
    return len(held) == 3, fourth_timed_out, kept
    # ANCHOR_END: max_overflow


# --- Step 5: bounded fan-out ------------------------------------------------------------

FAN_OUT_POOL = 5


class HighWater:
    """Counts how many of something are alive now, and the most that ever were."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0

    @contextmanager
    def enter(self) -> Iterator[None]:
        """Counts one more for as long as the `with` block runs."""
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            yield
        finally:
            self.now -= 1


@dataclass
class FanOutStats:
    """What step 5 counts while it fans out (one event loop: no locks needed)."""

    items_alive: HighWater
    in_flight: HighWater
    longest_acquire: float = 0.0


# ANCHOR: fan_out_item
DOUBLE = text("SELECT CAST(:item AS SIGNED) * 2")


async def fan_out_item(engine: AsyncEngine, item: int, stats: FanOutStats) -> int:
    """One work item: a point query on a connection of its own, counted while it
    runs."""
    with stats.items_alive.enter():
        asked = time.perf_counter()
        async with engine.connect() as conn:
            waited = time.perf_counter() - asked
            stats.longest_acquire = max(stats.longest_acquire, waited)
            with stats.in_flight.enter():
                return await conn.scalar(DOUBLE, {"item": item})
    # ANCHOR_END: fan_out_item


# ANCHOR: bounded
async def bounded_fan_out(
    engine: AsyncEngine, items: int, limit: int, stats: FanOutStats
) -> int:
    """`items` work items, never more than `limit` alive at once: a task is created
    only when a semaphore permit is free. Returns the sum of the answers."""
    permits = asyncio.Semaphore(limit)
    answers: list[int] = []

    async def item_task(item: int) -> None:
        try:
            answers.append(await fan_out_item(engine, item, stats))
        finally:
            permits.release()

    # The group keeps no finished task: they do not pile up either.
    async with asyncio.TaskGroup() as group:
        for item in range(items):
            # Waits here, before the task exists, while `limit` items are running.
            await permits.acquire()
            group.create_task(item_task(item))
    return sum(answers)
    # ANCHOR_END: bounded


# ANCHOR: unbounded
async def unbounded_fan_out(engine: AsyncEngine, items: int, stats: FanOutStats) -> int:
    """`items` work items, all started at once: they queue inside the pool for a
    connection."""
    answers = await asyncio.gather(
        *(fan_out_item(engine, item, stats) for item in range(items))
    )
    return sum(answers)
    # ANCHOR_END: unbounded


# --- Step 6: timeouts and cancellation -------------------------------------------------

CANCELLED_CUSTOMER = "lesson-4 cancelled"
INSERT_CANCELLED = text("INSERT INTO customers (name, job) VALUES (:name, 'cancelled')")


# ANCHOR: time_out
async def time_out_in_a_transaction(conn: AsyncConnection, timeout: float) -> float:
    """On `conn`, a transaction inserts a row, then runs SELECT SLEEP(5) under
    asyncio.timeout. Returns how long the timeout took to give up, in seconds."""
    started = time.perf_counter()
    try:
        async with conn.begin():
            await conn.execute(INSERT_CANCELLED, {"name": CANCELLED_CUSTOMER})
            started = time.perf_counter()
            async with asyncio.timeout(timeout):
                await conn.execute(text("SELECT SLEEP(5)"))
    except TimeoutError:
        # The timeout cancelled the await in the middle of the statement. SQLAlchemy
        # saw the cancellation and invalidated the connection: it closed its socket,
        # and the connection never goes back to the pool. So leaving the `begin()`
        # block sent no ROLLBACK: the server still has the transaction open.
        return time.perf_counter() - started
    raise RuntimeError(f"SELECT SLEEP(5) finished within {timeout} s: nothing cancelled")
    # ANCHOR_END: time_out


# ANCHOR: server_thread
async def server_thread(engine: AsyncEngine, conn_id: int) -> Row[Any] | None:
    """The processlist row of connection `conn_id`, as another connection sees it.

    NOTE: MySQL 8 deprecates information_schema.processlist in favour of
    performance_schema.processlist; both still answer this query on MySQL 8.4 and
    MariaDB."""
    query = text(
        "SELECT COMMAND AS command, STATE AS state, INFO AS info "
        "FROM information_schema.processlist WHERE ID = :id"
    )
    async with engine.connect() as conn:
        return (await conn.execute(query, {"id": conn_id})).one_or_none()


async def open_transactions_of(engine: AsyncEngine, conn_id: int) -> int:
    """How many InnoDB transactions connection `conn_id` has open."""
    query = text(
        "SELECT COUNT(*) FROM information_schema.innodb_trx "
        "WHERE trx_mysql_thread_id = :id"
    )
    async with engine.connect() as conn:
        return await conn.scalar(query, {"id": conn_id})
    # ANCHOR_END: server_thread


# ANCHOR: kill_query
async def kill_if_running(
    engine: AsyncEngine, conn_id: int, thread: Row[Any] | None
) -> bool:
    """Stops the statement connection `conn_id` still runs, if `thread` shows one, with
    KILL QUERY from another connection. Returns whether it sent the KILL."""
    still_running = thread is not None and thread.info is not None
    if still_running:
        async with engine.connect() as conn:
            # KILL takes no bound parameter; the id is an int the server gave us, so
            # formatting it into the SQL is safe.
            await conn.execute(text(f"KILL QUERY {int(conn_id)}"))
    return still_running
    # ANCHOR_END: kill_query


@dataclass
class Cancellation:
    """What step 6 saw, in order."""

    gave_up_after: float
    invalidated: bool
    server_after_timeout: Row[Any] | None
    open_transactions_after_timeout: int
    killed: bool
    open_transactions_at_end: int
    inserted_row_kept: bool
    pool_answers: bool


# ANCHOR: cancellation
async def cancel_slow_query(engine: AsyncEngine, timeout: float) -> Cancellation:
    """Step 6, in order: a query times out in a transaction, the server is looked at
    from another connection, and the statement is killed there."""
    async with engine.connect() as conn:
        conn_id = await conn.scalar(text("SELECT CONNECTION_ID()"))
        await conn.commit()
        gave_up_after = await time_out_in_a_transaction(conn, timeout)
        invalidated = conn.invalidated
    # The server knows nothing of our timeout: the statement is still running there,
    # and the transaction still holds the row it inserted.
    thread = await server_thread(engine, conn_id)
    open_after_timeout = await open_transactions_of(engine, conn_id)
    killed = await kill_if_running(engine, conn_id, thread)
    return Cancellation(
        gave_up_after=gave_up_after,
        invalidated=invalidated,
        server_after_timeout=thread,
        open_transactions_after_timeout=open_after_timeout,
        killed=killed,
        open_transactions_at_end=await wait_for_no_transactions(engine, conn_id),
        inserted_row_kept=await count_named(engine, CANCELLED_CUSTOMER) > 0,
        pool_answers=await pool_answers(engine),
    )
    # ANCHOR_END: cancellation


async def count_named(engine: AsyncEngine, name: str) -> int:
    """How many customers are named `name`."""
    async with engine.connect() as conn:
        query = text("SELECT COUNT(*) FROM customers WHERE name = :name")
        return await conn.scalar(query, {"name": name})


async def pool_answers(engine: AsyncEngine) -> bool:
    """Whether the pool answers SELECT 1."""
    async with engine.connect() as conn:
        return await conn.scalar(text("SELECT 1")) == 1


async def wait_for_no_transactions(engine: AsyncEngine, conn_id: int) -> int:
    """Waits up to 5 s for connection `conn_id`'s transactions to end, and returns how
    many are still open.

    NOTE: InnoDB answers information_schema.innodb_trx from a cache that it refreshes
    only when the last read is more than 0.1 s old (MySQL and MariaDB alike), so
    polling it faster than that keeps reading the same stale rows."""
    deadline = time.perf_counter() + 5
    while True:
        await asyncio.sleep(0.15)
        still_open = await open_transactions_of(engine, conn_id)
        if still_open == 0 or time.perf_counter() > deadline:
            return still_open


# --- What the steps print (not part of the lesson's teaching) ---------------------------

MAX_POOL = 20
STEP_6_TIMEOUT = 0.5
T = TypeVar("T")


def step(number: int, title: str) -> None:
    print(f"\n== Step {number}: {title} ==", flush=True)


def yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def ms(seconds: float) -> str:
    """A measured time, one decimal, with its unit: `12.3 ms`."""
    return f"{seconds * 1000:.1f} ms"


async def timed(awaitable: Awaitable[T]) -> tuple[T, float]:
    """Awaits `awaitable` and returns its result with the wall time, in seconds."""
    started = time.perf_counter()
    result = await awaitable
    return result, time.perf_counter() - started


def describe(error: BaseException) -> str:
    """An exception as one line: its class, SQLAlchemy's error code, its message."""
    code = getattr(error, "code", None)
    name = type(error).__name__ + (f" ({code})" if code else "")
    message = error.args[0] if error.args else str(error)
    return f"{name}: {message}"


def timing_table(
    rows: list[tuple[str, int, int | None, float, int | None, bool]],
) -> None:
    print(
        f"{'strategy':<28} {'pool':>4} {'rounds':>6} {'wall':>11} {'ideal':>9}  same rows"
    )
    for name, pool, rounds, wall, ideal, same in rows:
        rounds_text = "-" if rounds is None else str(rounds)
        ideal_text = "-" if ideal is None else f"{ideal} ms"
        print(
            f"{name:<28} {pool:>4} {rounds_text:>6} {ms(wall):>11} {ideal_text:>9}"
            f"  {yes(same)}"
        )


async def step_1(url: URL, work: Workload) -> None:
    pool_size = min(work.queries, MAX_POOL)
    engine = await sized_pool(url, pool_size)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    print(
        f"{work.queries} queries of SELECT SLEEP({work.sleep}), "
        f"a pool of {pool_size} connections"
    )
    expected = work.expected()
    # One after another, N queries take N rounds: as many as on a pool of one.
    runs = [("sequential", await timed(run_sequential(sessions, work)), 1)]
    runs.append(("gather", await timed(run_gather(sessions, work)), pool_size))
    runs.append(("TaskGroup", await timed(run_task_group(sessions, work)), pool_size))
    limited = run_as_completed(sessions, work, pool_size)
    name = f"as_completed, Semaphore({pool_size})"
    runs.append((name, await timed(limited), pool_size))
    rows, at_least_ideal = [], True
    for name, (result, wall), at_once in runs:
        rounds, ideal = work.rounds(at_once), work.ideal_ms(at_once)
        at_least_ideal &= wall * 1000 >= ideal
        rows.append((name, pool_size, rounds, wall, ideal, result == expected))
    timing_table(rows)
    print(f"every run took at least its ideal, rounds x t: {yes(at_least_ideal)}")

    print(
        f"\na mixed workload: {work.queries} tasks, each an INSERT and a point SELECT "
        "in an AsyncSession of its own"
    )
    await delete_leftover_task_customers(sessions)
    seq_run, gather_run = secrets.token_hex(4), secrets.token_hex(4)
    seq_rows, seq_wall = await timed(mixed_sequential(sessions, seq_run, work.queries))
    await delete_customers(sessions, seq_rows)
    conc_rows, conc_wall = await timed(mixed_gather(sessions, gather_run, work.queries))
    await delete_customers(sessions, conc_rows)
    labels = [(task_label(c.name), c.job) for c in conc_rows]
    same = labels == [(task_label(c.name), c.job) for c in seq_rows]
    timing_table(
        [
            ("mixed, sequential", pool_size, None, seq_wall, None, True),
            ("mixed, gather", pool_size, None, conc_wall, None, same),
        ]
    )
    (first, first_job), (last, last_job) = labels[0], labels[-1]
    print(
        f"rows read back: {first} ({first_job}) ... {last} ({last_job}); "
        "all deleted again"
    )
    await engine.dispose()


async def step_2(url: URL, work: Workload) -> None:
    pool_size = min(work.queries, MAX_POOL)
    engine = await sized_pool(url, pool_size)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    ids = await connection_ids_of_tasks(sessions, work)
    print(
        f"{work.queries} tasks, a pool of {pool_size}: the tasks ran on {len(ids)} "
        "distinct connections (CONNECTION_ID())"
    )
    await engine.dispose()

    # A fresh engine: the shared session has to open its connection first.
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=0)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    outcomes = await share_one_session(sessions, work, connected=False)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    print(
        f"one AsyncSession shared by {work.queries} gathered queries, "
        "its connection not open yet:"
    )
    kinds = "".join(f" {kind}" for kind in sorted({describe(e) for e in errors}))
    print(f"  {len(outcomes) - len(errors)} ran, {len(errors)} raised{kinds}")
    outcomes, wall = await timed(share_one_session(sessions, work, connected=True))
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    serial = work.queries * work.sleep_ms
    print(
        f"one AsyncSession shared by {work.queries} gathered queries, "
        "its connection open:"
    )
    print(
        f"  {len(outcomes) - len(errors)} ran, on {len(set(outcomes))} connection, "
        f"one after another: {ms(wall)}, at least {work.queries} x {work.sleep_ms} ms: "
        f"{yes(wall * 1000 >= serial)}"
    )
    await engine.dispose()


async def step_3(url: URL, work: Workload) -> None:
    print(
        f"{work.queries} queries of SELECT SLEEP({work.sleep}); "
        "a pool of P runs them in ceil(N/P) rounds; ideal = rounds x t"
    )
    pool_size = min(work.queries, MAX_POOL)
    engine = await sized_pool(url, pool_size)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    sequential, wall = await timed(run_sequential(sessions, work))
    await engine.dispose()
    if sequential != work.expected():
        raise RuntimeError("the sequential run returned other rows than 0..N")
    # One after another, N queries take N rounds: as many as on a pool of one.
    rows = [("sequential", pool_size, 1, wall)]
    rows += [
        ("concurrent", size, size, wall)
        for size, wall in await time_pool_sizes(url, work)
    ]
    header = f"{'mode':<11} {'pool':>4} {'queries':>7} {'rounds':>6} {'ideal':>9}"
    print(f"{header} {'wall':>11}")
    at_least_ideal = True
    for mode, size, at_once, wall in rows:
        rounds, ideal = work.rounds(at_once), work.ideal_ms(at_once)
        at_least_ideal &= wall * 1000 >= ideal
        print(
            f"{mode:<11} {size:>4} {work.queries:>7} {rounds:>6} {f'{ideal} ms':>9} "
            f"{ms(wall):>11}"
        )
    print(f"every run took at least its ideal: {yes(at_least_ideal)}")


async def step_4(url: URL, acquire_timeout: float) -> None:
    print(
        "a pool of 2 (pool_size=2, max_overflow=0), 2 transactions held open, "
        f"pool_timeout = {acquire_timeout * 1000:.0f} ms"
    )
    exhausted = await exhaust_pool(url, acquire_timeout)
    if exhausted.error is None:
        raise RuntimeError("the third connect succeeded: the pool was not exhausted")
    print(f"third connect: after {ms(exhausted.waited)}: {describe(exhausted.error)}")
    print(
        "after both transactions ended, a connect succeeds again: "
        f"{yes(exhausted.recovered)}"
    )
    third, fourth_timed_out, kept = await overflow(url, acquire_timeout)
    print(
        f"pool_size=2, max_overflow=1: a third connection opens: {yes(third)}; "
        f"a fourth times out: {yes(fourth_timed_out)}"
    )
    print(f"once all are back, the pool keeps {kept} open: the overflow one is closed")


def status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> int | None:
    """Resets the kernel's peak-RSS mark (VmHWM) to the current resident size and
    returns that size in KiB. Linux only: None elsewhere."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return None
    return status_kib("VmRSS:")


async def measured_fan_out(
    mode: str, engine: AsyncEngine, items: int, expected: int
) -> int | None:
    stats = FanOutStats(HighWater(), HighWater())
    rss = reset_peak_rss()
    started = time.perf_counter()
    if mode == "bounded":
        total = await bounded_fan_out(engine, items, FAN_OUT_POOL, stats)
    else:
        total = await unbounded_fan_out(engine, items, stats)
    wall = time.perf_counter() - started
    peak = status_kib("VmHWM:")
    growth = None if rss is None or peak is None else max(peak - rss, 0)
    print(f"{mode}:")
    print(f"  sum of answers          {total} (expected: {yes(total == expected)})")
    print(f"  items alive at peak     {stats.items_alive.peak}")
    bounded_by_pool = yes(stats.in_flight.peak <= FAN_OUT_POOL)
    print(
        f"  queries in flight, peak {stats.in_flight.peak} "
        f"(at most the pool's {FAN_OUT_POOL}: {bounded_by_pool})"
    )
    print(f"  longest acquire wait {ms(stats.longest_acquire):>11}")
    print(f"  wall time            {ms(wall):>11}")
    print(
        f"concurrency.py: step 5, {mode}: peak RSS growth {growth} KiB", file=sys.stderr
    )
    return growth


async def step_5(url: URL, items: int) -> None:
    print(f"{items} work items (SELECT :item * 2), a pool of {FAN_OUT_POOL}")
    engine = await sized_pool(url, FAN_OUT_POOL)
    expected = sum(i * 2 for i in range(items))
    bounded = await measured_fan_out("bounded", engine, items, expected)
    unbounded = await measured_fan_out("unbounded", engine, items, expected)
    await engine.dispose()
    if bounded is None or unbounded is None:
        print("peak RSS growth: not measured (Linux only)")
    else:
        print(f"peak RSS growth, unbounded above bounded: {yes(unbounded > bounded)}")


async def step_6(url: URL) -> None:
    engine = await sized_pool(url, 2)
    print(
        "in a transaction: INSERT a customer, then SELECT SLEEP(5) under "
        f"asyncio.timeout({STEP_6_TIMEOUT})"
    )
    c = await cancel_slow_query(engine, STEP_6_TIMEOUT)
    await engine.dispose()
    print(f"the timeout fired after {ms(c.gave_up_after)}: the await was cancelled")
    thread = c.server_after_timeout
    if thread is None:
        print("the server shows no such connection")
    else:
        print(
            "the server still runs it: processlist "
            f"command={thread.command} state={thread.state} info={thread.info}"
        )
    print(
        "open InnoDB transactions on that connection: "
        f"{c.open_transactions_after_timeout}"
    )
    if c.killed:
        print("KILL QUERY <id> sent from another connection")
    if c.invalidated:
        print(
            "the connection: SQLAlchemy invalidated it when the await was cancelled: "
            "closed, not reused"
        )
    else:
        print("the connection: still valid: it went back to the pool")
    print(
        "open InnoDB transactions on that connection afterwards: "
        f"{c.open_transactions_at_end}"
    )
    print(
        f"the INSERT before the timeout was rolled back: {yes(not c.inserted_row_kept)}"
    )
    print(f"the pool still answers SELECT 1: {yes(c.pool_answers)}")


async def lesson(url: URL, args: argparse.Namespace) -> None:
    work = Workload(args.queries, args.sleep_ms)
    step(1, "Sequential against concurrent")
    await step_1(url, work)
    step(2, "One connection per task")
    await step_2(url, work)
    step(3, "Pool size bounds concurrency")
    await step_3(url, work)
    step(4, "Pool exhaustion")
    await step_4(url, args.acquire_timeout_ms / 1000)
    step(5, "Bounded fan-out")
    await step_5(url, args.items)
    step(6, "Timeouts and cancellation")
    await step_6(url)
    # Step 7 compares the Rust stacks (sqlx, sea-query, diesel-async): no Python twin.


PROGRAM = "concurrency.py"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=20, help="N (default 20)")
    parser.add_argument(
        "--sleep-ms",
        type=int,
        default=20,
        help="t in ms (default 20; the article's: 200)",
    )
    parser.add_argument("--items", type=int, default=1000, help="step 5's work items")
    parser.add_argument(
        "--acquire-timeout-ms", type=int, default=250, help="step 4's pool_timeout"
    )
    args = parser.parse_args()
    if not (1 <= args.queries <= 1000 and 1 <= args.sleep_ms <= 5000):
        parser.error("--queries must be 1..1000 and --sleep-ms 1..5000")
    if not (1 <= args.items <= 100_000 and 1 <= args.acquire_timeout_ms <= 60_000):
        parser.error("--items must be 1..100000 and --acquire-timeout-ms 1..60000")
    return args


def main() -> int:
    args = arguments()
    return twin.main(
        PROGRAM, lambda: asyncio.run(lesson(twin.database_url("just python 4"), args))
    )


if __name__ == "__main__":
    sys.exit(main())

"""Lesson 6's workloads W1 to W5 on SQLAlchemy: text(), Core and the ORM, on asyncmy.

`lesson-6 --python` runs this file on the lesson's database and merges its rows into the
Rust tables. It reads one JSON document on stdin (the counts, the workloads, the stacks,
the seeded rows, the ids to select and the rows to insert) and prints one on stdout (the
versions and a row per stack, workload and variant). Progress goes to stderr.

The method is the Rust `measure`'s: per stack and variant, one untimed warm-up run, then
`repeats` timed runs, each timing only the work and checking its result.
"""

import asyncio
import gc
import json
import platform
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from importlib.metadata import version
from itertools import chain
from typing import Any

import sqlalchemy
import twin
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

TEXT, CORE, ORM = "sqlalchemy-text", "sqlalchemy-core", "sqlalchemy-orm"
STACKS = (TEXT, CORE, ORM)
WORKLOADS = ("w1", "w2", "w3", "w4", "w5")


# ANCHOR: bench_customer
@dataclass(slots=True)
class BenchCustomer:
    """One row of `bench_customers`, as text() reads it."""

    id: int
    name: str
    job: str | None


# ANCHOR_END: bench_customer


# ANCHOR: schema
# Core's description of the table, and the ORM's mapped class on the same table.
bench_customers = Table(
    "bench_customers",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False, unique=True),
    Column("job", String(50)),
)


class Base(DeclarativeBase):
    pass


class Customer(Base):
    """No `server_default` on `job`: with one, the unit of work would leave a `None` out
    of the INSERT, and the server would store `''`, not NULL."""

    __tablename__ = "bench_customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    job: Mapped[str | None] = mapped_column(String(50))


# ANCHOR_END: schema


# ANCHOR: open_engine
async def open_engine(url: Any, size: int) -> AsyncEngine:
    """An engine whose pool holds exactly `size` connections, all opened now, so that no
    timed run pays for a connection's set-up (the Rust `open_pool`)."""
    engine = create_async_engine(
        url,
        pool_size=size,
        max_overflow=0,
        # asyncmy's cache of server-side prepared statements (binary protocol), off by
        # default; sqlx caches its own the same way. It made W2 about 20% faster.
        # NOTE: on MariaDB it also turns executemany into one COM_STMT_BULK_EXECUTE;
        # on MySQL executemany rewrites the INSERT into one multi-row INSERT instead.
        connect_args={"stmt_cache_size": 128},
    )
    held = [engine.connect() for _ in range(size)]
    await asyncio.gather(*(conn.start() for conn in held))
    await asyncio.gather(*(conn.close() for conn in held))
    return engine


# ANCHOR_END: open_engine


# W1: SELECT SLEEP, one after another on one connection, then all at once, each on a
# connection of its own from the pool. The timing includes taking the connections.

# ANCHOR: w1_text
SLEEP_TEXT = text("SELECT SLEEP(:seconds)")


async def w1_text_sequential(engine: AsyncEngine, n: int, seconds: float) -> list:
    async with engine.connect() as conn:
        return [await conn.scalar(SLEEP_TEXT, {"seconds": seconds}) for _ in range(n)]


async def w1_text_concurrent(engine: AsyncEngine, n: int, seconds: float) -> list:
    async def sleep() -> int:
        async with engine.connect() as conn:
            return await conn.scalar(SLEEP_TEXT, {"seconds": seconds})

    return await asyncio.gather(*(sleep() for _ in range(n)))


# ANCHOR_END: w1_text


# ANCHOR: w1_core
SLEEP_CORE = select(func.sleep(bindparam("seconds")))


async def w1_core_sequential(engine: AsyncEngine, n: int, seconds: float) -> list:
    async with engine.connect() as conn:
        return [await conn.scalar(SLEEP_CORE, {"seconds": seconds}) for _ in range(n)]


async def w1_core_concurrent(engine: AsyncEngine, n: int, seconds: float) -> list:
    async def sleep() -> int:
        async with engine.connect() as conn:
            return await conn.scalar(SLEEP_CORE, {"seconds": seconds})

    return await asyncio.gather(*(sleep() for _ in range(n)))


# ANCHOR_END: w1_core


# ANCHOR: w1_orm
async def w1_orm_sequential(
    async_session: async_sessionmaker, n: int, seconds: float
) -> list:
    async with async_session() as session:
        return [await session.scalar(SLEEP_CORE, {"seconds": seconds}) for _ in range(n)]


async def w1_orm_concurrent(
    async_session: async_sessionmaker, n: int, seconds: float
) -> list:
    async def sleep() -> int:
        async with async_session() as session:
            return await session.scalar(SLEEP_CORE, {"seconds": seconds})

    return await asyncio.gather(*(sleep() for _ in range(n)))


# ANCHOR_END: w1_orm


# W2: one select by primary key per id, one after another, on a connection (or a
# session) taken before the clock starts.

# ANCHOR: w2_text
SELECT_ONE_TEXT = text("SELECT id, name, job FROM bench_customers WHERE id = :id")


async def w2_text(conn: AsyncConnection, ids: Iterable[int]) -> list[BenchCustomer]:
    found = []
    for id_ in ids:
        result = await conn.execute(SELECT_ONE_TEXT, {"id": id_})
        found.append(BenchCustomer(*result.one()))
    return found


# ANCHOR_END: w2_text


# ANCHOR: w2_core
# Built once, run with a new `id` each time. `select(...).where(... == id_)` built on
# every call finds its SQL in the compiled cache too, but building the statement and
# its cache key made W2 about 60% slower.
SELECT_ONE_CORE = select(bench_customers).where(bench_customers.c.id == bindparam("id"))


async def w2_core(conn: AsyncConnection, ids: Iterable[int]) -> list:
    found = []
    for id_ in ids:
        result = await conn.execute(SELECT_ONE_CORE, {"id": id_})
        found.append(result.one())  # a Row: a named tuple
    return found


# ANCHOR_END: w2_core


# ANCHOR: w2_orm
# `session.get(Customer, id_)` would answer from the session's identity map, with no
# query, once the object is loaded. A select always asks the server, and each run has a
# fresh session, so every row becomes a new object. Built once, as in Core: built per
# call, W2 took about 40% longer.
SELECT_ONE_ORM = select(Customer).where(Customer.id == bindparam("id"))


async def w2_orm(session: AsyncSession, ids: Iterable[int]) -> list[Customer]:
    found = []
    for id_ in ids:
        result = await session.execute(SELECT_ONE_ORM, {"id": id_})
        found.append(result.scalar_one())
    return found


# ANCHOR_END: w2_orm


# W3: W2's selects spread over many tasks on a pool of as many connections. Each task
# takes the next id from the iterator that all the tasks share, and a connection (or a
# session) from the pool for every query, as a web handler does and as the Rust tasks
# do. SQLAlchemy's pool ends each checkout with a ROLLBACK (`pool_reset_on_return`),
# one more round trip per query: the price of never handing out a connection with a
# transaction left open.


# ANCHOR: w3_text
async def w3_text(engine: AsyncEngine, ids: list[int], tasks: int) -> list:
    next_ids = iter(ids)

    async def task() -> list[BenchCustomer]:
        found: list[BenchCustomer] = []
        for id_ in next_ids:
            async with engine.connect() as conn:
                found += await w2_text(conn, (id_,))
        return found

    shares = await asyncio.gather(*(task() for _ in range(tasks)))
    return list(chain.from_iterable(shares))


# ANCHOR_END: w3_text


# ANCHOR: w3_core
async def w3_core(engine: AsyncEngine, ids: list[int], tasks: int) -> list:
    next_ids = iter(ids)

    async def task() -> list:
        found: list = []
        for id_ in next_ids:
            async with engine.connect() as conn:
                found += await w2_core(conn, (id_,))
        return found

    shares = await asyncio.gather(*(task() for _ in range(tasks)))
    return list(chain.from_iterable(shares))


# ANCHOR_END: w3_core


# ANCHOR: w3_orm
async def w3_orm(async_session: async_sessionmaker, ids: list[int], tasks: int) -> list:
    next_ids = iter(ids)

    async def task() -> list[Customer]:
        found: list[Customer] = []
        for id_ in next_ids:
            async with async_session() as session:
                found += await w2_orm(session, (id_,))
        return found

    shares = await asyncio.gather(*(task() for _ in range(tasks)))
    return list(chain.from_iterable(shares))


# ANCHOR_END: w3_orm


# W4: many rows inserted in one transaction, one statement per row, then through the
# layer's executemany, a chunk at a time. Each returns how many rows went in.

# ANCHOR: w4_text
INSERT_TEXT = text("INSERT INTO bench_customers (name, job) VALUES (:name, :job)")


async def w4_text_row_by_row(conn: AsyncConnection, rows: list[dict]) -> int:
    inserted = 0
    for row in rows:
        inserted += (await conn.execute(INSERT_TEXT, row)).rowcount
    await conn.commit()
    return inserted


async def w4_text_batch(conn: AsyncConnection, rows: list[dict], chunk: int) -> int:
    inserted = 0
    for start in range(0, len(rows), chunk):
        # A list of parameter sets: the driver's executemany.
        part = rows[start : start + chunk]
        inserted += (await conn.execute(INSERT_TEXT, part)).rowcount
    await conn.commit()
    return inserted


# ANCHOR_END: w4_text


# ANCHOR: w4_core
INSERT_CORE = insert(bench_customers)


async def w4_core_row_by_row(conn: AsyncConnection, rows: list[dict]) -> int:
    inserted = 0
    for row in rows:
        # One dict: one INSERT. `insert(bench_customers).values(row)` would build a new
        # statement per row.
        inserted += (await conn.execute(INSERT_CORE, row)).rowcount
    await conn.commit()
    return inserted


async def w4_core_batch(conn: AsyncConnection, rows: list[dict], chunk: int) -> int:
    inserted = 0
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        inserted += (await conn.execute(INSERT_CORE, part)).rowcount
    await conn.commit()
    return inserted


# ANCHOR_END: w4_core


# ANCHOR: w4_orm
# `insert(Customer)` with dicts is the ORM's bulk INSERT: no objects, no identity map.
# The unit of work costs more: `session.add(Customer(**row))` and a flush per row took
# 20% longer than row by row here, `add_all` of every row and one commit 5 times as long
# as the batch. NOTE: MariaDB 10.5+ lets `add_all` batch with INSERT ... RETURNING; on
# MySQL, which has no RETURNING, it sends one INSERT per object to learn its id.
# `render_nulls`: a `None` goes in as NULL, not left out of the INSERT (which would
# store the column's default, '', and split a chunk into several executemany calls).
INSERT_ORM = insert(Customer).execution_options(render_nulls=True)


async def w4_orm_row_by_row(session: AsyncSession, rows: list[dict]) -> int:
    for row in rows:
        await session.execute(INSERT_ORM, row)
    await session.commit()
    return len(rows)  # it returns no row count: the clean-up counts the rows


async def w4_orm_batch(session: AsyncSession, rows: list[dict], chunk: int) -> int:
    for start in range(0, len(rows), chunk):
        await session.execute(INSERT_ORM, rows[start : start + chunk])
    await session.commit()
    return len(rows)


# ANCHOR_END: w4_orm


# W5: every seeded row, read into objects with one query.

# ANCHOR: w5_text
READ_RANGE_TEXT = text(
    "SELECT id, name, job FROM bench_customers"
    " WHERE id BETWEEN :first AND :last ORDER BY id"
)


async def w5_text(conn: AsyncConnection, first: int, last: int) -> list:
    result = await conn.execute(READ_RANGE_TEXT, {"first": first, "last": last})
    return [BenchCustomer(*row) for row in result]


# ANCHOR_END: w5_text


# ANCHOR: w5_core
READ_RANGE_CORE = (
    select(bench_customers)
    .where(bench_customers.c.id.between(bindparam("first"), bindparam("last")))
    .order_by(bench_customers.c.id)
)


async def w5_core(conn: AsyncConnection, first: int, last: int) -> list:
    result = await conn.execute(READ_RANGE_CORE, {"first": first, "last": last})
    return result.all()  # a list of Rows


# ANCHOR_END: w5_core


# ANCHOR: w5_orm
READ_RANGE_ORM = (
    select(Customer)
    .where(Customer.id.between(bindparam("first"), bindparam("last")))
    .order_by(Customer.id)
)


async def w5_orm(session: AsyncSession, first: int, last: int) -> list[Customer]:
    # A fresh session each run: its identity map starts empty, so every row becomes a
    # new Customer, as on the first run.
    result = await session.scalars(READ_RANGE_ORM, {"first": first, "last": last})
    return result.all()


# ANCHOR_END: w5_orm


# ---------------------------------------------------------------------------------------
# The method and the plumbing (not shown in the book).

W1_SEQUENTIAL = {
    TEXT: w1_text_sequential,
    CORE: w1_core_sequential,
    ORM: w1_orm_sequential,
}
W1_CONCURRENT = {
    TEXT: w1_text_concurrent,
    CORE: w1_core_concurrent,
    ORM: w1_orm_concurrent,
}
W2 = {TEXT: w2_text, CORE: w2_core, ORM: w2_orm}
W3 = {TEXT: w3_text, CORE: w3_core, ORM: w3_orm}
W4_ROW_BY_ROW = {
    TEXT: w4_text_row_by_row,
    CORE: w4_core_row_by_row,
    ORM: w4_orm_row_by_row,
}
W4_BATCH = {TEXT: w4_text_batch, CORE: w4_core_batch, ORM: w4_orm_batch}
W5 = {TEXT: w5_text, CORE: w5_core, ORM: w5_orm}


class InputError(twin.UsageError):
    """Stdin is not the JSON document this script expects (exit code 2)."""


class CheckError(Exception):
    """A run returned the wrong rows."""


def fmt_duration(seconds: float) -> str:
    """Like Rust's `{:.1?}` for a Duration: `4.0s`, `81.2ms`, `14.0µs`."""
    if seconds >= 1:
        return f"{seconds:.1f}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f}ms"
    return f"{seconds * 1e6:.1f}µs"


Run = Callable[[], Awaitable[tuple[float, Any]]]


def progress(text: str, end: str = "") -> None:
    """Progress on stderr; a line left open is closed before an error is printed."""
    global progress_open
    print(text, end=end, file=sys.stderr, flush=True)
    progress_open = end == ""


progress_open = False


async def measure(label: str, repeats: int, run: Run, check: Callable) -> dict:
    """One untimed warm-up, then `repeats` timed runs. Each run times itself (so set-up
    and clean-up stay out) and its result is checked. Returns min and median in ms."""
    progress(f"lesson-6: {label}: warm-up")
    runs = []
    for i in range(repeats + 1):
        # Garbage left by the last run is collected now, outside the clock; collections
        # that the run itself triggers count, as they would in an application.
        gc.collect()
        took, result = await run()
        try:
            check(result)
        except CheckError as e:
            what = "the warm-up" if i == 0 else f"run {i}"
            raise CheckError(f"{label}: {what}: {e}") from None
        if i > 0:
            runs.append(took)
            progress(f", {fmt_duration(took)}")
    progress("", end="\n")
    return {
        "wall_ms": min(runs) * 1e3,
        "median_ms": statistics.median(runs) * 1e3,  # mean of the middle two if even
        "repeats": len(runs),
    }


def expected_name(seeded_first: int, id_: int) -> str:
    return f"m6-{id_ - seeded_first + 1:07d}"


def check_customers(found: list, ids: list[int], first: int) -> None:
    """Every id, in this order, with its seeded name."""
    if len(found) != len(ids):
        raise CheckError(f"expected {len(ids)} rows, got {len(found)}")
    for row, id_ in zip(found, ids, strict=True):
        if row.id != id_ or row.name != expected_name(first, id_):
            raise CheckError(f"expected id {id_}, got id {row.id} named {row.name!r}")


class Reference:
    """Every stack must read the same rows (ids, names and jobs) for a workload."""

    def __init__(self) -> None:
        self.rows: list[tuple] | None = None

    def check(self, label: str, found: list) -> None:
        rows = [(r.id, r.name, r.job) for r in found]
        if self.rows is None:
            self.rows = rows
        elif rows != self.rows:
            raise CheckError(f"{label} read other rows than the stack before it")


class Bench:
    """One run of the script: the input, the URL, and the rows measured so far."""

    def __init__(self, url: Any, doc: dict) -> None:
        self.url = url
        self.counts = doc["counts"]
        self.repeats = self.counts["repeats"]
        self.seeded = doc["seeded"]
        self.ids = doc["ids"]
        self.insert_rows = doc["insert_rows"]
        self.rows: list[dict] = []

    def add(self, stack: str, workload: str, variant: str, ops: int, t: dict) -> None:
        row = {"stack": stack, "workload": workload, "variant": variant, "ops": ops}
        self.rows.append(row | t)

    @asynccontextmanager
    async def engine(self, stack: str, size: int) -> AsyncIterator[Any]:
        """An engine (text, Core) or a session factory on one (ORM), filled, disposed."""
        engine = await open_engine(self.url, size)
        try:
            if stack == ORM:
                yield async_sessionmaker(engine, expire_on_commit=False)
            else:
                yield engine
        finally:
            await engine.dispose()

    @staticmethod
    def timed(work: Callable[[], Awaitable[Any]]) -> Run:
        """A run that times `work`, which takes its own connections."""

        async def run() -> tuple[float, Any]:
            start = time.perf_counter()
            result = await work()
            return time.perf_counter() - start, result

        return run

    @staticmethod
    def timed_on_one(stack: str, target: Any, work: Callable[[Any], Awaitable]) -> Run:
        """A run that takes a connection (text, Core) or a session holding one (ORM)
        before the clock starts, then times `work` on it; giving it back is untimed."""

        async def run() -> tuple[float, Any]:
            if stack == ORM:
                async with target() as session:
                    await session.connection()  # checks a connection out of the pool
                    start = time.perf_counter()
                    result = await work(session)
                    took = time.perf_counter() - start
            else:
                async with target.connect() as conn:
                    start = time.perf_counter()
                    result = await work(conn)
                    took = time.perf_counter() - start
            return took, result

        return run

    async def w1(self, stack: str) -> None:
        n, seconds = self.counts["sleeps"], self.counts["sleep_ms"] / 1e3

        def check(slept: list) -> None:
            if len(slept) != n or any(s != 0 for s in slept):
                raise CheckError(f"expected {n} sleeps returning 0, got {slept!r}")

        shapes = [("sequential", 1, W1_SEQUENTIAL[stack])]
        for size in self.counts["pools"]:
            shapes.append((f"pool of {size}", size, W1_CONCURRENT[stack]))
        for variant, size, sleeps in shapes:
            async with self.engine(stack, size) as target:
                run = self.timed(partial(sleeps, target, n, seconds))
                t = await measure(f"{stack} W1, {variant}", self.repeats, run, check)
            self.add(stack, "W1", variant, n, t)

    async def w2(self, stack: str, reference: Reference) -> None:
        ids, first = self.ids, self.seeded["first"]

        def check(found: list) -> None:
            check_customers(found, ids, first)
            reference.check(f"{stack} W2", found)

        async with self.engine(stack, 1) as target:
            run = self.timed_on_one(stack, target, partial(W2[stack], ids=ids))
            t = await measure(f"{stack} W2", self.repeats, run, check)
        self.add(stack, "W2", "1 connection", len(ids), t)

    async def w3(self, stack: str, reference: Reference) -> None:
        tasks, first, ids = self.counts["tasks"], self.seeded["first"], self.ids

        def check(found: list) -> None:
            # Sorted by id outside the clock, as the Rust does.
            found = sorted(found, key=lambda c: c.id)
            check_customers(found, sorted(ids), first)
            reference.check(f"{stack} W3", found)

        async with self.engine(stack, tasks) as target:
            run = self.timed(partial(W3[stack], target, ids, tasks))
            t = await measure(f"{stack} W3", self.repeats, run, check)
        self.add(stack, "W3", f"{tasks} tasks, pool of {tasks}", len(ids), t)

    async def w4(self, stack: str, cleanup: AsyncEngine) -> None:
        rows = self.insert_rows
        nulls = sum(1 for r in rows if r["job"] is None)
        shapes = [("row by row", partial(W4_ROW_BY_ROW[stack], rows=rows))]
        shapes += [
            (
                f"batch API, chunks of {chunk}",
                partial(W4_BATCH[stack], rows=rows, chunk=chunk),
            )
            for chunk in self.counts["chunks"]
        ]

        def check(counts: tuple[int, int, int]) -> None:
            if counts != (len(rows), len(rows), nulls):
                raise CheckError(
                    f"expected {len(rows)} rows inserted and deleted, {nulls} of them"
                    f" with a NULL job; got {counts[0]} inserted, {counts[1]} deleted,"
                    f" {counts[2]} with a NULL job"
                )

        async with self.engine(stack, 1) as target:
            for variant, insert_all in shapes:
                run = self.then_clean_up(
                    self.timed_on_one(stack, target, insert_all), cleanup
                )
                t = await measure(f"{stack} W4, {variant}", self.repeats, run, check)
                self.add(stack, "W4", variant, len(rows), t)

    def then_clean_up(self, insert_run: Run, cleanup: AsyncEngine) -> Run:
        """After a W4 run (untimed): its rows deleted, and what was found in them."""

        async def run() -> tuple[float, Any]:
            before = await history_length(cleanup)
            took, inserted = await insert_run()
            found = (inserted, *await delete_inserted(cleanup))
            await wait_for_purge(cleanup, before, self.counts["purge_wait_ms"] / 1e3)
            return took, found

        return run

    async def w5(self, stack: str, reference: Reference) -> None:
        first, last = self.seeded["first"], self.seeded["last"]
        n = last - first + 1
        want = [(first, expected_name(first, first)), (last, expected_name(first, last))]

        def check(found: list) -> None:
            if len(found) != n:
                raise CheckError(f"expected {n} rows, got {len(found)}")
            ends = [(found[0].id, found[0].name), (found[-1].id, found[-1].name)]
            if ends != want:
                raise CheckError(f"expected first and last {want}, got {ends}")
            reference.check(f"{stack} W5", found)

        async with self.engine(stack, 1) as target:
            run = self.timed_on_one(
                stack, target, partial(W5[stack], first=first, last=last)
            )
            t = await measure(f"{stack} W5", self.repeats, run, check)
        self.add(stack, "W5", "fetch all", n, t)


async def delete_inserted(cleanup: AsyncEngine) -> tuple[int, int]:
    """Deletes W4's rows (named `m6w4-...`): how many, and how many had a NULL job."""
    where = "WHERE name LIKE 'm6w4-%'"
    async with cleanup.begin() as conn:
        found = await conn.execute(
            text(f"SELECT COUNT(*), COUNT(job) FROM bench_customers {where}")
        )
        count, with_job = found.one()
        deleted = (
            await conn.execute(text(f"DELETE FROM bench_customers {where}"))
        ).rowcount
    if deleted != count:
        raise CheckError(f"counted {count} rows of W4's but deleted {deleted}")
    return deleted, count - with_job


async def history_length(cleanup: AsyncEngine) -> int | None:
    """InnoDB's history length (changes its purge has yet to clean up), or None when
    the account may not read it."""
    sql = (
        "SELECT CAST(`COUNT` AS SIGNED) FROM information_schema.INNODB_METRICS"
        " WHERE NAME = 'trx_rseg_history_len'"
    )
    try:
        async with cleanup.connect() as conn:
            return (await conn.execute(text(sql))).scalar()
    except DBAPIError:
        return None


async def wait_for_purge(cleanup: AsyncEngine, before: int | None, limit: float) -> None:
    """Waits, at most `limit` seconds, until InnoDB's history length is back to `before`,
    so that no W4 run pays for the previous run's clean-up, as the Rust side does."""
    if before is None or limit <= 0:
        return
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        now = await history_length(cleanup)
        if now is None or now <= before:
            return
        await asyncio.sleep(0.02)


def read_input(raw: str) -> dict:
    """The JSON document on stdin, checked enough that a mistake is a clear message."""
    try:
        doc = json.loads(raw)
        counts, seeded = doc["counts"], doc["seeded"]
        names = ("sleeps", "ops", "tasks", "rows", "repeats")
        if any(not isinstance(counts[k], int) or counts[k] < 1 for k in names):
            raise InputError(f"counts.{{{','.join(names)}}} must be integers >= 1")
        for k in ("sleep_ms", "purge_wait_ms"):
            if not isinstance(counts[k], (int, float)) or counts[k] < 0:
                raise InputError(f"counts.{k} must be a number >= 0")
        chunks = counts["chunks"]
        if not chunks or any(not isinstance(c, int) or c < 1 for c in chunks):
            raise InputError("counts.chunks must list chunk sizes >= 1")
        pools = counts["pools"]
        if not pools or any(not isinstance(p, int) or p < 1 for p in pools):
            raise InputError("counts.pools must list pool sizes >= 1")
        workloads = [w.lower() for w in doc["workloads"]]
        if unknown := set(workloads) - set(WORKLOADS):
            raise InputError(f"unknown workloads {sorted(unknown)}")
        if unknown := set(doc["stacks"]) - set(STACKS):
            raise InputError(f"unknown stacks {sorted(unknown)}")
        first, last = seeded["first"], seeded["last"]
        if not isinstance(first, int) or not isinstance(last, int) or last < first:
            raise InputError(
                'seeded must be {"first": id, "last": id} with first <= last'
            )
        ids = doc["ids"]
        if len(ids) != counts["ops"] or len(set(ids)) != len(ids):
            raise InputError(f"ids must be counts.ops ({counts['ops']}) distinct ids")
        if any(not isinstance(i, int) or not first <= i <= last for i in ids):
            raise InputError("every id must be one of the seeded rows")
        rows = doc["insert_rows"]
        if len(rows) != counts["rows"]:
            raise InputError(f"insert_rows must hold counts.rows ({counts['rows']}) rows")
        for row in rows:
            if set(row) != {"name", "job"} or not str(row["name"]).startswith("m6w4-"):
                raise InputError('each insert_rows entry is {"name": "m6w4-...", "job"}')
        doc["workloads"] = workloads
        return doc
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise InputError(
            f"stdin is not the expected JSON ({type(e).__name__}: {e})"
        ) from None


async def run(url: Any, doc: dict) -> dict:
    bench = Bench(url, doc)
    stacks = [s for s in STACKS if s in doc["stacks"]]
    cleanup = create_async_engine(url, pool_size=1, max_overflow=0)
    try:
        if "w4" in doc["workloads"]:
            await delete_inserted(cleanup)  # an interrupted run may have left its rows
        for workload in WORKLOADS:
            if workload not in doc["workloads"]:
                continue
            reference = Reference()
            for stack in stacks:
                match workload:
                    case "w1":
                        await bench.w1(stack)
                    case "w2":
                        await bench.w2(stack, reference)
                    case "w3":
                        await bench.w3(stack, reference)
                    case "w4":
                        await bench.w4(stack, cleanup)
                    case "w5":
                        await bench.w5(stack, reference)
    finally:
        await cleanup.dispose()
    return {
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "driver": f"asyncmy {version('asyncmy')}",
        "rows": bench.rows,
    }


def main() -> int:
    def run_and_report() -> None:
        url = twin.database_url("lesson-6 --python")
        doc = read_input(sys.stdin.read())
        try:
            report = asyncio.run(run(url, doc))
        except Exception:
            if progress_open:
                print(file=sys.stderr)  # the error goes on a line of its own
            raise
        json.dump(report, sys.stdout)
        print()

    return twin.main("bench.py", run_and_report)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)

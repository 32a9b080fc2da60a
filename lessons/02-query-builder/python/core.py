"""Lesson 2, the SQLAlchemy side: Core's `Table`, `select()`, `insert()`, `update()` and
`delete()`, run on SQLAlchemy's asyncio engine with the asyncmy driver.

The twin of the sea-query lesson in ../src: the same steps, the same data, the same
facts printed. Run it with `just python 2`; it reads DATABASE_URL
(mysql://user[:password]@host:port/database) and needs shared/python on PYTHONPATH.
"""

import asyncio
import logging
import re
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import twin
from sqlalchemy import (
    Column,
    Delete,
    Executable,
    ForeignKey,
    Index,
    Insert,
    Integer,
    MetaData,
    Row,
    Select,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    Update,
    cast,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.expression import ClauseElement

# Step 1: the tables described in code.

# ANCHOR: customers_iden
metadata = MetaData()

# The article's `customers` table, as shared/migrations/0001_customers.sql makes it.
customers = Table(
    "customers",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=True),
    Column("name", String(50), nullable=False),
    # Nullable (the default for a column), with a default the server fills in.
    Column("job", String(50), server_default=""),
    UniqueConstraint("name", name="UQ_name"),
)
# ANCHOR_END: customers_iden

# ANCHOR: orders_iden
# The shared `orders` table: each row belongs to a customer.
orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "customer_id",
        SmallInteger,
        ForeignKey("customers.id", name="fk_orders_customer"),
        nullable=False,
    ),
    Column("item", String(100), nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Index("ix_orders_customer", "customer_id"),
)
# ANCHOR_END: orders_iden

# Step 2: the DDL from the table.


# ANCHOR: create_customers_table
async def create_customers_table(conn: AsyncConnection) -> str:
    """Creates the `customers` table if it is not there yet; returns the DDL it ran."""
    ddl = CreateTable(customers, if_not_exists=True)
    await conn.execute(ddl)
    # The DDL as the connection's dialect writes it: DDL takes no bound values.
    return str(ddl.compile(dialect=conn.dialect))
    # ANCHOR_END: create_customers_table


# ANCHOR: has_customers_table
async def has_customers_table(conn: AsyncConnection) -> bool:
    """Whether the database has a table called `customers`."""
    # The inspector is synchronous: run_sync hands it the connection's sync face.
    return await conn.run_sync(lambda sync: inspect(sync).has_table("customers"))
    # ANCHOR_END: has_customers_table


# Step 3: a multi-row insert, the orders that need their customers' ids, and an upsert.

# ANCHOR: sample
# The lesson's sample customers, (name, job). A run inserts them, and removes them again
# in its last step, so that the next run starts from the same rows.
SAMPLE_CUSTOMERS: list[tuple[str, str | None]] = [
    ("Ada", "Data Engineer"),
    ("Grace", "Backend Developer"),
    ("Linus", None),
    ("Margaret", "Frontend Developer"),
]

# The sample customers' orders: (customer name, item, amount in cents).
SAMPLE_ORDERS: list[tuple[str, str, int]] = [
    ("Ada", "Keyboard", 4_999),
    ("Ada", "Monitor", 18_950),
    ("Grace", "Laptop", 129_900),
    ("Grace", "Mouse", 2_500),
    ("Margaret", "Desk lamp", 3_450),
]
# ANCHOR_END: sample


# ANCHOR: insert_customers
def insert_customers_statement(rows: list[tuple[str, str | None]]) -> Insert:
    """One multi-row INSERT for all `rows`: a VALUES group for each."""
    return insert(customers).values([{"name": name, "job": job} for name, job in rows])
    # ANCHOR_END: insert_customers


# ANCHOR: execute
async def execute(conn: AsyncConnection, statement: Executable) -> int:
    """Runs an INSERT, UPDATE or DELETE and returns the rows it matched."""
    # SQLAlchemy compiles the statement for the connection's dialect and hands the
    # values to the driver beside it: no SQL text passes through our hands.
    result = await conn.execute(statement)
    return result.rowcount
    # ANCHOR_END: execute


# ANCHOR: customer_ids
async def customer_ids(conn: AsyncConnection, names: list[str]) -> dict[str, int]:
    """The ids of the customers called `names`, as a dict from name to id."""
    query = select(customers.c.name, customers.c.id).where(customers.c.name.in_(names))
    result = await conn.execute(query)
    return {name: customer_id for name, customer_id in result}
    # ANCHOR_END: customer_ids


# ANCHOR: insert_orders_statement
def insert_orders_statement(
    ids: dict[str, int], rows: list[tuple[str, str, int]]
) -> Insert:
    """One multi-row INSERT for `orders`, each with its customer's id from `ids`."""
    values = []
    for name, item, cents in rows:
        if name not in ids:
            raise LookupError(f"there is no customer called {name!r}")
        values.append({"customer_id": ids[name], "item": item, "amount_cents": cents})
    return insert(orders).values(values)
    # ANCHOR_END: insert_orders_statement


# ANCHOR: insert_orders
async def insert_orders(
    conn: AsyncConnection, rows: list[tuple[str, str, int]]
) -> tuple[Insert, int]:
    """Inserts `rows`, looking their customers' ids up first. Returns the statement
    and the rows it inserted."""
    ids = await customer_ids(conn, [name for name, _, _ in rows])
    statement = insert_orders_statement(ids, rows)
    return statement, await execute(conn, statement)
    # ANCHOR_END: insert_orders


# ANCHOR: upsert
def upsert_customer_statement(name: str, job: str | None) -> mysql.Insert:
    """Inserts a customer or, when the name is taken, sets the job of the one that has
    it: the MySQL dialect's own insert(), with on_duplicate_key_update()."""
    statement = mysql.insert(customers).values(name=name, job=job)
    # NOTE: no conflict target: any unique key (the primary key or UQ_name) fires it.
    # `inserted.job` is the job this row would have inserted: written VALUES(job) for
    # MariaDB and MySQL before 8.0.20, and `AS new ... new.job` (the row alias that
    # replaces the deprecated VALUES()) for MySQL 8.0.20 and later.
    return statement.on_duplicate_key_update(job=statement.inserted.job)
    # ANCHOR_END: upsert


# ANCHOR: count_customers
async def count_customers(conn: AsyncConnection) -> int:
    """How many customers there are: SELECT count(customers.id) FROM customers."""
    result = await conn.execute(select(func.count(customers.c.id)))
    return result.scalar_one()
    # ANCHOR_END: count_customers


# The upserts step 3 runs, (name, job): Lynn twice with the job she has, then Ada with a
# new one.
UPSERTS: list[tuple[str, str | None]] = [
    ("Lynn", "Backend Developer"),
    ("Lynn", "Backend Developer"),
    ("Ada", "Data Scientist"),
]

# Step 4: selects: WHERE, ORDER BY and LIMIT, IN and LIKE, GROUP BY, and a join.


# ANCHOR: fetch_customers
async def fetch_customers(conn: AsyncConnection, query: Select) -> Sequence[Row]:
    """Runs a SELECT of customers. Each Row is a named tuple: row.id, row.name,
    row.job, named after the columns selected."""
    result = await conn.execute(query)
    return result.all()
    # ANCHOR_END: fetch_customers


# ANCHOR: by_job
def by_job(job: str, limit: int) -> Select:
    """Customers with the job `job`, by name, at most `limit` of them."""
    return (
        select(customers)
        .where(customers.c.job == job)
        .order_by(customers.c.name)
        .limit(limit)
    )
    # ANCHOR_END: by_job


# ANCHOR: named
def named(names: list[str]) -> Select:
    """Customers whose name is one of `names`, by name."""
    return select(customers).where(customers.c.name.in_(names)).order_by(customers.c.name)
    # ANCHOR_END: named


# ANCHOR: name_like
def name_like(pattern: str) -> Select:
    """Customers whose name matches the LIKE `pattern` as it is, wildcards and all."""
    return (
        select(customers).where(customers.c.name.like(pattern)).order_by(customers.c.name)
    )
    # ANCHOR_END: name_like


# ANCHOR: count_by_job_statement
def count_by_job_statement() -> Select:
    """How many customers have each job: count(id) and GROUP BY job."""
    return (
        select(customers.c.job, func.count(customers.c.id).label("customers"))
        .group_by(customers.c.job)
        .order_by(customers.c.job)
    )
    # ANCHOR_END: count_by_job_statement


# ANCHOR: totals_statement
def totals_statement() -> Select:
    """Each customer with the number and the total of their orders, by name: a LEFT
    JOIN, so that customers without orders are there too."""
    # NOTE: SUM of an INT column is a DECIMAL in MySQL and MariaDB, which asyncmy reads
    # as a decimal.Decimal. CAST(... AS SIGNED INTEGER) makes it a BIGINT, an int;
    # coalesce makes "no orders" a 0, not NULL.
    total = cast(func.coalesce(func.sum(orders.c.amount_cents), 0), Integer)
    return (
        select(
            customers.c.name,
            func.count(orders.c.id).label("orders"),
            total.label("total_cents"),
        )
        # ON comes from the foreign key: orders.customer_id = customers.id.
        .select_from(customers.outerjoin(orders))
        .group_by(customers.c.id, customers.c.name)
        .order_by(customers.c.name)
    )
    # ANCHOR_END: totals_statement


# Step 5: one search with optional filters: only the conditions that are set.


# ANCHOR: filters
@dataclass(frozen=True)
class Filters:
    """The optional filters of search(). `Filters()` filters nothing."""

    # Names that start with this text, taken literally: % and _ are not wildcards.
    name_prefix: str | None = None
    # Customers with exactly this job.
    job: str | None = None
    # Customers whose orders add up to at least this many cents (customers without
    # orders never match).
    min_total_cents: int | None = None
    # At most this many customers.
    limit: int | None = None
    # ANCHOR_END: filters


# ANCHOR: big_spenders
def big_spenders(min_cents: int) -> Select:
    """The ids of the customers whose orders add up to at least `min_cents`."""
    return (
        select(orders.c.customer_id)
        .group_by(orders.c.customer_id)
        .having(func.sum(orders.c.amount_cents) >= min_cents)
    )
    # ANCHOR_END: big_spenders


# ANCHOR: search_statement
def search_statement(filters: Filters) -> Select:
    """One SELECT with only the filters that are set, by name."""
    query = select(customers).order_by(customers.c.name)
    if filters.name_prefix is not None:
        # autoescape: %, _ and the escape character / in the prefix match only
        # themselves (the value is escaped, and ESCAPE '/' added).
        prefix = customers.c.name.startswith(filters.name_prefix, autoescape=True)
        query = query.where(prefix)
    if filters.job is not None:
        query = query.where(customers.c.job == filters.job)
    if filters.min_total_cents is not None:
        spenders = big_spenders(filters.min_total_cents)
        query = query.where(customers.c.id.in_(spenders))
    if filters.limit is not None:
        query = query.limit(filters.limit)
    return query
    # ANCHOR_END: search_statement


# ANCHOR: search
async def search(conn: AsyncConnection, filters: Filters) -> list[str]:
    """The names of the customers that match every filter that is set."""
    rows = await fetch_customers(conn, search_statement(filters))
    return [row.name for row in rows]
    # ANCHOR_END: search


# ANCHOR: example_filters
def example_filters() -> list[Filters]:
    """The filters step 5 searches with, (name prefix, job, minimum total, limit):
    none, each alone, all at once, and a prefix full of LIKE's special characters."""
    cases = [
        (None, None, None, None),
        ("L", None, None, None),
        (None, "Backend Developer", None, 1),
        (None, None, 10_000, None),
        ("G", "Backend Developer", 10_000, 5),
        ("100%_sure!", None, None, None),
    ]
    return [Filters(*case) for case in cases]
    # ANCHOR_END: example_filters


# Step 6: the SQL with its parameters next to the SQL with the values written in.


# ANCHOR: by_name
def by_name(name: str) -> Select:
    """The customers called exactly `name`: `name` is a bound value."""
    return select(customers).where(customers.c.name == name)
    # ANCHOR_END: by_name


# ANCHOR: bound_and_inlined
def bound_and_inlined(statement: Select) -> tuple[str, dict, str]:
    """The SQL as it is sent, its parameters, and the SQL with the values written in
    (for reading, never for running)."""
    dialect = mysql.dialect()
    bound = statement.compile(dialect=dialect)
    inlined = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    return str(bound), bound.params, str(inlined)
    # ANCHOR_END: bound_and_inlined


# ANCHOR: no_backslash_escapes
# Adds NO_BACKSLASH_ESCAPES to the session's sql_mode, keeping the modes it has.
NO_BACKSLASH_ESCAPES = text(
    "SET SESSION sql_mode = "
    "CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'NO_BACKSLASH_ESCAPES')"
)


@asynccontextmanager
async def no_backslash_escapes(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in which a backslash is an ordinary character. The pool never
    gets it back: no pooled connection keeps the mode."""
    async with engine.connect() as conn:
        # NOTE: a session setting, not a global one.
        await conn.execute(NO_BACKSLASH_ESCAPES)
        try:
            yield conn
        finally:
            # Closes the driver's connection: the pool makes a new one in its place.
            await conn.invalidate()
    # ANCHOR_END: no_backslash_escapes


# ANCHOR: run_inlined
# What running an inlined statement did: the names it found, sorted, or the error
# number the server refused it with (1064 is a syntax error).
Inlined = list[str] | int


async def run_inlined(conn: AsyncConnection, name: str) -> Inlined:
    """Runs the inlined text of by_name(name): what real code must never do."""
    inlined = bound_and_inlined(by_name(name))[2]
    try:
        # The text as it is, with no parameters: the input is inside it.
        result = await conn.exec_driver_sql(inlined)
    except DBAPIError as e:
        if e.orig is None:
            raise
        # The driver's own exception, with the server's error number first.
        return int(e.orig.args[0])
    return sorted(row.name for row in result)
    # ANCHOR_END: run_inlined


# ANCHOR: inlined_versus_bound
@dataclass(frozen=True)
class InlinedVersusBound:
    """What the inlined statement did, next to the names the bound one found."""

    inlined: Inlined
    bound: list[str]


async def inlined_versus_bound(engine: AsyncEngine, name: str) -> InlinedVersusBound:
    """Runs by_name(name) inlined and bound, on a connection with
    NO_BACKSLASH_ESCAPES."""
    async with no_backslash_escapes(engine) as conn:
        inlined = await run_inlined(conn, name)
        result = await conn.execute(by_name(name))
        return InlinedVersusBound(inlined, [row.name for row in result])
    # ANCHOR_END: inlined_versus_bound


# The names step 6 looks up both ways: one with a quote, one written to inject SQL.
NAMES = ["O'Brien", "' OR 1=1 -- "]

# Step 7: an update, then the deletes that remove what the run added.


# ANCHOR: set_job
def set_job_statement(name: str, job: str | None) -> Update:
    """UPDATE customers SET job = %s WHERE customers.name = %s."""
    return update(customers).where(customers.c.name == name).values(job=job)
    # ANCHOR_END: set_job


# ANCHOR: delete
def delete_orders_of_statement(names: list[str]) -> Delete:
    """Deletes the orders of the customers called `names`: a DELETE with a subquery."""
    ids = select(customers.c.id).where(customers.c.name.in_(names))
    return delete(orders).where(orders.c.customer_id.in_(ids))


def delete_customers_statement(names: list[str]) -> Delete:
    """Deletes the customers called `names` (their orders must be gone first: the
    foreign key)."""
    return delete(customers).where(customers.c.name.in_(names))
    # ANCHOR_END: delete


# ANCHOR: clean_up
def sample_names() -> list[str]:
    """The sample customers' names."""
    return [name for name, _ in SAMPLE_CUSTOMERS]


async def clean_up(conn: AsyncConnection) -> tuple[int, int]:
    """Removes what a run added: the sample customers' orders, then the customers.
    Returns the rows deleted from each table."""
    names = sample_names()
    orders_deleted = await execute(conn, delete_orders_of_statement(names))
    customers_deleted = await execute(conn, delete_customers_statement(names))
    return orders_deleted, customers_deleted
    # ANCHOR_END: clean_up


# What each step prints, and the plumbing: nothing below is part of the teaching.

PROGRAM = "core.py"


class Failed(Exception):
    """An error with what the lesson was doing when it happened."""


@contextmanager
def context(what: str) -> Iterator[None]:
    """Turns any error inside into a Failed that says `what` failed, and why."""
    try:
        yield
    except Exception as e:
        raise Failed(f"{what}: {twin.reason(e)}") from e


def one_line(sql: str) -> str:
    """SQLAlchemy's SQL, its line breaks (and the blanks around them) made one space."""
    return re.sub(r"\s*\n\s*", " ", sql).strip()


def shown(statement: ClauseElement, dialect: Dialect) -> str:
    """The statement as the dialect compiles it (IN lists expanded), then its
    parameters."""
    compiled = statement.compile(
        dialect=dialect, compile_kwargs={"render_postcompile": True}
    )
    return f"{one_line(str(compiled))}\n  params: {compiled.params}"


def names(found: list[str]) -> str:
    """Names, comma-separated, or `-` when there are none."""
    return ", ".join(found) if found else "-"


def job(value: str | None) -> str:
    """A nullable job as the lesson prints it."""
    return "(NULL)" if value is None else value


def dollars(cents: int) -> str:
    """Cents as dollars: 129900 is 1299.00."""
    return f"{cents // 100}.{cents % 100:02}"


def step(number: int, title: str) -> None:
    print(f"\n== Step {number}: {title} ==")


def step_1() -> None:
    step(1, "Describe the tables")
    for table in (customers, orders):
        print(f"{table.name}: {', '.join(table.c.keys())}")


async def step_2(engine: AsyncEngine) -> None:
    step(2, "The DDL from the builder")
    async with engine.begin() as conn:
        with context("cannot look the customers table up"):
            existed = await has_customers_table(conn)
        with context("cannot create the customers table"):
            ddl = await create_customers_table(conn)
    print(one_line(ddl))
    if existed:
        print("(the migration made the table already: IF NOT EXISTS left it as it was)")
    else:
        print("(there was no table yet: the statement created it)")


async def step_3(engine: AsyncEngine) -> None:
    step(3, "Write: a multi-row insert and an upsert")
    async with engine.begin() as conn:
        statement = insert_customers_statement(SAMPLE_CUSTOMERS)
        with context(
            "cannot insert the sample customers "
            "(is one of Ada, Grace, Linus, Margaret already there?)"
        ):
            inserted = await execute(conn, statement)
        print(shown(statement, conn.dialect))
        print(f"-> rows inserted: {inserted}")
        with context("cannot insert the sample orders"):
            statement, inserted = await insert_orders(conn, SAMPLE_ORDERS)
        print(shown(statement, conn.dialect).split("\n")[0])
        why = "the values are not shown: customer ids grow run to run"
        print(f"-> rows inserted: {inserted} ({why})")
        for name, new_job in UPSERTS:
            statement = upsert_customer_statement(name, new_job)
            with context(f"cannot upsert {name}"):
                affected = await execute(conn, statement)
            with context("cannot count the customers"):
                count = await count_customers(conn)
            print(shown(statement, conn.dialect))
            print(f"-> rows affected: {affected}; customers now: {count}")


async def step_4(engine: AsyncEngine) -> None:
    step(4, "Select")
    async with engine.connect() as conn:
        queries = [
            by_job("Backend Developer", 10),
            named(["Ada", "Linus", "Nobody"]),
            name_like("L%"),
        ]
        for query in queries:
            with context("cannot select customers"):
                rows = await fetch_customers(conn, query)
            print(shown(query, conn.dialect))
            for row in rows:
                print(f"   {row.name:<10} {job(row.job)}")
        query = count_by_job_statement()
        with context("cannot count the customers by job"):
            rows = (await conn.execute(query)).all()
        print(shown(query, conn.dialect))
        for row in rows:
            print(f"   {job(row.job):<20} {row.customers}")
        query = totals_statement()
        with context("cannot total the orders"):
            rows = (await conn.execute(query)).all()
        print(shown(query, conn.dialect))
        for row in rows:
            total = dollars(row.total_cents)
            print(f"   {row.name:<10} {row.orders} orders {total:>9}")


async def step_5(engine: AsyncEngine) -> None:
    step(5, "Dynamic queries")
    async with engine.connect() as conn:
        for filters in example_filters():
            with context("cannot search the customers"):
                found = await search(conn, filters)
            print(shown(search_statement(filters), conn.dialect))
            print(f"-> {names(found)}")


async def step_6(engine: AsyncEngine) -> None:
    step(6, "Seeing the SQL")
    sql, params, inlined = bound_and_inlined(by_name(NAMES[0]))
    print(f"compile():     {one_line(sql)}")
    print(f"params:        {params}")
    print(f"literal_binds: {one_line(inlined)}")
    for name in NAMES:
        with context("cannot run the inlined statement"):
            run = await inlined_versus_bound(engine, name)
        print(f"name = {name!r}, with NO_BACKSLASH_ESCAPES:")
        if isinstance(run.inlined, int):
            print(f"   inlined: error {run.inlined}")
        else:
            print(f"   inlined: {len(run.inlined)} rows: {names(run.inlined)}")
        print(f"   bound:   {len(run.bound)} rows: {names(run.bound)}")


async def step_7(engine: AsyncEngine) -> None:
    step(7, "Update and delete")
    async with engine.begin() as conn:
        statement = set_job_statement("Grace", "Engineering Manager")
        with context("cannot update Grace's job"):
            updated = await execute(conn, statement)
        print(shown(statement, conn.dialect))
        print(f"-> rows updated: {updated}")
        print(shown(delete_orders_of_statement(sample_names()), conn.dialect))
        print(shown(delete_customers_statement(sample_names()), conn.dialect))
        with context("cannot delete the sample rows"):
            orders_deleted, customers_deleted = await clean_up(conn)
        print(
            f"-> orders deleted: {orders_deleted}; customers deleted: {customers_deleted}"
        )
        with context("cannot list the customers"):
            left = await search(conn, Filters())
        print(f"left: {names(left)}")


async def run(url: URL) -> None:
    engine = create_async_engine(url)
    try:
        with context("cannot connect to the server in DATABASE_URL"):
            async with engine.connect():
                pass
        step_1()
        await step_2(engine)
        await step_3(engine)
        await step_4(engine)
        await step_5(engine)
        await step_6(engine)
        await step_7(engine)
    finally:
        await engine.dispose()


def main() -> int:
    # asyncmy logs each warning or note the server sends (such as "Table 'customers'
    # already exists" for CREATE TABLE IF NOT EXISTS): to stderr, with our name.
    logging.basicConfig(format=f"{PROGRAM}: the server says: %(message)s")
    return twin.main(
        PROGRAM, lambda: asyncio.run(run(twin.database_url("just python 2")))
    )


if __name__ == "__main__":
    sys.exit(main())

"""Lesson 3, the SQLAlchemy side: the asyncio ORM, step by step beside the diesel-async
lesson. Mapped classes, an AsyncSession from async_sessionmaker, CRUD through the session,
relationships loaded eagerly, transactions and savepoints, pagination and streaming.

Run it with `just python 3`. It needs DATABASE_URL (mysql://user[:password]@host:port/db)
pointing at a database that already has the workbook's schema (shared/migrations), and
shared/python on PYTHONPATH.
"""

import asyncio
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import twin
from sqlalchemy import (
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    delete,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import (
    AsyncAttrs,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    mapped_column,
    relationship,
    selectinload,
)
from sqlalchemy.pool import QueuePool

# Step 1: Schema and models


# ANCHOR: customer
class Base(AsyncAttrs, DeclarativeBase):
    """The declarative base. AsyncAttrs adds `obj.awaitable_attrs`: a lazy load that
    can be awaited."""


class Customer(Base):
    """A row of `customers`: the article's table, exactly as the migrations create it."""

    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("name", name="UQ_name"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)  # AUTO_INCREMENT
    name: Mapped[str] = mapped_column(String(50))
    # Nullable, because of `| None`; an INSERT without a job gets the server's ''.
    job: Mapped[str | None] = mapped_column(String(50), server_default="")

    # The parent side of the relationship: a customer's orders, oldest first.
    orders: Mapped[list["Order"]] = relationship(
        back_populates="customer", order_by="Order.id"
    )
    # ANCHOR_END: customer


# ANCHOR: order
class Order(Base):
    """A row of `orders`; the price is in whole cents."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_customer", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        SmallInteger, ForeignKey("customers.id", name="fk_orders_customer")
    )
    item: Mapped[str] = mapped_column(String(100))
    amount_cents: Mapped[int]

    # The child side: the customer who placed the order.
    customer: Mapped[Customer] = relationship(back_populates="orders")
    # ANCHOR_END: order


# ANCHOR: debug_query
def generated_sql() -> list[str]:
    """The SQL that SQLAlchemy compiles for a typical load and a typical insert, with
    MySQL's `%s` placeholders, then the parameters bound to them, as `echo=True`
    logs them."""
    load = select(Customer).where(Customer.name == "Lynn")
    add = insert(Customer).values(name="Ada", job="Engineer")
    lines = []
    for statement in (load, add):
        compiled = statement.compile(dialect=mysql.dialect())
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        lines.append(f"{one_line(str(compiled))} -- params: {params}")
    return lines
    # ANCHOR_END: debug_query


def one_line(sql: str) -> str:
    """SQL as one line: SQLAlchemy breaks its statements before FROM, WHERE, LIMIT..."""
    return " ".join(sql.split())


# Step 2: The pool as a session factory

# ANCHOR: pool
CONNECT_TIMEOUT = 5  # seconds


def session_factory(
    url: URL, max_size: int
) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    """An engine with a pool of at most `max_size` connections to `url`, and the factory
    of sessions on it. Nothing connects yet."""
    engine = create_async_engine(
        url,
        pool_size=max_size,
        max_overflow=0,  # at most max_size connections, never more
        pool_timeout=CONNECT_TIMEOUT,  # wait this long for a free connection
        pool_pre_ping=True,  # check an idle connection before handing it out
        connect_args={"connect_timeout": CONNECT_TIMEOUT},
    )
    # expire_on_commit=False: a committed object keeps its attributes, so reading them
    # later needs no query (which, under asyncio, would raise instead of loading).
    return engine, async_sessionmaker(engine, expire_on_commit=False)
    # ANCHOR_END: pool


# ANCHOR: migrate
async def create_tables(engine: AsyncEngine) -> None:
    """Creates the tables that do not exist yet: `metadata.create_all`, which is
    synchronous code, run on the async connection by `run_sync`. It never alters a table
    that is already there. On the workbook's migrated database it creates nothing."""
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    # ANCHOR_END: migrate


# Step 3: CRUD

# ANCHOR: create_customer
ER_DUP_ENTRY = 1062  # the server's error number for a duplicate key


async def create_customer(session: AsyncSession, customer: Customer) -> Customer:
    """Inserts one customer and commits. The flush sends the INSERT and sets
    `customer.id` from the driver's `lastrowid`: no second query."""
    session.add(customer)
    try:
        await session.flush()
    except IntegrityError as e:
        await session.rollback()
        # NOTE: MySQL 8 and MariaDB both report error 1062; only the message differs
        # (MySQL names the key 'customers.UQ_name', MariaDB 'UQ_name'): match the number.
        if e.orig is not None and e.orig.args[0] == ER_DUP_ENTRY:
            raise DuplicateNameError(customer.name) from e
        raise
    await session.commit()
    return customer
    # ANCHOR_END: create_customer


# ANCHOR: create_error
class DuplicateNameError(Exception):
    """Another customer already has this name (the `UQ_name` unique key)."""

    def __init__(self, name: str) -> None:
        super().__init__(f'a customer named "{name}" already exists')
        self.name = name
        # ANCHOR_END: create_error


# ANCHOR: create_many
async def create_customers(session: AsyncSession, new: list[Customer]) -> list[Customer]:
    """Inserts many customers in one flush and commits, then reads them back by their
    unique names. A job left out is the server's DEFAULT: the flush reads it back only
    where INSERT has RETURNING (MariaDB, not MySQL); the SELECT loads it on both."""
    session.add_all(new)
    await session.commit()
    names = [customer.name for customer in new]
    stmt = select(Customer).where(Customer.name.in_(names)).order_by(Customer.name)
    return list(await session.scalars(stmt))
    # ANCHOR_END: create_many


# ANCHOR: query
async def customers_with_job_like(
    session: AsyncSession, word: str, limit: int
) -> list[Customer]:
    """Up to `limit` customers whose job contains `word`, by name."""
    stmt = (
        select(Customer)
        .where(Customer.job.like(f"%{word}%"))
        .order_by(Customer.name)
        .limit(limit)
    )
    return list(await session.scalars(stmt))
    # ANCHOR_END: query


# ANCHOR: find
async def find_customer(session: AsyncSession, id: int) -> Customer | None:
    """The customer with primary key `id`, or None. `get` looks in the session's identity
    map first, and queries only when the object is not there."""
    return await session.get(Customer, id)
    # ANCHOR_END: find


# ANCHOR: update
async def update_customer(
    session: AsyncSession, customer: Customer, **changes: str | None
) -> Customer:
    """Sets attributes and commits: the flush sends an UPDATE of the changed columns
    only. With expire_on_commit=False, `customer` then holds what was written."""
    for attribute, value in changes.items():
        setattr(customer, attribute, value)
    await session.commit()
    return customer
    # ANCHOR_END: update


# ANCHOR: delete
async def delete_customers(session: AsyncSession, ids: list[int]) -> int:
    """Deletes the customers with these ids, and their orders first (the foreign key
    demands it), in one transaction. Returns how many customers went."""
    await session.execute(delete(Order).where(Order.customer_id.in_(ids)))
    deleted = await session.execute(delete(Customer).where(Customer.id.in_(ids)))
    await session.commit()
    return deleted.rowcount
    # ANCHOR_END: delete


# Step 4: Relationships and the N+1 trap


# ANCHOR: statement_log
@contextmanager
def record_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Writes down the SQL of every statement the engine's connections send while the
    `with` block runs, without parameters, and every COMMIT and ROLLBACK."""
    statements: list[str] = []
    sync_engine = engine.sync_engine  # events live on the synchronous engine

    def on_execute(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(one_line(statement))

    def on_commit(conn) -> None:
        statements.append("COMMIT")

    def on_rollback(conn) -> None:
        statements.append("ROLLBACK")

    listeners: dict[str, Callable[..., None]] = {
        "before_cursor_execute": on_execute,
        "commit": on_commit,
        "rollback": on_rollback,
    }
    for name, listener in listeners.items():
        event.listen(sync_engine, name, listener)
    try:
        yield statements
    finally:
        for name, listener in listeners.items():
            event.remove(sync_engine, name, listener)
    # ANCHOR_END: statement_log


# ANCHOR: questions
async def server_questions(session: AsyncSession) -> int:
    """The server's count of statements this session's connection has sent
    (`Questions`), the SHOW that reads it included.

    NOTE: `SHOW SESSION STATUS` works on MySQL 8 and MariaDB alike; MariaDB also has
    `information_schema.SESSION_STATUS`, which MySQL 8 removed."""
    result = await session.execute(text("SHOW SESSION STATUS LIKE 'Questions'"))
    return int(result.one().Value)
    # ANCHOR_END: questions


# ANCHOR: naive
async def customers_with_orders_naive(
    session: AsyncSession, names: list[str]
) -> list[tuple[Customer, list[Order]]]:
    """The customers named `names`, by name, each with its orders: one query for the
    customers, then a lazy load per customer, awaited through `awaitable_attrs`. This
    is the N+1 pattern."""
    stmt = select(Customer).where(Customer.name.in_(names)).order_by(Customer.name)
    customers = await session.scalars(stmt)
    return [(c, await c.awaitable_attrs.orders) for c in customers]
    # ANCHOR_END: naive


# ANCHOR: eager
async def customers_with_orders_eager(
    session: AsyncSession, names: list[str]
) -> list[tuple[Customer, list[Order]]]:
    """The same result in two statements, whatever the number of customers: the
    customers, then all their orders at once (`WHERE customer_id IN (...)`)."""
    stmt = (
        select(Customer)
        .where(Customer.name.in_(names))
        .order_by(Customer.name)
        .options(selectinload(Customer.orders))
    )
    return [(c, c.orders) for c in await session.scalars(stmt)]
    # ANCHOR_END: eager


# ANCHOR: missing_greenlet
async def touch_orders_unloaded(session: AsyncSession, name: str) -> str:
    """Loads a customer without its orders, then reads `customer.orders` as a plain
    attribute: the lazy load would be I/O outside `await`, and asyncio refuses it."""
    stmt = select(Customer).where(Customer.name == name)
    customer = (await session.scalars(stmt)).one()
    try:
        return f"{len(customer.orders)} orders"
    except StatementError as e:  # SQLAlchemy wraps it: e.orig is the MissingGreenlet
        return f"{type(e.orig).__name__}: {str(e.orig).split(';')[0]}"
    # ANCHOR_END: missing_greenlet


# Step 5: Transactions


# ANCHOR: transaction
class CardDeclinedError(Exception):
    """What goes wrong on purpose in the first transaction."""


async def add_orders_then_fail(session: AsyncSession, customer: Customer) -> None:
    """Adds two orders in one transaction and then fails: `session.begin()` rolls back
    when its block raises, so neither order stays. The exception goes on to the caller."""
    async with session.begin():
        session.add(Order(customer_id=customer.id, item="desk", amount_cents=25_000))
        session.add(Order(customer_id=customer.id, item="chair", amount_cents=12_000))
        await session.flush()  # the INSERT goes out, inside the transaction
        raise CardDeclinedError("the card was declined")
    # ANCHOR_END: transaction


# ANCHOR: nested
class OutOfStockError(Exception):
    """What goes wrong on purpose in the nested transaction."""


async def nested_transaction(session: AsyncSession, customer: Customer) -> str:
    """A transaction with a nested one inside: `begin_nested()` is a SAVEPOINT. The inner
    one fails and rolls back to its savepoint; the outer one goes on and commits.
    Returns the inner error."""
    inner_error = ""
    async with session.begin():
        session.add(Order(customer_id=customer.id, item="lamp", amount_cents=3_500))
        try:
            async with session.begin_nested():
                rug = Order(customer_id=customer.id, item="rug", amount_cents=9_900)
                session.add(rug)
                await session.flush()
                raise OutOfStockError("the rug is out of stock")
        except OutOfStockError as e:
            inner_error = str(e)
    return inner_error
    # ANCHOR_END: nested


# ANCHOR: transfer
async def transfer_orders(
    session: AsyncSession, sender: Customer, receiver: Customer, limit_cents: int
) -> int:
    """Moves every order of `sender` to `receiver`, unless `receiver` would then owe more
    than `limit_cents`. The UPDATE runs first and the check after it: when the check
    fails, the transaction rolls the UPDATE back. Returns how many moved."""
    async with session.begin():
        moved = await session.execute(
            update(Order)
            .where(Order.customer_id == sender.id)
            .values(customer_id=receiver.id)
        )
        total_cents = await owed_cents(session, receiver)
        if total_cents > limit_cents:
            raise OverLimitError(total_cents, limit_cents)
    return moved.rowcount
    # ANCHOR_END: transfer


# ANCHOR: transfer_error
class OverLimitError(Exception):
    """The receiving customer would owe more than the limit."""

    def __init__(self, total_cents: int, limit_cents: int) -> None:
        total, limit = dollars(total_cents), dollars(limit_cents)
        super().__init__(f"the receiver would owe {total}, over the limit of {limit}")
        self.total_cents = total_cents
        self.limit_cents = limit_cents
        # ANCHOR_END: transfer_error


async def owed_cents(session: AsyncSession, customer: Customer) -> int:
    """What `customer` owes: the total of their orders, in cents."""
    stmt = select(Order.amount_cents).where(Order.customer_id == customer.id)
    return sum(await session.scalars(stmt))


async def order_items(session: AsyncSession, customer: Customer) -> list[str]:
    """The items of `customer`'s orders, oldest first."""
    stmt = select(Order.item).where(Order.customer_id == customer.id).order_by(Order.id)
    return list(await session.scalars(stmt))


def dollars(cents: int) -> str:
    """Whole cents as dollars, e.g. `12.50`."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02}"


# Step 6: Pagination


# ANCHOR: offset_page
async def orders_page_by_offset(
    session: AsyncSession, customer_id: int, page: int, size: int
) -> list[Order]:
    """Page `page` (from 0) of a customer's orders, `size` per page, by id: `LIMIT ...
    OFFSET ...`. The server reads and throws away `page * size` rows to find the page."""
    stmt = (
        select(Order)
        .where(Order.customer_id == customer_id)
        .order_by(Order.id)
        .limit(size)
        .offset(page * size)
    )
    return list(await session.scalars(stmt))
    # ANCHOR_END: offset_page


# ANCHOR: keyset_page
async def orders_page_after(
    session: AsyncSession, customer_id: int, after: int, size: int
) -> list[Order]:
    """The `size` orders of a customer that come after the order with id `after` (0 for
    the first page): `WHERE id > ? ORDER BY id LIMIT ?`. The index finds the start."""
    stmt = (
        select(Order)
        .where(Order.customer_id == customer_id, Order.id > after)
        .order_by(Order.id)
        .limit(size)
    )
    return list(await session.scalars(stmt))
    # ANCHOR_END: keyset_page


# ANCHOR: keyset_pages
async def all_pages_by_keyset(
    session: AsyncSession, customer_id: int, size: int
) -> list[list[Order]]:
    """Every order of a customer, page by page with the keyset: each page starts after
    the last id of the one before."""
    pages: list[list[Order]] = []
    after = 0
    while page := await orders_page_after(session, customer_id, after, size):
        pages.append(page)
        after = page[-1].id
        if len(page) < size:
            break
    return pages
    # ANCHOR_END: keyset_pages


# ANCHOR: drift
async def second_page_after_a_delete(
    session: AsyncSession, customer_id: int, size: int
) -> tuple[list[str], list[str]]:
    """Reads the first page of a customer's orders, deletes the first order on it (as
    another session might, between a reader's two clicks), then reads the second page
    both ways. Returns the items of page 2 by offset and by keyset."""
    page_one = await orders_page_by_offset(session, customer_id, 0, size)
    if not page_one:
        return [], []
    await session.delete(page_one[0])
    await session.commit()
    by_offset = await orders_page_by_offset(session, customer_id, 1, size)
    by_keyset = await orders_page_after(session, customer_id, page_one[-1].id, size)
    return [o.item for o in by_offset], [o.item for o in by_keyset]
    # ANCHOR_END: drift


async def all_pages_by_offset(
    session: AsyncSession, customer_id: int, size: int
) -> list[list[Order]]:
    """Every order of a customer, page by page with OFFSET, until a page comes back
    short."""
    pages: list[list[Order]] = []
    page_number = 0
    while page := await orders_page_by_offset(session, customer_id, page_number, size):
        pages.append(page)
        if len(page) < size:
            break
        page_number += 1
    return pages


# Step 7: Streaming


# ANCHOR: load_stream
async def stream_order_total(session: AsyncSession, customer_id: int) -> tuple[int, int]:
    """How many orders a customer has, and their total in cents, read as they come: a
    server-side cursor, fetched `yield_per` rows at a time; no list of all of them is
    ever built."""
    stmt = (
        select(Order)
        .where(Order.customer_id == customer_id)
        .order_by(Order.id)
        .execution_options(yield_per=100)
    )
    count = total_cents = 0
    # The session's connection is busy until the loop ends: no other query can run on
    # it while the rows are still coming.
    async for order in await session.stream_scalars(stmt):
        count += 1
        total_cents += order.amount_cents
    return count, total_cents
    # ANCHOR_END: load_stream


# The steps, as `main` runs them: each returns the lines it prints.

Factory = async_sessionmaker[AsyncSession]


async def seed_customers_with_orders(
    session: AsyncSession, names: list[str], orders_each: int
) -> list[Customer]:
    """Creates customers named `names` (job "Buyer"), with `orders_each` orders each
    (`item 1` for 1.00, `item 2` for 2.00...), the orders in one multi-row INSERT.
    Returns the customers, by name."""
    created = await create_customers(
        session, [Customer(name=name, job="Buyer") for name in names]
    )
    rows = [
        {"customer_id": c.id, "item": f"item {i}", "amount_cents": 100 * i}
        for c in created
        for i in range(1, orders_each + 1)
    ]
    if rows:
        await session.execute(insert(Order), rows)
        await session.commit()
    return created


def show(customer: Customer) -> str:
    """A customer without the id, which changes from run to run."""
    job = "NULL" if customer.job is None else f'"{customer.job}"'
    return f"{customer.name} ({job})"


def show_order(order: Order) -> str:
    """An order without its ids, and its price in dollars."""
    return f"{order.item} {dollars(order.amount_cents)}"


async def step_1() -> list[str]:
    return generated_sql()


async def step_2(engine: AsyncEngine) -> list[str]:
    with record_statements(engine) as statements:
        await create_tables(engine)
    checked = [sql for sql in statements if sql.startswith("DESCRIBE")]
    created = [sql for sql in statements if sql.startswith("CREATE")]
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    open_now = pool.checkedin() + pool.checkedout()
    return [
        f"create_all: {len(checked)} tables checked, {len(created)} created",
        f"pool: at most {pool.size()} connections, {open_now} open, "
        f"{pool.checkedin()} idle",
    ]


async def step_3(engine: AsyncEngine, async_session: Factory) -> list[str]:
    three = [
        Customer(name="Grace", job="Compiler Developer"),
        Customer(name="Linus", job="Kernel Developer"),
        Customer(name="Margaret"),
    ]
    lines = []
    async with async_session() as session:
        ada = await create_customer(session, Customer(name="Ada", job="Engineer"))
        given = "an id" if ada.id is not None else "no id"
        lines.append(f"created one, the flush gave it {given}: {show(ada)}")
        many = await create_customers(session, three)
        lines.append(f"created {len(many)} in one flush, read back by name:")
        lines += [f"  {show(c)}" for c in many]
        developers = await customers_with_job_like(session, "Developer", 2)
        lines.append(f"first 2 developers by name: {', '.join(map(show, developers))}")
        with record_statements(engine) as statements:
            found = await find_customer(session, ada.id)
        lines.append(
            f"found by primary key, {len(statements)} statements sent: "
            f"{show(found) if found else 'nobody'}"
        )
        lines.append(f"get(Customer, -1): {await find_customer(session, -1)}")
        updated = await update_customer(session, ada, job="Staff Engineer")
        lines.append(f"updated through the unit of work: {show(updated)}")
        ids = [c.id for c in many] + [ada.id]
        try:
            lynn = Customer(name="Lynn", job="Frontend Developer")
            second = await create_customer(session, lynn)
            ids.append(second.id)
            lines.append(f"created a second Lynn?! {show(second)}")
        except DuplicateNameError as e:
            lines.append(f"refused: {e}")
        deleted = await delete_customers(session, ids)
        lines.append(f"deleted the {deleted} customers this step created")
    return lines


async def step_4(engine: AsyncEngine, async_session: Factory) -> list[str]:
    names = ["Ada", "Grace", "Linus"]
    async with async_session() as session:
        seeded = await seed_customers_with_orders(session, names, 2)
    async with async_session() as session:
        unloaded = await touch_orders_unloaded(session, "Ada")
    async with async_session() as session:
        before = await server_questions(session)
        with record_statements(engine) as naive:
            await customers_with_orders_naive(session, names)
        middle = await server_questions(session)
        session.expunge_all()  # forget what was loaded, so that nothing is at hand
        with record_statements(engine) as eager:
            loaded = await customers_with_orders_eager(session, names)
        after = await server_questions(session)
    async with async_session() as session:
        await delete_customers(session, [c.id for c in seeded])
    n = len(names)
    # Each reading of `Questions` counts itself: take it off the difference.
    lines = [
        f"customer.orders, not loaded: {unloaded}",
        f"naive, awaitable_attrs per customer: {len(naive)} statements for {n} "
        f"customers (server: {middle - before - 1})",
        f"eager, selectinload(Customer.orders): {len(eager)} statements for {n} "
        f"customers (server: {after - middle - 1})",
    ]
    for customer, orders in loaded:
        lines.append(f"  {customer.name}: {', '.join(map(show_order, orders))}")
    return lines


LIMIT_CENTS = 160_000


async def step_5(engine: AsyncEngine, async_session: Factory) -> list[str]:
    lines = []
    async with async_session() as session:
        ada, grace = await seed_customers_with_orders(session, ["Ada", "Grace"], 0)
    async with async_session() as session:
        try:
            await add_orders_then_fail(session, ada)
        except CardDeclinedError as e:
            lines.append(f"rolled back: {e}")
        items = await order_items(session, ada)
        lines.append(f"Ada's orders after the rollback: {json.dumps(items)}")
    async with async_session() as session:
        with record_statements(engine) as statements:
            inner_error = await nested_transaction(session, ada)
        lines.append(f"the inner transaction failed: {inner_error}")
        lines.append("statements sent:")
        lines += [f"  {sql}" for sql in statements]
        items = await order_items(session, ada)
        lines.append(f"Ada's orders after the outer commit: {json.dumps(items)}")
    async with async_session() as session:
        session.add_all(
            [
                Order(customer_id=ada.id, item="monitor", amount_cents=20_000),
                Order(customer_id=ada.id, item="keyboard", amount_cents=8_000),
                Order(customer_id=grace.id, item="laptop", amount_cents=150_000),
            ]
        )
        await session.commit()
    async with async_session() as session:
        try:
            moved = await transfer_orders(session, ada, grace, LIMIT_CENTS)
            lines.append(f"moved {moved} orders from Ada to Grace")
        except OverLimitError as e:
            lines.append(f"transfer refused: {e}")
        for customer in (ada, grace):
            items = await order_items(session, customer)
            lines.append(
                f"{customer.name}'s orders after the refused transfer: "
                f"{json.dumps(items)}"
            )
        await delete_customers(session, [ada.id, grace.id])
    return lines


ORDERS = 23
PAGE_SIZE = 10


async def step_6(engine: AsyncEngine, async_session: Factory) -> list[str]:
    async with async_session() as session:
        (ada,) = await seed_customers_with_orders(session, ["Ada"], ORDERS)
    async with async_session() as session:
        with record_statements(engine) as offset_sql:
            await orders_page_by_offset(session, ada.id, 0, PAGE_SIZE)
        with record_statements(engine) as keyset_sql:
            await orders_page_after(session, ada.id, 0, PAGE_SIZE)
        by_offset = await all_pages_by_offset(session, ada.id, PAGE_SIZE)
        by_keyset = await all_pages_by_keyset(session, ada.id, PAGE_SIZE)
        drift = await second_page_after_a_delete(session, ada.id, PAGE_SIZE)
        await delete_customers(session, [ada.id])
    lines = [f"offset: {'; '.join(offset_sql)}", f"keyset: {'; '.join(keyset_sql)}"]
    for kind, pages in (("offset", by_offset), ("keyset", by_keyset)):
        for n, page in enumerate(pages, start=1):
            total = dollars(sum(o.amount_cents for o in page))
            lines.append(
                f"{kind} page {n}: {len(page)} orders, "
                f"{page[0].item} .. {page[-1].item}, {total}"
            )
    after = "after deleting item 1, page 2"
    lines.append(f"{after} by offset: {', '.join(drift[0])}")
    lines.append(f"{after} by keyset: {', '.join(drift[1])}")
    return lines


STREAM_ORDERS = 1_000


async def step_7(engine: AsyncEngine, async_session: Factory) -> list[str]:
    async with async_session() as session:
        (ada,) = await seed_customers_with_orders(session, ["Ada"], STREAM_ORDERS)
    async with async_session() as session:
        streamed, total_cents = await stream_order_total(session, ada.id)
        loaded_total_cents = await owed_cents(session, ada)
        await delete_customers(session, [ada.id])
    return [
        f"streamed {streamed} orders, fetched 100 at a time (yield_per), "
        f"{dollars(total_cents)} in total",
        f"loaded into a list instead: {dollars(loaded_total_cents)} in total",
    ]


# Plumbing: the URL, the steps in order, one line for any error.

PROGRAM = "orm.py"
MAX_SIZE = 5


def step(number: int, title: str, lines: list[str]) -> None:
    print(f"\n== Step {number}: {title} ==")
    for line in lines:
        print(line)


async def steps(url: URL) -> None:
    engine, async_session = session_factory(url, MAX_SIZE)
    try:
        step(1, "Schema and models", await step_1())
        step(2, "The pool as a session factory", await step_2(engine))
        step(3, "CRUD", await step_3(engine, async_session))
        step(4, "Relationships and the N+1 trap", await step_4(engine, async_session))
        step(5, "Transactions", await step_5(engine, async_session))
        step(6, "Pagination", await step_6(engine, async_session))
        step(7, "Streaming", await step_7(engine, async_session))
    finally:
        await engine.dispose()


def main() -> int:
    return twin.main(
        PROGRAM, lambda: asyncio.run(steps(twin.database_url("just python 3")))
    )


if __name__ == "__main__":
    sys.exit(main())

"""Lesson 8's customers API again, with FastAPI and SQLAlchemy asyncio on asyncmy.

The same routes, statuses and error bodies as the axum service, so that one load runs
against either. `lesson-8 --bench --python` serves it with uvicorn:

    DATABASE_URL=mysql://root@127.0.0.1:3306/sales POOL_SIZE=4 \\
        python -m uvicorn app:app --app-dir lessons/08-serving/python --port 8000

POOL_SIZE sets the pool (5 when unset), ACQUIRE_TIMEOUT_MS its acquire timeout (250).
"""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


# ANCHOR: models
class Customer(BaseModel):
    id: int
    name: str
    job: str | None


class NewCustomer(BaseModel):
    name: str = Field(min_length=1, max_length=50, pattern=r"\S")
    job: str | None = Field(default=None, max_length=50)


class CustomerPage(BaseModel):
    customers: list[Customer]
    next: int | None


# ANCHOR_END: models


# ANCHOR: engine
def engine_from_env() -> AsyncEngine:
    """One engine for the process: its pool is the Rust service's pool."""
    url = make_url(os.environ["DATABASE_URL"]).set(drivername="mysql+asyncmy")
    return create_async_engine(
        url,
        pool_size=int(os.environ.get("POOL_SIZE", "5")),
        max_overflow=0,
        pool_timeout=int(os.environ.get("ACQUIRE_TIMEOUT_MS", "250")) / 1000,
        pool_pre_ping=True,
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.engine = engine_from_env()
    yield
    await app.state.engine.dispose()  # after uvicorn has drained the requests


app = FastAPI(lifespan=lifespan)
# ANCHOR_END: engine


# ANCHOR: errors
class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        self.status, self.error, self.message = status, error, message


def error_response(status: int, error: str, message: str) -> JSONResponse:
    headers = {"Retry-After": "1"} if status == 503 else None
    body = {"error": error, "message": message}
    return JSONResponse(body, status_code=status, headers=headers)


@app.exception_handler(ApiError)
async def on_api_error(_: Request, e: ApiError) -> JSONResponse:
    return error_response(e.status, e.error, e.message)


@app.exception_handler(RequestValidationError)
async def on_bad_input(_: Request, e: RequestValidationError) -> JSONResponse:
    first = e.errors()[0] if e.errors() else {"msg": "bad input"}
    return error_response(422, "bad_input", str(first["msg"]))


# ANCHOR_END: errors


# ANCHOR: database_errors
@app.exception_handler(DBAPIError)
async def on_database_error(_: Request, e: DBAPIError) -> JSONResponse:
    if isinstance(e, IntegrityError) and e.orig.args[0] == 1062:
        return error_response(409, "conflict", "a customer with this name already exists")
    if isinstance(e, IntegrityError) and e.orig.args[0] in (1451, 1452):
        return error_response(409, "conflict", "the customer still has orders")
    if isinstance(e, OperationalError) and e.connection_invalidated:
        return error_response(503, "unavailable", "the database is down")
    return error_response(500, "internal", "a bug")


@app.exception_handler(PoolTimeout)
async def on_pool_timeout(_: Request, e: PoolTimeout) -> JSONResponse:
    return error_response(503, "busy", "try again shortly")


# ANCHOR_END: database_errors


# ANCHOR: connection
async def connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """A connection for the request, inside one transaction: committed when the handler
    returns, rolled back when it raises."""
    engine: AsyncEngine = request.app.state.engine
    async with engine.begin() as conn:
        yield conn


Conn = Annotated[AsyncConnection, Depends(connection)]
# ANCHOR_END: connection


# Before `/customers/{id}`: FastAPI tries the routes in order.
@app.get("/customers/search")
async def search_customers(
    conn: Conn,
    name_prefix: str | None = None,
    job: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[Customer]:
    where, values = [], {"n": limit}
    if name_prefix is not None:
        escaped = "".join("!" + c if c in "!%_" else c for c in name_prefix)
        where.append("name LIKE :prefix ESCAPE '!'")
        values["prefix"] = escaped + "%"
    if job is not None:
        where.append("job = :job")
        values["job"] = job
    sql = "SELECT id, name, job FROM customers"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = await conn.execute(text(sql + " ORDER BY name LIMIT :n"), values)
    return [Customer(**row._mapping) for row in rows]


# ANCHOR: routes
@app.get("/customers")
async def list_customers(
    conn: Conn, after: int = 0, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> CustomerPage:
    rows = await conn.execute(
        text("SELECT id, name, job FROM customers WHERE id > :a ORDER BY id LIMIT :n"),
        {"a": after, "n": limit + 1},
    )
    customers = [Customer(**row._mapping) for row in rows]
    more = len(customers) > limit
    customers = customers[:limit]
    return CustomerPage(customers=customers, next=customers[-1].id if more else None)


@app.get("/customers/{id}")
async def get_customer(conn: Conn, id: int) -> Customer:
    rows = await conn.execute(
        text("SELECT id, name, job FROM customers WHERE id = :id"), {"id": id}
    )
    row = rows.first()
    if row is None:
        raise ApiError(404, "not_found", "no such customer")
    return Customer(**row._mapping)


# ANCHOR_END: routes


@app.post("/customers", status_code=201)
async def create_customer(conn: Conn, new: NewCustomer, response: Response) -> Customer:
    await conn.execute(
        text("INSERT INTO customers (name, job) VALUES (:name, :job)"), new.model_dump()
    )
    rows = await conn.execute(
        text("SELECT id, name, job FROM customers WHERE id = LAST_INSERT_ID()")
    )
    customer = Customer(**rows.one()._mapping)
    response.headers["Location"] = f"/customers/{customer.id}"
    return customer


@app.put("/customers/{id}")
async def update_customer(conn: Conn, id: int, new: NewCustomer) -> Customer:
    found = await conn.execute(
        text("SELECT id FROM customers WHERE id = :id FOR UPDATE"), {"id": id}
    )
    if found.first() is None:
        raise ApiError(404, "not_found", "no such customer")
    await conn.execute(
        text("UPDATE customers SET name = :name, job = :job WHERE id = :id"),
        {"id": id, **new.model_dump()},
    )
    return Customer(id=id, **new.model_dump())


@app.delete("/customers/{id}", status_code=204)
async def delete_customer(conn: Conn, id: int) -> Response:
    deleted = await conn.execute(text("DELETE FROM customers WHERE id = :id"), {"id": id})
    if deleted.rowcount == 0:
        raise ApiError(404, "not_found", "no such customer")
    return Response(status_code=204)


# ANCHOR: ready
@app.get("/ready")
async def ready(request: Request) -> dict[str, Any]:
    engine: AsyncEngine = request.app.state.engine
    try:
        async with asyncio.timeout(1):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except (DBAPIError, PoolTimeout, TimeoutError, OSError):
        return error_response(503, "unavailable", "the database is down")
    return {"status": "ready"}


# ANCHOR_END: ready


@app.get("/demo/hold")
async def hold(conn: Conn, ms: int) -> str:
    """Holds a connection for `ms` with SELECT SLEEP, as the Rust service's route does."""
    await conn.execute(text("SELECT SLEEP(:s)"), {"s": min(ms, 10_000) / 1000})
    return "done"

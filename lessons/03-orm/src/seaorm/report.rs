//! What each SeaORM step reports, where diesel's reports do not fit: plain data, printed
//! as the lines the book shows. Nothing here is part of the lesson's teaching; the tests
//! assert on the fields.

use std::fmt;

use super::{customer, order};
use crate::models::dollars;
use crate::report::PageItem;

/// Shows a customer without the `id`, which changes from run to run, as diesel's side
/// does.
impl fmt::Display for customer::Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.job {
            Some(job) => write!(f, "{} ({job:?})", self.name),
            None => write!(f, "{} (NULL)", self.name),
        }
    }
}

/// Shows an order without its ids, and its price in dollars.
impl fmt::Display for order::Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.item, dollars(self.cents()))
    }
}

impl PageItem for order::Model {
    fn item(&self) -> &str {
        &self.item
    }

    fn cents(&self) -> i64 {
        i64::from(self.amount_cents)
    }
}

/// Step 2, with SeaORM: the pool, and what sqlx's statement log saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sessions {
    /// The most connections the pool opens.
    pub max_size: u32,
    /// The connections open now.
    pub open: u32,
    /// The connections open and idle now.
    pub idle: usize,
    /// What the statement log saw of a `SELECT 1` with sqlx's logging on.
    pub logged_on: Vec<String>,
    /// What it saw of the same with the logging off.
    pub logged_off: Vec<String>,
}

impl fmt::Display for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "pool: at most {} connections, {} open, {} idle",
            self.max_size, self.open, self.idle
        )?;
        writeln!(f, "sqlx logging on, the log saw: {:?}", self.logged_on)?;
        write!(f, "sqlx logging off, the log saw: {:?}", self.logged_off)
    }
}

/// Step 3, with SeaORM: what each CRUD call returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crud {
    /// The customer created alone with `ActiveModel::insert`.
    pub created: customer::Model,
    /// The SQL of the statements that `insert` sent.
    pub insert_sql: Vec<String>,
    /// The customers created in one `insert_many`, read back by name.
    pub many: Vec<customer::Model>,
    /// Which of `many` has the id that `insert_many`'s `last_insert_id` gave, if any.
    pub last_insert_row: Option<usize>,
    /// The first two developers, by name.
    pub developers: Vec<customer::Model>,
    /// The customer created alone, found by its primary key.
    pub found: Option<customer::Model>,
    /// What the primary key -1 found.
    pub missing: Option<customer::Model>,
    /// The customer created alone, after its update.
    pub updated: customer::Model,
    /// A second customer named Lynn: `Err` with the name when the unique key refused it.
    pub duplicate: Result<customer::Model, String>,
    /// How many customers the step deleted at its end.
    pub deleted: u64,
}

impl fmt::Display for Crud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let statements = self.insert_sql.len();
        writeln!(f, "created one, {statements} statements: {}", self.created)?;
        for sql in &self.insert_sql {
            writeln!(f, "  {sql}")?;
        }
        let count = self.many.len();
        writeln!(f, "created {count} in one insert_many, read back by name:")?;
        for customer in &self.many {
            writeln!(f, "  {customer}")?;
        }
        match self.last_insert_row.and_then(|row| self.many.get(row)) {
            Some(c) => writeln!(f, "insert_many's last_insert_id is {}'s id", c.name)?,
            None => writeln!(f, "insert_many's last_insert_id is none of theirs")?,
        }
        let developers: Vec<String> =
            self.developers.iter().map(|c| c.to_string()).collect();
        writeln!(f, "first 2 developers by name: {}", developers.join(", "))?;
        match &self.found {
            Some(customer) => writeln!(f, "find_by_id: {customer}")?,
            None => writeln!(f, "find_by_id: nobody")?,
        }
        writeln!(f, "find_by_id(-1): {:?}", self.missing)?;
        writeln!(f, "updated through the ActiveModel: {}", self.updated)?;
        match &self.duplicate {
            Ok(customer) => writeln!(f, "created a second Lynn?! {customer}")?,
            Err(name) => {
                writeln!(f, "refused: a customer named {name:?} already exists")?
            }
        }
        write!(
            f,
            "deleted the {} customers this step created",
            self.deleted
        )
    }
}

/// Step 4, with SeaORM: statements one way of loading took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    /// Statements sent, by sqlx's statement log.
    pub statements: usize,
    /// Statements sent, by the server's `Questions`.
    pub server: u64,
}

/// Step 4, with SeaORM: how many statements each way of loading took, and what was
/// loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relations {
    /// How many customers were loaded with their orders.
    pub customers: usize,
    /// The naive way: `find_related` for each customer.
    pub naive: Count,
    /// `find_with_related`: one `LEFT JOIN`.
    pub joined: Count,
    /// `load_many`: the customers, then their orders with `IN (...)`.
    pub loaded: Count,
    /// Whether the three ways loaded the same customers and orders.
    pub same: bool,
    /// What `load_many` loaded: each customer with their orders.
    pub result: Vec<(customer::Model, Vec<order::Model>)>,
}

impl fmt::Display for Relations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ways = [
            ("naive, find_related for each customer", self.naive),
            ("find_with_related, one LEFT JOIN", self.joined),
            ("load_many, the orders by IN (...)", self.loaded),
        ];
        for (way, count) in ways {
            let (n, customers) = (count.statements, self.customers);
            let statements = if n == 1 { "statement" } else { "statements" };
            writeln!(
                f,
                "{way}: {n} {statements} for {customers} customers (server: {})",
                count.server
            )?;
        }
        let same = if self.same { "the same" } else { "different" };
        write!(f, "the three ways loaded {same} customers and orders:")?;
        for (customer, orders) in &self.result {
            let items: Vec<String> = orders.iter().map(ToString::to_string).collect();
            write!(f, "\n  {}: {}", customer.name, items.join(", "))?;
        }
        Ok(())
    }
}

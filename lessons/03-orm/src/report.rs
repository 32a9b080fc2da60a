//! What each step reports: plain data, printed as the lines the book shows. Nothing here
//! is part of the lesson's teaching; the tests assert on the fields.

use std::fmt;

use crate::models::{Customer, Order, dollars};
use crate::s5_transactions::TransferError;

/// Step 1: the SQL that diesel generates, as `debug_query` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedSql(pub Vec<String>);

impl fmt::Display for GeneratedSql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.join("\n"))
    }
}

/// Step 2: the migrations applied, and the pool after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sessions {
    /// The versions of the migrations applied, oldest first.
    pub applied: Vec<String>,
    /// The most connections the pool opens.
    pub max_size: usize,
    /// The connections open now.
    pub open: usize,
    /// The connections open and idle now.
    pub idle: usize,
}

impl fmt::Display for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "migrations applied: {}", self.applied.join(", "))?;
        write!(
            f,
            "pool: at most {} connections, {} open, {} idle",
            self.max_size, self.open, self.idle
        )
    }
}

/// Step 3: what each CRUD call returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crud {
    /// The customer created alone, read back by `LAST_INSERT_ID()`.
    pub created: Customer,
    /// The customers created in one `INSERT`, read back by name.
    pub many: Vec<Customer>,
    /// The first two developers, by name.
    pub developers: Vec<Customer>,
    /// The customer created alone, found by its primary key.
    pub found: Option<Customer>,
    /// What the primary key -1 found.
    pub missing: Option<Customer>,
    /// The customer created alone, after its update.
    pub updated: Customer,
    /// A second customer named Lynn: `Err` with the name when the unique key refused it.
    pub duplicate: Result<Customer, String>,
    /// How many customers the step deleted at its end.
    pub deleted: usize,
}

impl fmt::Display for Crud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list =
            |c: &[Customer]| -> Vec<String> { c.iter().map(|c| c.to_string()).collect() };
        writeln!(
            f,
            "created one, read back by LAST_INSERT_ID(): {}",
            self.created
        )?;
        writeln!(
            f,
            "created {} in one INSERT, read back by name:",
            self.many.len()
        )?;
        for customer in &self.many {
            writeln!(f, "  {customer}")?;
        }
        writeln!(
            f,
            "first 2 developers by name: {}",
            list(&self.developers).join(", ")
        )?;
        match &self.found {
            Some(customer) => writeln!(f, "found by primary key: {customer}")?,
            None => writeln!(f, "found by primary key: nobody")?,
        }
        writeln!(f, "find(-1): {:?}", self.missing)?;
        writeln!(f, "updated through the changeset: {}", self.updated)?;
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

/// Step 4: how many statements each way of loading took, and what was loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relations {
    /// How many customers were loaded with their orders.
    pub customers: usize,
    /// Statements the naive way sent, by diesel's instrumentation.
    pub naive_statements: usize,
    /// Statements the naive way sent, by the server's `Questions`.
    pub naive_server: u64,
    /// Statements the eager way sent, by diesel's instrumentation.
    pub eager_statements: usize,
    /// Statements the eager way sent, by the server's `Questions`.
    pub eager_server: u64,
    /// What the eager way loaded: each customer with its orders.
    pub loaded: Vec<(Customer, Vec<Order>)>,
}

impl fmt::Display for Relations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "naive, one query per customer: {} statements for {} customers (server: {})",
            self.naive_statements, self.customers, self.naive_server
        )?;
        write!(
            f,
            "eager, belonging_to + grouped_by: {} statements for {} customers (server: {})",
            self.eager_statements, self.customers, self.eager_server
        )?;
        for (customer, orders) in &self.loaded {
            let items: Vec<String> = orders.iter().map(ToString::to_string).collect();
            write!(f, "\n  {}: {}", customer.name, items.join(", "))?;
        }
        Ok(())
    }
}

/// Step 5: how the transfer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    /// The orders moved: how many.
    Moved(usize),
    /// The receiver's limit refused the transfer, and it was rolled back.
    Refused {
        /// What the receiver would have owed, in cents.
        total_cents: i64,
        /// The limit, in cents.
        limit_cents: i64,
    },
}

/// Step 5: what each transaction left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transactions {
    /// The error that rolled the first transaction back, if it failed.
    pub rolled_back: Option<String>,
    /// Ada's order items after that rollback.
    pub after_rollback: Vec<String>,
    /// The error of the nested transaction.
    pub inner_error: String,
    /// The SQL the nested transaction sent, without bind values.
    pub statements: Vec<String>,
    /// Ada's order items after the outer transaction committed.
    pub after_commit: Vec<String>,
    /// How the transfer ended.
    pub transfer: Transfer,
    /// Each customer's name and order items after the transfer.
    pub after_transfer: Vec<(String, Vec<String>)>,
}

impl fmt::Display for Transactions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = &self.rolled_back {
            writeln!(f, "rolled back: {e}")?;
        }
        writeln!(
            f,
            "Ada's orders after the rollback: {:?}",
            self.after_rollback
        )?;
        writeln!(f, "the inner transaction failed: {}", self.inner_error)?;
        writeln!(f, "statements sent:")?;
        for sql in &self.statements {
            writeln!(f, "  {sql}")?;
        }
        writeln!(
            f,
            "Ada's orders after the outer commit: {:?}",
            self.after_commit
        )?;
        match self.transfer {
            Transfer::Moved(moved) => {
                writeln!(f, "moved {moved} orders from Ada to Grace")?
            }
            Transfer::Refused {
                total_cents,
                limit_cents,
            } => {
                let refusal = TransferError::OverLimit {
                    total_cents,
                    limit_cents,
                };
                writeln!(f, "transfer refused: {refusal}")?
            }
        }
        let lines: Vec<String> = self
            .after_transfer
            .iter()
            .map(|(name, items)| {
                format!("{name}'s orders after the refused transfer: {items:?}")
            })
            .collect();
        write!(f, "{}", lines.join("\n"))
    }
}

/// What a page's line shows of an order: its item and its price. Both ORMs' orders have
/// them, so that step 6 prints the same lines for both.
pub trait PageItem {
    /// What was ordered.
    fn item(&self) -> &str;
    /// The price in whole cents.
    fn cents(&self) -> i64;
}

impl PageItem for Order {
    fn item(&self) -> &str {
        &self.item
    }

    fn cents(&self) -> i64 {
        i64::from(self.amount_cents)
    }
}

/// Step 6: the SQL of each kind of page, the pages, and page 2 after a delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pagination<O = Order> {
    /// The SQL of a page by `OFFSET`.
    pub offset_sql: Vec<String>,
    /// The SQL of a page by keyset.
    pub keyset_sql: Vec<String>,
    /// Every page, by `OFFSET`.
    pub by_offset: Vec<Vec<O>>,
    /// Every page, by keyset.
    pub by_keyset: Vec<Vec<O>>,
    /// Page 2's items by `OFFSET`, after the first order was deleted.
    pub drift_offset: Vec<String>,
    /// Page 2's items by keyset, after the first order was deleted.
    pub drift_keyset: Vec<String>,
}

impl<O: PageItem> fmt::Display for Pagination<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "offset: {}", self.offset_sql.join("; "))?;
        writeln!(f, "keyset: {}", self.keyset_sql.join("; "))?;
        for (kind, pages) in [("offset", &self.by_offset), ("keyset", &self.by_keyset)] {
            for (n, page) in pages.iter().enumerate() {
                let first = page.first().map(PageItem::item).unwrap_or_default();
                let last = page.last().map(PageItem::item).unwrap_or_default();
                let total: i64 = page.iter().map(PageItem::cents).sum();
                writeln!(
                    f,
                    "{kind} page {}: {} orders, {first} .. {last}, {}",
                    n + 1,
                    page.len(),
                    dollars(total)
                )?;
            }
        }
        let after = "after deleting item 1, page 2";
        writeln!(f, "{after} by offset: {}", self.drift_offset.join(", "))?;
        write!(f, "{after} by keyset: {}", self.drift_keyset.join(", "))
    }
}

/// Step 7: what the stream counted and summed, and the same sum from a `load`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streaming {
    /// How many orders came through the stream.
    pub streamed: usize,
    /// Their total, in cents, summed as they came.
    pub total_cents: i64,
    /// The same total from a `load` into a `Vec`, in cents.
    pub loaded_total_cents: i64,
}

impl fmt::Display for Streaming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "streamed {} orders one at a time, {} in total",
            self.streamed,
            dollars(self.total_cents)
        )?;
        write!(
            f,
            "loaded into a Vec instead: {} in total",
            dollars(self.loaded_total_cents)
        )
    }
}

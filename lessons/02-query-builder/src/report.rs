//! What each step reports: plain data, printed as the lines the book shows. Nothing here
//! is part of the lesson's teaching; the tests assert on the fields.

use std::fmt;

use sea_query::{MysqlQueryBuilder, QueryBuilder, Value, Values};

use crate::s1_tables::Customer;
use crate::s4_select::CustomerTotals;
use crate::s6_seeing_sql::{Inlined, InlinedVersusBound};

/// A statement as `build()` returns it: the SQL with `?` placeholders, and the values
/// that travel beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The SQL text, as sent.
    pub sql: String,
    /// The bound values, in the order of the placeholders.
    pub values: Vec<Value>,
}

impl From<(String, Values)> for Statement {
    fn from((sql, values): (String, Values)) -> Self {
        Self {
            sql,
            values: values.0,
        }
    }
}

/// The SQL, then its values written as SQL literals, only so that they are easy to read.
impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values: Vec<String> = self
            .values
            .iter()
            .map(|v| MysqlQueryBuilder.value_to_string(v))
            .collect();
        write!(f, "{}\n  values: [{}]", self.sql, values.join(", "))
    }
}

/// Names, comma-separated, or `-` when there are none.
fn names(names: &[String]) -> String {
    if names.is_empty() {
        "-".to_owned()
    } else {
        names.join(", ")
    }
}

/// A nullable job as the lesson prints it.
fn job(job: Option<&str>) -> &str {
    job.unwrap_or("(NULL)")
}

/// Cents as dollars: `129900` is `1299.00`.
fn dollars(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

/// Step 1: each table's name and its columns', as the `Iden` enums write them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    /// `Customers::Table`.
    pub customers: String,
    /// The other variants of `Customers`.
    pub customer_columns: Vec<String>,
    /// `Orders::Table`.
    pub orders: String,
    /// The other variants of `Orders`.
    pub order_columns: Vec<String>,
}

impl fmt::Display for Tables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {}",
            self.customers,
            self.customer_columns.join(", ")
        )?;
        write!(f, "{}: {}", self.orders, self.order_columns.join(", "))
    }
}

/// Step 2: the DDL the builder made, and whether the table was there before it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ddl {
    /// The `CREATE TABLE IF NOT EXISTS` statement.
    pub sql: String,
    /// Whether `customers` existed before the statement ran.
    pub existed: bool,
}

impl fmt::Display for Ddl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.sql)?;
        if self.existed {
            write!(
                f,
                "(the migration made the table already: IF NOT EXISTS left it as it was)"
            )
        } else {
            write!(f, "(there was no table yet: the statement created it)")
        }
    }
}

/// Step 3: one upsert, with the rows it affected and the customers after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Upsert {
    /// The statement.
    pub statement: Statement,
    /// `rows_affected()`: 1 for a new row or an unchanged one, 2 for a changed one.
    pub affected: u64,
    /// The number of customers afterwards.
    pub customers: i64,
}

/// Step 3: the multi-row inserts and the upserts, each with what it did.
#[derive(Debug, Clone, PartialEq)]
pub struct Writes {
    /// The INSERT of the sample customers.
    pub insert: Statement,
    /// The rows it inserted.
    pub inserted: u64,
    /// The INSERT of the sample orders: only its SQL, since the customer ids in its
    /// values grow from run to run.
    pub orders_sql: String,
    /// The rows it inserted.
    pub orders_inserted: u64,
    /// The upserts, in order.
    pub upserts: Vec<Upsert>,
}

impl fmt::Display for Writes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.insert)?;
        writeln!(f, "-> rows inserted: {}", self.inserted)?;
        writeln!(f, "{}", self.orders_sql)?;
        let why = "the values are not shown: customer ids grow run to run";
        write!(f, "-> rows inserted: {} ({why})", self.orders_inserted)?;
        for upsert in &self.upserts {
            writeln!(f)?;
            writeln!(f, "{}", upsert.statement)?;
            write!(
                f,
                "-> rows affected: {}; customers now: {}",
                upsert.affected, upsert.customers
            )?;
        }
        Ok(())
    }
}

/// A SELECT, with the rows it returned.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected<T> {
    /// The statement.
    pub statement: Statement,
    /// Its rows.
    pub rows: Vec<T>,
}

/// Step 4: the selects, each with its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Selects {
    /// By job, by a list of names, by a LIKE pattern.
    pub customers: Vec<Selected<Customer>>,
    /// The customers per job.
    pub by_job: Selected<(Option<String>, i64)>,
    /// The join: each customer's orders, counted and totalled.
    pub totals: Selected<CustomerTotals>,
}

impl fmt::Display for Selects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names and jobs, without the ids, which grow from run to run.
        for select in &self.customers {
            writeln!(f, "{}", select.statement)?;
            for c in &select.rows {
                writeln!(f, "   {:<10} {}", c.name, job(c.job.as_deref()))?;
            }
        }
        writeln!(f, "{}", self.by_job.statement)?;
        for (jobname, n) in &self.by_job.rows {
            writeln!(f, "   {:<20} {n}", job(jobname.as_deref()))?;
        }
        write!(f, "{}", self.totals.statement)?;
        for t in &self.totals.rows {
            let total = dollars(t.total_cents);
            write!(f, "\n   {:<10} {} orders {total:>9}", t.name, t.orders)?;
        }
        Ok(())
    }
}

/// Step 5: each search's statement, with the names it found.
#[derive(Debug, Clone, PartialEq)]
pub struct Searches(pub Vec<Selected<String>>);

impl fmt::Display for Searches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self
            .0
            .iter()
            .map(|s| format!("{}\n-> {}", s.statement, names(&s.rows)))
            .collect();
        write!(f, "{}", lines.join("\n"))
    }
}

/// Step 6: one statement built and inlined, and what each form did when run.
#[derive(Debug, Clone, PartialEq)]
pub struct SeeingSql {
    /// `build()`'s SQL.
    pub sql: String,
    /// `build()`'s values.
    pub values: Values,
    /// `to_string()`: the values inlined.
    pub inlined: String,
    /// Each name looked up, with what the inlined and the bound statement did.
    pub runs: Vec<(String, InlinedVersusBound)>,
}

impl fmt::Display for SeeingSql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "build():     {}", self.sql)?;
        writeln!(f, "values:      {:?}", self.values)?;
        write!(f, "to_string(): {}", self.inlined)?;
        for (name, run) in &self.runs {
            writeln!(f)?;
            writeln!(f, "name = {name:?}, with NO_BACKSLASH_ESCAPES:")?;
            match &run.inlined {
                Inlined::Rows(rows) => {
                    writeln!(f, "   inlined: {} rows: {}", rows.len(), names(rows))?
                }
                Inlined::Error(number) => writeln!(f, "   inlined: error {number}")?,
            }
            write!(
                f,
                "   bound:   {} rows: {}",
                run.bound.len(),
                names(&run.bound)
            )?;
        }
        Ok(())
    }
}

/// Step 7: the update and the deletes, what each changed, and who is left.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateDelete {
    /// The UPDATE of Grace's job.
    pub update: Statement,
    /// The rows it updated.
    pub updated: u64,
    /// The DELETE of the sample customers' orders.
    pub delete_orders: Statement,
    /// The DELETE of the sample customers.
    pub delete_customers: Statement,
    /// The orders deleted.
    pub orders_deleted: u64,
    /// The customers deleted.
    pub customers_deleted: u64,
    /// The names of the customers left, by name.
    pub left: Vec<String>,
}

impl fmt::Display for UpdateDelete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.update)?;
        writeln!(f, "-> rows updated: {}", self.updated)?;
        writeln!(f, "{}", self.delete_orders)?;
        writeln!(f, "{}", self.delete_customers)?;
        writeln!(
            f,
            "-> orders deleted: {}; customers deleted: {}",
            self.orders_deleted, self.customers_deleted
        )?;
        write!(f, "left: {}", names(&self.left))
    }
}

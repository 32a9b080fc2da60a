//! Step 1: the tables described in code, and a struct for the rows of `customers`.

use sea_query::Iden;

// ANCHOR: customers_iden
/// The `customers` table and its columns. `Table` names the table; every other variant is
/// a column, named in snake_case (`Customers::Job` is `job`).
#[derive(Iden, Clone, Copy, Debug)]
pub enum Customers {
    /// `customers`
    Table,
    /// `id`
    Id,
    /// `name`
    Name,
    /// `job`
    Job,
}
// ANCHOR_END: customers_iden

// ANCHOR: orders_iden
/// The shared `orders` table: each row belongs to a customer.
#[derive(Iden, Clone, Copy, Debug)]
pub enum Orders {
    /// `orders`
    Table,
    /// `id`
    Id,
    /// `customer_id`, a foreign key to `customers.id`
    CustomerId,
    /// `item`
    Item,
    /// `amount_cents`
    AmountCents,
}
// ANCHOR_END: orders_iden

// ANCHOR: customer
/// A row of the article's `customers` table: the same struct as lesson 1's. Lessons never
/// depend on each other, so this lesson declares it again.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Customer {
    /// `SMALLINT NOT NULL AUTO_INCREMENT`: a 16-bit signed integer.
    pub id: i16,
    /// `VARCHAR(50) NOT NULL`.
    pub name: String,
    /// `VARCHAR(50) DEFAULT ''`: nullable, so an `Option`.
    pub job: Option<String>,
}
// ANCHOR_END: customer

// ANCHOR: customer_columns
/// The columns every customer query selects, in the order [`Customer`] reads them.
pub fn customer_columns() -> [(Customers, Customers); 3] {
    [
        (Customers::Table, Customers::Id),
        (Customers::Table, Customers::Name),
        (Customers::Table, Customers::Job),
    ]
}
// ANCHOR_END: customer_columns

/// Step 1's report: each table's name and its columns', as the enums write them.
pub async fn run(_ctx: &crate::Ctx) -> anyhow::Result<crate::report::Tables> {
    let names = |idens: &[&dyn Iden]| idens.iter().map(|i| i.to_string()).collect();
    Ok(crate::report::Tables {
        customers: Customers::Table.to_string(),
        customer_columns: names(&[&Customers::Id, &Customers::Name, &Customers::Job]),
        orders: Orders::Table.to_string(),
        order_columns: names(&[
            &Orders::Id,
            &Orders::CustomerId,
            &Orders::Item,
            &Orders::AmountCents,
        ]),
    })
}

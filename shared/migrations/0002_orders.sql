-- Orders belong to customers: the relationship that lessons 2 and 3 join and load.
-- Money is kept in whole cents, so no decimal type is needed on the Rust side.
CREATE TABLE IF NOT EXISTS orders (
  id INT NOT NULL AUTO_INCREMENT,
  customer_id SMALLINT NOT NULL,
  item VARCHAR(100) NOT NULL,
  amount_cents INT NOT NULL,
  PRIMARY KEY (id),
  KEY ix_orders_customer (customer_id),
  CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
);

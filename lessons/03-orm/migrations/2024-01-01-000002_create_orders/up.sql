-- Orders belong to customers, as in the shared schema: money in whole cents.
CREATE TABLE IF NOT EXISTS orders (
  id INT NOT NULL AUTO_INCREMENT,
  customer_id SMALLINT NOT NULL,
  item VARCHAR(100) NOT NULL,
  amount_cents INT NOT NULL,
  PRIMARY KEY (id),
  KEY ix_orders_customer (customer_id),
  CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
);

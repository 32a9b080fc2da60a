-- The same columns as `customers`, with `id` widened to INT so that tens of thousands of rows
-- fit: the table for streaming (lesson 1) and measuring (lesson 6).
CREATE TABLE IF NOT EXISTS bench_customers (
  id INT NOT NULL AUTO_INCREMENT,
  name VARCHAR(50) NOT NULL,
  job VARCHAR(50) DEFAULT '',
  PRIMARY KEY (id),
  UNIQUE KEY UQ_bench_name (name)
);

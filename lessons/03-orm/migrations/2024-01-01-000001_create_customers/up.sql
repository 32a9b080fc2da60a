-- The article's table, exactly as the workbook's shared schema has it (shared/migrations/), so
-- that this lesson's migrations and the other lessons' coexist in the same `sales` database:
-- `IF NOT EXISTS` makes this a no-op where the table is already there.
CREATE TABLE IF NOT EXISTS customers (
  id SMALLINT NOT NULL AUTO_INCREMENT,
  name VARCHAR(50) NOT NULL,
  job VARCHAR(50) DEFAULT '',
  PRIMARY KEY (id),
  UNIQUE KEY UQ_name (name)
);

-- The article's seed row, added once: `WHERE NOT EXISTS` spends no AUTO_INCREMENT value when
-- the row is already there.
INSERT INTO customers (name, job)
SELECT 'Lynn', 'Backend Developer' FROM DUAL
WHERE NOT EXISTS (SELECT 1 FROM customers WHERE name = 'Lynn');

-- The article's table, exactly: `id` is a SMALLINT, `job` is nullable with a default of ''.
CREATE TABLE IF NOT EXISTS customers (
  id SMALLINT NOT NULL AUTO_INCREMENT,
  name VARCHAR(50) NOT NULL,
  job VARCHAR(50) DEFAULT '',
  PRIMARY KEY (id),
  UNIQUE KEY UQ_name (name)
);

-- The article's seed row. `INSERT ... SELECT ... WHERE NOT EXISTS` adds it once and, unlike
-- `INSERT IGNORE`, spends no AUTO_INCREMENT value when it is already there.
INSERT INTO customers (name, job)
SELECT 'Lynn', 'Backend Developer' FROM DUAL
WHERE NOT EXISTS (SELECT 1 FROM customers WHERE name = 'Lynn');

# The workbook's everyday recipes. `just` alone lists them.

set shell := ["bash", "-euo", "pipefail", "-c"]

# The container `db-up` starts: the article's MySQL 8 on 127.0.0.1:13306, root/root.
db_container := "workbook-mysql"
db_image := env_var_or_default("WORKBOOK_MYSQL_IMAGE", "mysql:8.4")

# List the recipes.
default:
    @just --list

# Run lesson N, e.g. `just lesson 1`; pass arguments after it.
lesson N *ARGS:
    cargo run -p lesson-{{N}} -- {{ARGS}}

# Run lesson N's SQLAlchemy twin (N from 1 to 4) against the server the workbook brings; makes
# the Python environment in target/python from PyPI the first time.
python N:
    cargo run --quiet -p workbook --bin python-lesson -- {{N}}

# Run every test against a real server (the README's test command).
test *ARGS:
    cargo test --workspace {{ARGS}}

# Every test, including those that need a Docker daemon and a local mariadbd/mysqld.
test-all *ARGS:
    cargo test --workspace {{ARGS}} -- --include-ignored

# Write the captured outputs anew from real runs, on MySQL (Docker) and on MariaDB (a local
# server); review the diff before you commit. Needs Docker and `just mysql-image` (or an image
# in WORKBOOK_MYSQL_IMAGE), and mariadbd.
bless:
    image="${WORKBOOK_MYSQL_IMAGE:-$(shared/docker/build-image.sh mysql)}"; \
    env -u DATABASE_URL WORKBOOK_BLESS=1 WORKBOOK_MYSQL_IMAGE="$image" WORKBOOK_SERVER=docker \
        cargo test --workspace; \
    env -u DATABASE_URL WORKBOOK_BLESS=1 WORKBOOK_MYSQL_IMAGE="$image" WORKBOOK_SERVER=local \
        cargo test --workspace

# Build the workbook's MySQL image from Debian sid's packages (no registry needed); prints its
# tag. Then: export WORKBOOK_MYSQL_IMAGE=<that tag>.
mysql-image *ARGS:
    shared/docker/build-image.sh mysql {{ARGS}}

# Check your answers to lesson N's exercises; they fail until solved.
exercise N:
    cargo test -p workbook-tests --features exercises --test workbook -- exercises::lesson_{{N}}::

# Check the worked answers to every exercise (what CI does).
solutions:
    cargo test -p workbook-tests --features solutions --test workbook -- exercises::

# The cache is made against a fresh database with the shared migrations on a throwaway local
# server (`with-database`), the way CI checks it.
# Refresh the sqlx offline caches (`lessons/*/.sqlx/`) after changing a `query!`.
sqlx-prepare:
    cargo build --quiet -p workbook --bin with-database
    for dir in lessons/*/; do \
        if [ -d "$dir.sqlx" ]; then \
            echo "$dir"; \
            (cd "$dir" && env -u DATABASE_URL WORKBOOK_SERVER=local \
                cargo run --quiet -p workbook --bin with-database -- cargo sqlx prepare); \
        fi; \
    done

# Build the book into book/book, failing on any mdBook error or warning (a missing include).
book:
    book/check/build.sh

# Check every link in the book with mdbook-linkcheck2 (`cargo install --locked mdbook-linkcheck2`).
linkcheck:
    book/check/linkcheck.sh

# Build the book, open every page in headless Chromium (`apt-get install chromium`) and check it;
# keeps a screenshot of the concurrency chapter in target/book-check/.
browser-check: book
    python3 book/check/browser_check.py

# Serve the book on http://127.0.0.1:3000, rebuilding as you edit.
serve:
    mdbook serve book --hostname 127.0.0.1 --port 3000

# Start a long-lived MySQL 8 container on 127.0.0.1:13306 (root/root, database `sales`).
db-up:
    docker run -d --name {{db_container}} -p 127.0.0.1:13306:3306 \
        -e MYSQL_ROOT_PASSWORD=root -e MYSQL_DATABASE=sales {{db_image}} --skip-name-resolve >/dev/null
    @for i in $(seq 1 120); do \
        if docker exec {{db_container}} mysqladmin ping -h127.0.0.1 -uroot -proot --silent >/dev/null 2>&1; then \
            echo "MySQL is up: DATABASE_URL=mysql://root:***@127.0.0.1:13306/sales (password: root)"; exit 0; \
        fi; sleep 1; \
    done; echo "MySQL did not come up within 120 s: docker logs {{db_container}}" >&2; exit 1

# Remove the container that `db-up` started, and its data.
db-down:
    docker rm -f -v {{db_container}}

# Everything CI checks: formatting, lints, tests and the book.
check:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo test --workspace
    cargo test -p workbook-tests --features solutions --test workbook -- exercises::
    book/check/build.sh
    book/check/linkcheck.sh
    python3 book/check/browser_check.py

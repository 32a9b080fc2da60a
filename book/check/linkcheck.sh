#!/usr/bin/env bash
# Checks every link in the book's sources with mdbook-linkcheck2, which supports mdBook 0.5
# (the older mdbook-linkcheck does not). Install it with `cargo install --locked mdbook-linkcheck2`.
#
# It runs standalone rather than as a backend in book.toml: a second backend would move the HTML
# to book/book/html, and a reader without the checker installed would get a failed (or, with
# `optional = true`, a warning-laden) `mdbook build`. The settings go in through mdBook's
# environment overrides instead. Web links are not followed (CI's network may be closed); links
# between pages and to files are, and any problem fails the check. Fragments (`page.md#step-1`)
# are checked by the browser check, which sees the ids mdBook really generates.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v mdbook-linkcheck2 >/dev/null; then
  echo "mdbook-linkcheck2 is not installed: cargo install --locked mdbook-linkcheck2" >&2
  exit 1
fi
export MDBOOK_OUTPUT__LINKCHECK2='{"follow-web-links": false, "traverse-parent-directories": false, "warning-policy": "error"}'
mdbook-linkcheck2 --standalone --no-cache --colour never book
echo "link check: OK ($(mdbook-linkcheck2 --version))"

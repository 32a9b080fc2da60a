#!/usr/bin/env bash
# Builds the book into book/book, and fails on any error or warning that mdBook prints.
#
# mdBook 0.5.4 reports an include that names a missing file as an ERROR, leaves the raw
# `{{#include ...}}` in the page, and still exits 0; it has no setting that makes this fatal
# (an include with a missing anchor it fills with nothing, silently). So this script fails the
# build on such lines, the test `book::every_include_in_the_book_names_a_file_and_a_non_empty_anchor`
# catches missing files and anchors alike, and the browser check finds any raw include left.
set -euo pipefail
cd "$(dirname "$0")/../.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT
mdbook build book 2>&1 | tee "$log"
if grep -E '(ERROR|WARN) ' "$log" >/dev/null; then
  echo "book/check/build.sh: mdbook printed errors or warnings (above); failing the build" >&2
  exit 1
fi

# SPDX-License-Identifier: Apache-2.0
# Man pages, written by hand in mdoc: outrigd(8), outrig(1), outrig-components(5).
dist_man_MANS = man/outrig.1 man/outrig-components.5 man/outrigd.8

# Each page renders without a warning; outrigd(8) covers every flag of outrigd --help.
TESTS += tests/man_pages.sh
EXTRA_DIST += tests/man_pages.sh

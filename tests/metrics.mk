# SPDX-License-Identifier: Apache-2.0
# Metrics end to end: the real Prometheus scrapes outrigd (included from tests/local.mk).
TESTS += tests/metrics_prometheus.sh tests/metrics_scrape_load.sh
EXTRA_DIST += tests/metrics_prometheus.sh tests/metrics_scrape_load.sh

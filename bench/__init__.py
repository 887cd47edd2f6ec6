"""The benchmark: suite.py (make bench), pages.py and api.py (run on purpose), and before_views.py,
the pages that only the benchmark mounts (BENCH_BASELINE=1)."""

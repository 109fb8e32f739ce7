"""Thor's benchmark: `make bench` (or `.venv/bin/python -m bench.run [--quick]`). See bench/run.py."""

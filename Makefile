.PHONY: run test install lint typecheck bench-seed load clean

install:
	@scripts/bootstrap.sh

run: install
	@scripts/run.sh

# SQLite by default; PostgreSQL when DATABASE_URL is set. Two workers (this machine has 2 cores);
# PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2
test: install
	.venv/bin/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install
	.venv/bin/ruff check .

typecheck: install
	DEBUG=1 .venv/bin/mypy salesos territories routing planning analytics pages

bench-seed: install
	DEBUG=1 .venv/bin/python manage.py seed_demo --accounts 100000 --seed 1 --reset

# The whole stack under load (scripts/load.sh; README "Load test"): PostgreSQL database salesos_load.
load: install
	@scripts/load.sh

clean:
	rm -rf .venv .tools staticfiles

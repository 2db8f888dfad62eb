"""The benchmark helper runs and its indexed decisions equal brute force (no timing asserted)."""

from routing.engine.benchmark import build_plan, run


def test_benchmark_runs_on_a_small_plan():
    spec, _ = build_plan(700)
    assert len(spec.territories) == 700
    report = run(territories=700, records=300, check=300)
    assert report["brute_force_mismatches"] == 0 and report["assigned"] == 300
    assert {"p50_us", "p99_us", "build_ms", "always_checked"} <= set(report)

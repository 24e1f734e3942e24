"""On a small demo workspace, whose generator knows each conversation's true outcome and skipped policy steps."""

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_eval(tmp_path_factory):
    from deskmate.config import Settings
    from deskmate.db import make_engine, make_sessionmaker
    from deskmate.demo.build import build_demo
    from deskmate.outcomes.evaluation import evaluate_workspace

    settings = Settings(data_dir=tmp_path_factory.mktemp("demo"))
    engine = make_engine(settings.database_url)
    build = build_demo(settings, seed=5, conversations=1000, tenant="demo", reference_date="2026-11-20", engine=engine)
    result = evaluate_workspace(make_sessionmaker(engine), settings=settings, tenant_id=build.tenant_id)
    engine.dispose()
    return result


def test_resolution_on_a_time_ordered_hold_out(demo_eval):
    assert demo_eval["held-out conversations"] >= 100
    assert demo_eval["resolved-vs-not AUC"] >= 0.9
    assert demo_eval["resolution accuracy (4 outcomes)"] >= 0.8
    assert demo_eval["P(resolved) calibration error"] <= 0.1


def test_policy_adherence_against_the_skipped_steps(demo_eval):
    assert demo_eval["policy violations (truth)"] > 0
    assert demo_eval["policy-adherence precision"] >= 0.95 and demo_eval["policy-adherence recall"] >= 0.95
